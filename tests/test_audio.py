import av
import numpy as np
import pytest

from generator.audio import features, load_audio, mix_under, n_video_frames
from likeness.errors import UserError
from tests.conftest import write_wav

RATE = 16_000


def _bursts(seconds=2.0, f0=200.0):
    """A harmonic 'voice' that is on for 0.2 s, off for 0.2 s."""
    t = np.arange(int(seconds * RATE)) / RATE
    tone = sum(np.sin(2 * np.pi * f0 * k * t) / k for k in range(1, 6)) * 0.3
    gate = (np.floor(t / 0.2) % 2 == 0).astype(float)
    return (tone * gate).astype(np.float32), gate


def test_features_track_level_and_pitch(tmp_path):
    x, gate = _bursts()
    a = load_audio(write_wav(tmp_path / "b.wav", x, RATE))
    f = features(a, 25)
    assert len(f) == n_video_frames(2.0, 25) == 50 and f.mel.shape == (50, 80)
    on = gate[:: RATE // 25][:50] > 0
    inner = on & np.roll(on, 1) & np.roll(on, -1)     # frames fully inside a burst
    quiet = ~on & ~np.roll(on, 1) & ~np.roll(on, -1)
    assert f.energy_db[inner].min() > f.energy_db[quiet].max() + 30
    assert np.median(f.pitch[inner]) == pytest.approx(200, rel=0.03)
    assert (f.pitch[quiet] == 0).all()


@pytest.mark.parametrize("codec,ext", [("flac", "flac"), ("aac", "m4a"), ("libmp3lame", "mp3")])
def test_decodes_compressed_formats(tmp_path, codec, ext):
    x, _ = _bursts(1.0)
    path = tmp_path / f"a.{ext}"
    with av.open(str(path), "w") as c:
        s = c.add_stream(codec, rate=44_100 if codec == "libmp3lame" else RATE)
        s.layout = "mono"
        fmt = {"flac": "s16", "aac": "fltp", "libmp3lame": "fltp"}[codec]
        data = x if fmt == "fltp" else (x * 32767).astype(np.int16)
        if codec == "libmp3lame":
            from generator.audio import Audio, resample
            data = resample(Audio(x, RATE), 44_100).samples
        frame = av.AudioFrame.from_ndarray(data.reshape(1, -1), format=fmt, layout="mono")
        frame.sample_rate = s.rate
        for p in s.encode(frame):
            c.mux(p)
        c.mux(s.encode(None))
    a = load_audio(path)
    assert a.duration == pytest.approx(1.0, abs=0.1)  # encoder priming and padding


def test_stereo_is_mixed_to_mono(tmp_path):
    import wave

    x, _ = _bursts(0.5)
    pcm = (np.stack([x, -x * 0.5], 1) * 32767).astype("<i2")
    with wave.open(str(tmp_path / "s.wav"), "wb") as w:
        w.setnchannels(2), w.setsampwidth(2), w.setframerate(RATE)
        w.writeframes(pcm.tobytes())
    a = load_audio(tmp_path / "s.wav", RATE)
    assert a.samples.ndim == 1 and a.duration == pytest.approx(0.5, abs=0.01)


@pytest.mark.parametrize("make,message", [
    (lambda p: None, "not found"),
    (lambda p: p.write_text("hello, I am not audio"), "unreadable audio"),
    (lambda p: write_wav(p, np.zeros(0), RATE), "empty"),
    (lambda p: write_wav(p, np.zeros(RATE), RATE), "silent"),
])
def test_bad_audio_is_a_clear_error(tmp_path, make, message):
    p = tmp_path / "bad.wav"
    make(p)
    with pytest.raises(UserError, match=message):
        load_audio(p)


def test_image_is_not_audio(mona_lisa):
    with pytest.raises(UserError, match="unreadable audio|no audio stream"):
        load_audio(mona_lisa)


@pytest.mark.parametrize("rate_in", [48_000, 32_000, 44_100])
def test_resampling_to_16k_matches_scipys_polyphase_filter(rate_in):
    from scipy.signal import resample_poly

    from generator.audio import Audio, resample

    x = np.random.default_rng(0).standard_normal(rate_in * 2 + 7).astype(np.float32)
    ours = resample(Audio(x, rate_in), 16_000).samples
    g = np.gcd(rate_in, 16_000)
    ref = resample_poly(x, 16_000 // g, rate_in // g)
    assert ours.shape == ref.shape and np.abs(ours - ref).max() < 1e-5


def test_generation_features_do_not_import_scipy_signal(speech_3s):
    """scipy.signal takes about a second to import; a cold `likeness generate` (48 kHz audio) must not pay it."""
    import subprocess
    import sys

    code = ("import sys; from generator.audio import features, load_audio; "
            f"features(load_audio({str(speech_3s)!r}), 25.0); print('scipy.signal' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == "False"


def test_mix_under_sets_the_signal_to_noise_ratio():
    rng = np.random.default_rng(0)
    speech, noise = 0.1 * rng.standard_normal(16_000), 0.5 * rng.standard_normal(7_000)
    for snr in (0.0, 10.0, 20.0):
        added = mix_under(speech, noise, snr) - speech
        assert abs(10 * np.log10(np.mean(speech ** 2) / np.mean(added ** 2)) - snr) < 0.05
    assert np.array_equal(mix_under(speech.astype(np.float32), noise, None), speech.astype(np.float32))
