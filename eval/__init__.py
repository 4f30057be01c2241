"""Evaluation harness: realism and detectability side by side, tracked in MLflow (`likeness eval run`).

`run` orchestrates a suite (`suite`): renders fakes, cuts real segments (`clips`), judges realism with
independent networks (`judges`, `realism`, `lipsync`, `motion`), pushes everything through the
perturbation matrix (`perturb`) and the detectors (`detectors`, `roc`), then `summary`, `plots` and
`report` turn the measurements into metrics.json, PNG plots and report.html.
"""
