"""The `likeness` console script: a thin front door; each package registers its own subcommands."""
from __future__ import annotations

import typer

from likeness import __version__

app = typer.Typer(no_args_is_help=True, add_completion=False, pretty_exceptions_enable=False,
                  help="Likeness: talking-face generation with provenance, and the tools to detect it.")


def _version(value: bool) -> None:
    if value:
        typer.echo(f"likeness {__version__}")
        raise typer.Exit()


@app.callback()
def main(version: bool = typer.Option(False, "--version", callback=_version, is_eager=True, help="Show the version.")) -> None:
    """Likeness: talking-face generation with provenance, and the tools to detect it."""
    from likeness.console import filter_native_logs

    filter_native_logs()  # the console script's choice: libraries leave the process's stderr alone


train_app = typer.Typer(no_args_is_help=True, help="Prepare data and train models (logged to MLflow).")
app.add_typer(train_app, name="train")


def _register() -> None:
    from detector.cli import register as detector_commands
    from eval.cli import register as eval_commands
    from likeness.web.cli import register as web_commands
    from generator.cli import register as generator_commands
    from provenance.cli import register as provenance_commands

    generator_commands(app, train_app)
    provenance_commands(app)
    detector_commands(app, train_app)
    eval_commands(app)
    web_commands(app)


_register()

if __name__ == "__main__":
    app()
