"""Signing identities: a local CA plus an ES256 signing certificate, or the user's own chain, key or callback."""
from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from likeness.errors import UserError

CA_CERT, CA_KEY, SIGNER_CHAIN, SIGNER_KEY = "ca.pem", "ca.key", "signer.pem", "signer.key"


def keys_dir() -> Path:
    """$LIKENESS_HOME/keys, else $XDG_CONFIG_HOME/likeness/keys, else ~/.config/likeness/keys (never the repo)."""
    home = os.environ.get("LIKENESS_HOME")
    base = Path(home) if home else Path(os.environ.get("XDG_CONFIG_HOME", Path.home() / ".config")) / "likeness"
    return base / "keys"


def _write(path: Path, data: bytes, private: bool) -> None:
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600 if private else 0o644)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def init_keys(directory: Path | None = None, force: bool = False, organization: str = "Likeness local") -> Path:
    """Create a local CA and an ES256 signing certificate it issued; private keys are written 0600."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    d = directory or keys_dir()
    if (d / SIGNER_KEY).exists() and not force:
        raise UserError(f"signing keys already exist in {d}; pass --force to replace them")
    d.mkdir(parents=True, exist_ok=True, mode=0o700)
    now = dt.datetime.now(dt.timezone.utc)

    def name(cn: str) -> x509.Name:
        return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn), x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization)])

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (x509.CertificateBuilder().subject_name(name(f"{organization} CA")).issuer_name(name(f"{organization} CA"))
          .public_key(ca_key.public_key()).serial_number(x509.random_serial_number())
          .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=3650))
          .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
          .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
          .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
          .sign(ca_key, hashes.SHA256()))
    leaf = (x509.CertificateBuilder().subject_name(name(f"{organization} signer")).issuer_name(ca.subject)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1)).not_valid_after(now + dt.timedelta(days=730))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(True, False, False, False, False, False, False, False, False), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    pkcs8 = (pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write(d / CA_KEY, ca_key.private_bytes(*pkcs8), private=True)
    _write(d / SIGNER_KEY, key.private_bytes(*pkcs8), private=True)
    _write(d / CA_CERT, ca.public_bytes(pem), private=False)
    _write(d / SIGNER_CHAIN, leaf.public_bytes(pem) + ca.public_bytes(pem), private=False)
    return d


@dataclass(frozen=True)
class SigningIdentity:
    """What signs a manifest: a PEM chain (leaf first) with its private key, or a callback (KMS/HSM).

    `sign_callback(data) -> DER ECDSA signature` keeps the key outside this process."""

    chain_pem: bytes
    key_pem: bytes | None = None
    sign_callback: Callable[[bytes], bytes] | None = None

    def signer(self):
        import c2pa

        if self.sign_callback is not None:
            return c2pa.Signer.from_callback(self.sign_callback, c2pa.C2paSigningAlg.ES256, self.chain_pem.decode(), None)
        return c2pa.Signer.from_info(c2pa.C2paSignerInfo(b"es256", self.chain_pem, self.key_pem, None))


def load_identity(cert: Path | None = None, key: Path | None = None, directory: Path | None = None) -> SigningIdentity:
    """The user's chain and key if given, else the local keys; a clear error says how to create them."""
    if (cert is None) != (key is None):
        raise UserError("--cert and --key go together: give both (your chain and its private key) or neither")
    d = directory or keys_dir()
    cert, key = cert or d / SIGNER_CHAIN, key or d / SIGNER_KEY
    if not cert.is_file() or not key.is_file():
        raise UserError(f"no signing key found ({cert}); create one with `likeness keys init` "
                        "or pass your own certificate chain and key. Likeness never writes unsigned media.")
    return SigningIdentity(cert.read_bytes(), key.read_bytes())


def trust_anchors(extra: list[Path] | None = None, directory: Path | None = None) -> str:
    """PEM trust anchors for verification: the local CA (if any) plus user-supplied ones."""
    paths = [(directory or keys_dir()) / CA_CERT] + list(extra or [])
    pems = []
    from cryptography import x509

    for p in paths:
        if p.is_file():
            try:
                pem = p.read_bytes().decode("ascii")
                x509.load_pem_x509_certificates(pem.encode())
            except (UnicodeDecodeError, ValueError):
                raise UserError(f"trust file {p} is not a PEM certificate (-----BEGIN CERTIFICATE----- ...)") from None
            pems.append(pem)
        elif p in (extra or []):
            raise UserError(f"trust anchor file not found: {p}")
    return "\n".join(pems)
