"""MLflow set-up shared by every training and evaluation run: an embedded local store unless told otherwise."""
from __future__ import annotations

import logging
from pathlib import Path

DEFAULT_STORE = Path("mlruns")


def tracking_uri(uri: str | None = None) -> str:
    """`uri` if given (a server or another store), else the embedded SQLite store ./mlruns/mlflow.db."""
    if uri:
        return uri
    DEFAULT_STORE.mkdir(exist_ok=True)
    return f"sqlite:///{(DEFAULT_STORE / 'mlflow.db').resolve()}"


def start_mlflow(uri: str | None, experiment: str):
    """Point MLflow at the store, select the experiment, keep its INFO chatter off the terminal; returns mlflow."""
    for name in ("mlflow", "alembic"):
        logging.getLogger(name).setLevel(logging.WARNING)
    import mlflow

    from likeness.errors import UserError

    uri = tracking_uri(uri)
    mlflow.set_tracking_uri(uri)
    try:
        if uri.startswith("sqlite:///") and mlflow.get_experiment_by_name(experiment) is None:
            # a new experiment's artifacts live beside its database: MLflow's default is ./mlruns under whatever
            # directory the run was started from, so a store elsewhere scattered its files into the working folder
            home = Path(uri[len("sqlite:///"):]).resolve().parent / experiment
            mlflow.create_experiment(experiment, artifact_location=home.as_uri())
        mlflow.set_experiment(experiment)
    except Exception as e:  # an unreachable server, a retired file store, a bad URI
        raise UserError(f"cannot use the MLflow tracking store {uri}: {str(e).strip().split('. ')[0]}") from None
    return mlflow
