"""Self-reference: what our renderer makes of the suspect's own face, as the baseline for its score.

A person's looks shift the classifier's logits as a whole (some faces simply look more "rendered" than
others), while for one person it ranks real footage below renderings almost without fail. So `likeness
scan --reference` re-animates one frame of the suspect video with the generator's renderer and scores those
reference crops; the verdict is calibrated on (suspect logit, reference logit), meant to cancel the person
(`detector.calibration`).
Experimental: the reference logit also depends on which frame it starts from (benchmarks/RESULTS.md).

The reference goes through what the training fakes went through (256 px canvas, procedural motion driven by
a synthetic speech-like signal, the generator's watermark, an H.264 round trip at CRF 18), in memory: it is
never written out, so it needs no signing keys and leaves no unsigned file behind.
"""
from __future__ import annotations

import io

import numpy as np

REF_SIZE = 256      # generator canvas of the training fakes
REF_SECONDS = 4.0
REF_RATE = 4.0      # crops per second of reference
FPS = 25.0


def speech_like(seconds: float, rate: int = 16_000, seed: int = 0) -> np.ndarray:
    """Deterministic stand-in for speech: a 110-170 Hz voiced buzz in 3-6 Hz syllables with short pauses."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    f0 = 140 + 30 * np.sin(2 * np.pi * 0.7 * t + rng.uniform(0, 6.3))
    voice = sum(np.sin(2 * np.pi * k * np.cumsum(f0) / rate) / k for k in range(1, 12))
    env = np.zeros_like(t)
    pos = 0.1
    while pos < seconds:
        dur = rng.uniform(0.16, 0.33)
        m = (t >= pos) & (t < pos + dur)
        env[m] = np.sin(np.pi * (t[m] - pos) / dur) * rng.uniform(0.5, 1.0)
        pos += dur + (rng.uniform(0.3, 0.6) if rng.random() < 0.15 else rng.uniform(0.0, 0.06))
    x = voice * env + rng.normal(0, 0.002, len(t))
    return (0.3 * x / (np.abs(x).max() + 1e-9)).astype(np.float32)


def h264_round_trip(frames: list[np.ndarray], fps: float = FPS, crf: int = 18) -> list[np.ndarray]:
    """Encode RGB frames as the generator's writer does and decode them again, in memory."""
    import av

    from generator.video import add_h264_stream

    buf = io.BytesIO()
    h, w = frames[0].shape[:2]
    with av.open(buf, "w", format="mp4") as c:
        s = add_h264_stream(c, fps, (w, h), crf)
        for i, f in enumerate(frames):
            vf = av.VideoFrame.from_ndarray(np.ascontiguousarray(f), format="rgb24")
            vf.pts = i
            c.mux(s.encode(vf))
        c.mux(s.encode(None))
    buf.seek(0)
    with av.open(buf, "r") as c:
        return [f.to_ndarray(format="rgb24") for f in c.decode(video=0)]


def reference_frames(rgb: np.ndarray, seed: int = 0) -> list[np.ndarray]:
    """Frames of a rendering of the largest face in `rgb`, sampled REF_RATE times per second
    (raises UserError when there is no face)."""
    from generator.audio import Audio, features
    from generator.face.analysis import analyze
    from generator.motion.controls import Controls
    from generator.motion.procedural import procedural_motion
    from generator.render.renderer import make_renderer
    from provenance.payload import Payload
    from provenance.spread import SpreadMark

    # the renderer the shipped calibration was fitted with (detector/assets/detector.pt predates v2)
    renderer = make_renderer(analyze(rgb, REF_SIZE, what="the video"), "warp-v1")
    # level-driven mouth, as when the calibration was fitted (no phones: they would change the reference)
    motion = procedural_motion(features(Audio(speech_like(REF_SECONDS, seed=seed), 16_000), FPS, phones=False),
                               Controls(), seed)
    mark, bits = SpreadMark(), Payload.new(seed).bits()
    frames = h264_round_trip([mark.embed(renderer.render(p, e), bits) for p, e in zip(motion.pose, motion.expr)])
    step = int(round(FPS / REF_RATE))
    return frames[::step]


def reference_crops(rgb: np.ndarray, cropper, seed: int = 0) -> np.ndarray:
    """Face crops of a rendering of the largest face in `rgb` (raises UserError when there is no face);
    the detector's mean logit on them is the video's reference logit."""
    crops = [cropper.crop(f, faces[0])[0] for f in reference_frames(rgb, seed) if (faces := cropper.landmarks(f))]
    if not crops:
        from likeness.errors import UserError

        raise UserError("no face in the reference rendering")
    return np.stack(crops)


def video_reference_crops(path, cropper=None, tries: int = 3) -> np.ndarray | None:
    """`reference_crops` from the first of the video's first `tries` seconds that shows a face (None if none)."""
    from likeness.errors import UserError

    from .faces import FaceCropper, sample_frames

    cropper = cropper or FaceCropper(max_faces=1)
    for i, (_, rgb) in enumerate(sample_frames(path, 1.0)):
        if i >= tries:
            break
        try:
            return reference_crops(rgb, cropper)
        except UserError:  # no face in this frame
            continue
    return None
