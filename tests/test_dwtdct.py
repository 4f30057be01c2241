"""Our vectorised dwtDct embedder against the invisible-watermark library, both ways."""
import numpy as np
import pytest

from provenance.dwtdct import WatermarkConfig, decode_bits, embed, psnr

imwatermark = pytest.importorskip("imwatermark")


@pytest.fixture(scope="module")
def bgr(frame512):
    return np.ascontiguousarray(frame512[:, :, ::-1])


BITS = np.random.default_rng(5).integers(0, 2, 64)


def test_library_reads_our_marks(bgr):
    ours = embed(bgr, BITS)
    lib_bits = np.array(imwatermark.WatermarkDecoder("bits", 64).decode(ours, "dwtDct"), int)
    assert (lib_bits == BITS).mean() == 1.0
    assert (decode_bits(ours) == BITS).mean() == 1.0
    assert psnr(bgr, ours) > 35


def test_we_read_library_marks_as_well_as_it_does(bgr):
    enc = imwatermark.WatermarkEncoder()
    enc.set_watermark("bits", list(BITS))
    marked = enc.encode(bgr, "dwtDct")
    lib_acc = (np.array(imwatermark.WatermarkDecoder("bits", 64).decode(marked, "dwtDct"), int) == BITS).mean()
    our_acc = (decode_bits(marked) == BITS).mean()
    assert our_acc >= lib_acc - 0.05 and our_acc > 0.75


def test_unmarked_frame_reads_as_chance(bgr):
    assert 0.25 < (decode_bits(bgr) == BITS).mean() < 0.75


def test_strength_is_configurable(bgr):
    weak, strong = embed(bgr, BITS, WatermarkConfig(scale=20)), embed(bgr, BITS, WatermarkConfig(scale=36))
    assert psnr(bgr, weak) > psnr(bgr, strong)
