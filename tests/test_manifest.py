"""Real C2PA signing and validation with keys made by `init_keys`."""
import os
import stat

import numpy as np
import pytest
from PIL import Image

from likeness.errors import UserError
from provenance.keys import init_keys, load_identity, trust_anchors
from provenance.manifest import build_manifest, mime_of, read_manifest, sign_file


@pytest.fixture()
def png(tmp_path):
    p = tmp_path / "frame.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (64, 64, 3), np.uint8)).save(p)
    return p


def _manifest(tmp_path, png):
    return build_manifest("frame.png", {"seed": 1}, {"portrait": png}, {"scheme": "x", "payload": "00"})


def test_keys_are_private_and_not_overwritten(tmp_path):
    d = init_keys(tmp_path / "k")
    for name in ("ca.key", "signer.key"):
        assert stat.S_IMODE(os.stat(d / name).st_mode) == 0o600
    with pytest.raises(UserError, match="already exist"):
        init_keys(d)
    init_keys(d, force=True)


def test_missing_keys_say_how_to_create_them(tmp_path):
    with pytest.raises(UserError, match="likeness keys init"):
        load_identity(directory=tmp_path / "none")


def test_sign_and_validate_png(tmp_path, png):
    out = tmp_path / "signed.png"
    sign_file(png, out, _manifest(tmp_path, png), load_identity())
    r = read_manifest(out, trust_anchors())
    assert r.present and r.valid and r.trusted and r.ai_generated
    assert r.ingredients[0]["instance_id"].startswith("sha256:")
    assert r.watermark == {"scheme": "x", "payload": "00"}
    assert stat.S_IMODE(os.stat(out).st_mode) & 0o044  # readable by others, like any new file


def test_untrusted_signer(tmp_path, png):
    other = init_keys(tmp_path / "other")
    out = tmp_path / "signed.png"
    sign_file(png, out, _manifest(tmp_path, png), load_identity(directory=other))
    r = read_manifest(out, trust_anchors())          # trusts only our CA, not `other`'s
    assert r.present and r.valid and not r.trusted
    assert read_manifest(out, trust_anchors(directory=other)).trusted


def test_unsigned_corrupt_and_unsupported(tmp_path, png):
    assert not read_manifest(png).present
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00\x00\x00\x18ftypisom" + b"\x00" * 64)
    r = read_manifest(bad)
    assert not r.valid
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(UserError, match="unsupported format"):
        mime_of(tmp_path / "notes.txt")


def test_signing_failure_leaves_nothing(tmp_path, png):
    broken = load_identity()
    broken = type(broken)(broken.chain_pem, b"-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n")
    out = tmp_path / "never.png"
    with pytest.raises(UserError, match="signing failed"):
        sign_file(png, out, _manifest(tmp_path, png), broken)
    assert not out.exists() and not list(tmp_path.glob(".never*"))


def test_callback_signer_keeps_the_key_outside(tmp_path, png):
    """A KMS/HSM-style signer: only a callback that returns an ECDSA signature crosses the boundary."""
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec

    from provenance.keys import SigningIdentity

    own = load_identity()
    hsm_key = serialization.load_pem_private_key(own.key_pem, None)   # stands in for the HSM's key
    identity = SigningIdentity(own.chain_pem, sign_callback=lambda data: hsm_key.sign(data, ec.ECDSA(hashes.SHA256())))
    out = tmp_path / "hsm.png"
    sign_file(png, out, _manifest(tmp_path, png), identity)
    assert read_manifest(out, trust_anchors()).trusted
