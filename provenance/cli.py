"""`likeness keys …` and `likeness verify`: provenance's front door."""
from __future__ import annotations

import json
from pathlib import Path

import typer

from likeness.console import friendly_errors
from likeness.errors import UserError

keys_app = typer.Typer(no_args_is_help=True, help="Create and inspect the local signing keys.")


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.command("verify")(verify)


@keys_app.command("init")
@friendly_errors
def keys_init(
    directory: Path = typer.Option(None, "--dir", help="Where to write the keys (default: per-user config dir)."),
    force: bool = typer.Option(False, "--force", help="Replace existing keys."),
    exist_ok: bool = typer.Option(False, "--exist-ok", help="Succeed quietly if keys already exist."),
    organization: str = typer.Option("Likeness local", help="Organisation named in the certificates."),
) -> None:
    """Create a local CA and an ES256 signing certificate (private keys 0600, outside the repo)."""
    from provenance.keys import SIGNER_KEY, init_keys, keys_dir

    d = directory or keys_dir()
    if exist_ok and not force and (d / SIGNER_KEY).exists():
        typer.echo(f"signing keys already in {d}")
        return
    d = init_keys(d, force=force, organization=organization)
    typer.echo(f"created a local CA and signing certificate in {d}\n"
               f"verifiers must trust {d / 'ca.pem'} (likeness verify does so by default on this machine)")


@keys_app.command("show")
@friendly_errors
def keys_show(directory: Path = typer.Option(None, "--dir")) -> None:
    """Show where the keys are and who they name."""
    from cryptography import x509

    from provenance.keys import SIGNER_CHAIN, load_identity, keys_dir

    d = directory or keys_dir()
    load_identity(directory=d)
    leaf = x509.load_pem_x509_certificates((d / SIGNER_CHAIN).read_bytes())[0]
    typer.echo(f"{d}\n  subject: {leaf.subject.rfc4514_string()}\n  issuer:  {leaf.issuer.rfc4514_string()}\n"
               f"  valid until {leaf.not_valid_after_utc:%Y-%m-%d}")


@friendly_errors
def verify(
    file: Path = typer.Argument(..., help="Video or image to check."),
    as_json: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
    trust: list[Path] = typer.Option([], "--trust", help="Extra trusted CA certificate (PEM); repeatable."),
    max_frames: int = typer.Option(250, min=1, help="Frames of a video read for the watermark."),
) -> None:
    """Check a file's C2PA manifest and Likeness watermark.

    Exit codes: 0 verified, 1 no provenance, 2 tampered/invalid/untrusted, 3 error, 4 watermark only.
    """
    from provenance.keys import trust_anchors
    from provenance.verify import EXIT_CODES, verify as run

    anchors = trust_anchors(trust)  # a bad trust file is an input error (2), found before any verification
    try:
        report = run(file, anchors, max_frames)
    except UserError as e:  # the file itself could not be read: the documented "error" (3), in JSON too
        if as_json:
            typer.echo(json.dumps({"file": str(file), "verdict": "error", "status": "error", "error": str(e),
                                   "exit_code": EXIT_CODES["error"]}, indent=2))
        else:
            typer.secho(f"error: {e}", err=True, fg="red")
        raise typer.Exit(EXIT_CODES["error"]) from None
    if as_json:
        typer.echo(json.dumps(report.to_dict(), indent=2))
    else:
        m, w = report.manifest, report.watermark
        typer.echo(report.summary)
        typer.echo(f"  manifest:  {'present' if m.present else 'absent'}"
                   + (f", {m.state}, signer {m.signer} ({m.issuer}), AI-generated: {'yes' if m.ai_generated else 'no'}" if m.present else ""))
        if m.ingredients:
            typer.echo("  inputs:    " + "; ".join(f"{i['title']} {i['instance_id'][:19]}…" for i in m.ingredients))
        typer.echo(f"  watermark: {'found, payload ' + w.payload + f', confidence {w.confidence:.2f}, {w.frames} frames' if w.found else f'not found ({w.frames} frames read)'}")
        if report.agree is not None:
            typer.echo(f"  manifest and watermark {'agree' if report.agree else 'DISAGREE'}")
    raise typer.Exit(report.exit_code)
