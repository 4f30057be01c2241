"""Deepfake detector: a timm classifier trained on the generator's output against real footage (issue #5).

Not implemented yet: this package holds no code so far.
"""
