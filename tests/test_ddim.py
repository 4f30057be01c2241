"""The motion DiT's numpy sampler draws torch's noise, so a checkpoint samples the same motion with or without torch."""
import numpy as np
import pytest

from generator.motion.ddim import alpha_bar, torch_randn


@pytest.mark.parametrize("seed", [0, 7, 300_011, 2**31 + 5])
@pytest.mark.parametrize("shape", [(1, 50, 17), (3, 20, 17), (4, 4)])
def test_torch_randn_is_torchs_randn(seed, shape):
    torch = pytest.importorskip("torch")
    want = torch.randn(*shape, generator=torch.Generator().manual_seed(seed)).numpy()
    got = torch_randn(seed, shape)
    assert got.dtype == np.float32 and got.shape == want.shape
    assert np.abs(got - want).max() < 1e-6


def test_torch_randn_refuses_fewer_than_16_values():
    with pytest.raises(ValueError, match="at least 16"):
        torch_randn(0, (3, 5))


def test_noise_schedule_runs_from_noise_to_signal():
    ab = alpha_bar(np.linspace(0, 1, 9))
    assert ab[0] > 0.999 and ab[-1] < 1e-4 and np.all(np.diff(ab) < 0) and ab.dtype == np.float32
