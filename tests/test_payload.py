import math

import numpy as np

from provenance.payload import FALSE_POSITIVE_BOUND, Payload, agreement_threshold, decode


def test_round_trip_and_hex():
    p = Payload.new(0x1234)
    assert decode(p.bits() * 2.0 - 1.0) == (p, 0)
    assert Payload.from_hex(p.hex) == p and len(p.hex) == 16
    assert Payload.from_hex("00" * 8) is None


def test_corrects_unreliable_bit_errors():
    p = Payload.new(777)
    soft = (p.bits() * 2.0 - 1.0) * np.linspace(1.0, 2.0, 64)
    wrong = [3, 40, 61]
    soft[wrong] *= -0.1          # three flipped, low-confidence bits
    assert decode(soft) == (p, 3)


def test_random_words_do_not_pass():
    rng = np.random.default_rng(0)
    hits = sum(decode(rng.normal(size=64))[0] is not None for _ in range(5_000))
    assert hits == 0                                        # expected 5000 * 6e-8 ≈ 3e-4
    assert FALSE_POSITIVE_BOUND < 1e-6


def test_binomial_threshold():
    k = agreement_threshold()
    tail = lambda k: sum(math.comb(64, i) for i in range(k, 65)) / 2**64  # noqa: E731
    assert tail(k) <= 1e-6 < tail(k - 1)
