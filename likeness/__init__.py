"""Likeness: a VASA-style talking-face generator shipped together with its antidote."""

__version__ = "0.1.0"
