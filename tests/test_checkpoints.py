"""Committed checkpoints load one way (`likeness.checkpoints`): a missing or damaged one is one clear line."""
import pytest

from detector.model import Detector
from generator.motion.dit_motion import DiTMotion
from likeness.errors import UserError


@pytest.mark.parametrize("load, what, hint", [(DiTMotion.load, "motion", "make train-motion"),
                                              (Detector.load, "detector", "make train-detector")])
def test_missing_and_damaged_checkpoints_are_clear_errors(load, what, hint, tmp_path):
    with pytest.raises(UserError, match=f"{what} checkpoint not found: .*missing.pt; run `{hint}`"):
        load(tmp_path / "missing.pt")
    (tmp_path / "cut.pt").write_bytes(b"PK\x03\x04" + bytes(100))
    with pytest.raises(UserError, match=f"corrupt or incompatible {what} checkpoint .*cut.pt"):
        load(tmp_path / "cut.pt")
