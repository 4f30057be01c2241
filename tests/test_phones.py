"""Phonetic features: real pocketsphinx decoding, viseme classes, block-wise streaming, the known-answer GRID test."""
import numpy as np
import pytest

from eval.lipsync import CLOSED_GAP, closure_rate, grid_sentence
from generator.audio import Audio, features, load_audio
from generator.phones import BLOCK_S, CONTEXT_S, PHONE_VISEME, RATE, VISEMES, align_text, decode_block, \
    decode_phones, final_seconds, viseme_matrix

GRID = "lipnet_GRID_lrwp9a"  # a GRID speaker held out of all training (likeness.shared_data.GRID_HELD_OUT)


@pytest.fixture(scope="module")
def grid(shared):
    path = shared / "real_videos" / f"{GRID}.mpg"
    return path, load_audio(path, RATE).samples


def test_grid_sentence_from_file_name():
    assert grid_sentence("lipnet_GRID_bbaf2n") == "bin blue at f two now"
    assert grid_sentence("osalgrid_s1_pgwe6n") == "place green with e six now"
    with pytest.raises(ValueError):
        grid_sentence("vrt")


def test_phone_loop_finds_the_bilabials_of_a_known_sentence(grid):
    _, x = grid
    phones = decode_phones(x)
    assert phones[0].start == 0 and phones[-1].end == pytest.approx(len(x) / RATE, abs=0.02)
    assert all(a.end == pytest.approx(b.start) for a, b in zip(phones, phones[1:]))  # contiguous
    assert all(p.name in PHONE_VISEME for p in phones)
    aligned = align_text(x, grid_sentence(GRID))  # "lay red with p nine again": /p/ once
    bilabials = [p for p in aligned if p.viseme == "closed"]
    assert bilabials
    decoded = [p for p in phones if p.viseme == "closed"]
    assert any(q.start <= p.end + 0.04 and q.end >= p.start - 0.04 for p in bilabials for q in decoded)
    speech = sum(p.end - p.start for p in phones if p.viseme != "rest")
    assert 0.8 < speech < 2.5  # about 1.5 s of the 3 s clip is speech


def test_another_phone_loop_decodes_alone_and_the_shipped_one_equals_its_cached_self(grid):
    """Benchmarks decode with other settings through the same block code; the shipped settings give the cached
    result, and a lower language weight hears at least as many phones."""
    from generator.phones import phone_decoder, clear_cache

    _, x = grid
    clear_cache()
    shipped = decode_phones(x)
    assert decode_phones(x, phone_decoder(cmn="batch")) == shipped
    assert len(decode_phones(x, phone_decoder(cmn="batch", lw=0.5))) >= len(shipped)


def test_viseme_matrix_shares_sum_to_one(grid):
    _, x = grid
    n = int(len(x) / RATE * 25)
    v = viseme_matrix(decode_phones(x), n, 25)
    assert v.shape == (n, len(VISEMES)) and np.allclose(v.sum(1), 1)
    assert v[:5, VISEMES.index("rest")].min() > 0.9  # GRID clips open with silence


def test_blocks_are_final_once_their_context_has_arrived(grid):
    _, x = grid
    k = 1
    enough = int(((k + 1) * BLOCK_S + CONTEXT_S) * RATE)
    assert final_seconds(enough) == (k + 1) * BLOCK_S
    assert decode_block(x[:enough], k) == decode_block(x, k)
    features_stream = features(Audio(x[:enough], RATE), 25).visemes[: int(final_seconds(enough) * 25)]
    assert np.allclose(features_stream, features(Audio(x, RATE), 25).visemes[: len(features_stream)])


def test_silence_noise_and_tiny_clips_give_rest_or_phones_never_a_crash():
    rng = np.random.default_rng(0)
    silent = features(Audio(np.zeros(RATE, np.float32), RATE), 25).visemes  # the phone loop may hear a "th" in it
    assert np.all(silent[:, VISEMES.index("rest")] == 1)
    noise = decode_phones((0.3 * rng.standard_normal(RATE)).astype(np.float32))
    assert noise and all(p.name in PHONE_VISEME for p in noise)
    tiny = features(Audio((0.1 * rng.standard_normal(RATE // 10)).astype(np.float32), RATE), 25)
    assert tiny.visemes.shape == (len(tiny), len(VISEMES)) and np.allclose(tiny.visemes.sum(1), 1)


def test_closure_rate_counts_spans_with_a_closed_frame():
    mouth = np.array([0.1, 0.1, 0.01, 0.1, 0.1, 0.1, 0.1, 0.1])
    assert closure_rate(mouth, [(0.0, 0.04), (0.2, 0.24)], 25, CLOSED_GAP, tol=1) == (0, 2)
    assert closure_rate(mouth, [(0.04, 0.08), (0.2, 0.24)], 25, CLOSED_GAP, tol=1) == (1, 2)


@pytest.mark.slow
def test_known_answer_lips_close_on_p_b_m(shared):
    """GRID sentences are known: forced-align them, render each clip's first frame speaking its own audio with the
    viseme table (procedural motion, the surest closures; the DiT's are in benchmarks/RESULTS.md), and check with
    dlib (not our face mesh) that the lips close at >= 80% of /p b m/, as the real footage does under the same judge."""
    from eval.judges import mouth_track
    from generator.face.analysis import analyze
    from generator.motion.controls import Controls
    from generator.motion.procedural import procedural_motion
    from generator.render.renderer import make_renderer
    from generator.video import probe, read_frames

    real, ours = np.zeros(2, int), np.zeros(2, int)
    for name in ("lipnet_GRID_lrwp9a", "lipnet_GRID_pwij3p", "lipnet_id2_vcd_swwp2s"):
        path = shared / "real_videos" / f"{name}.mpg"
        audio = load_audio(path, RATE)
        spans = [(p.start, p.end) for p in align_text(audio.samples, grid_sentence(name)) if p.viseme == "closed"]
        frames = list(read_frames(path))
        real += closure_rate(mouth_track(frames), spans, probe(path)["fps"])
        portrait = analyze(frames[0], 256, what=name)
        motion = procedural_motion(features(audio, 25), Controls(), 0, portrait.mouth_open)
        renderer = make_renderer(portrait)
        ours += closure_rate(mouth_track(renderer.render(p, e) for p, e in zip(motion.pose, motion.expr)), spans, 25)
    assert real[1] >= 4
    assert real[0] / real[1] >= 0.8
    assert ours[0] / ours[1] >= 0.8, f"lips closed at {ours[0]} of {ours[1]} /p b m/ (real footage: {real[0]})"


def test_a_block_decodes_the_same_whatever_was_decoded_before(grid, shared):
    """The phone loop's front end adapts to the audio it hears; each block must start afresh, or streaming,
    caching and test order would change the phones."""
    from generator.phones import _decode, _pcm, _phone_loop

    _, x = grid
    first = _decode(_phone_loop(), _pcm(x), 0.0)
    other = load_audio(shared / "speech" / "st_chinese_news.wav", RATE).samples
    for _ in range(3):
        _decode(_phone_loop(), _pcm(other[: 3 * RATE]), 0.0)
    assert _decode(_phone_loop(), _pcm(x), 0.0) == first
