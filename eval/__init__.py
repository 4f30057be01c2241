"""Evaluation harness: realism and detectability side by side, tracked in MLflow (issue #6).

Not implemented yet: this package holds no code so far.
"""
