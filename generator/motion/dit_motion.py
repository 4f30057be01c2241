"""Runtime of the motion DiT: load the shipped checkpoint, generate offline or stream window by window."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np

from likeness.checkpoints import onnx_session
from likeness.errors import UserError

from .. import latent
from ..audio import FEATURE_RATE, Audio, AudioFeatures, features
from ..latent import FPS
from ..phones import final_seconds
from ..options import EMOTIONS
from .controls import Controls
from .ddim import Denoise, sample
from .dit_config import DiTConfig
from .data import audio_matrix, loudness_reference, normalise_loudness
from .encode import from_closed_lips
from .visemes import CONTACT, latent_columns, lip_gap, pressed, with_rest

DEFAULT_CHECKPOINT = Path(__file__).parent / "assets" / "dit.pt"  # the training checkpoint (`make train-motion`)
DEFAULT_MODEL = DEFAULT_CHECKPOINT.with_suffix(".onnx")  # the same network exported, what generation runs
RETRAIN = "run `make train-motion` or use --motion procedural"

STREAM_MARGIN = 640  # samples of look-ahead at 16 kHz a frame's features need (pitch window); phones need more
_POSE_MOTION = slice(0, 5)  # yaw, pitch, roll, tx, ty
_LOG_SCALE = latent.POSE.index("log_scale")
_MOUTH = latent_columns()
# Head pose and the slow expressions are low-passed after sampling: a few DDIM steps leave frame-to-frame
# jitter that doubled head speed against real footage. Blinks and gaze keep their fast motion.
_SMOOTHED = [*range(len(latent.POSE)), *(len(latent.POSE) + latent.EXPRESSION.index(k) for k in ("smile", "brow_raise"))]
# The mouth is low-passed more lightly, except where its lips come near meeting: the sampling's jitter is not the
# speaker's (an independent judge follows the smoothed mouth better), but a closure is a dip of a frame or two.
MOUTH_SMOOTH = 0.6   # frames (Gaussian sigma)
KEEP_CLOSING = 1.5   # the sampled mouth is kept where its lip gap is below this many `visemes.CONTACT`


class DiTMotion:
    """Audio -> motion latents with the trained diffusion transformer (deterministic for a given seed)."""

    def __init__(self, denoise: Denoise, cfg: DiTConfig, norm: dict, audio_scale: float = 1.5,
                 control_scale: float = 1.0, smooth: float = 0.8, press: bool = True, mouth_smooth: float = MOUTH_SMOOTH):
        self.denoise, self.cfg, self.norm = denoise, cfg, norm
        self.audio_scale, self.control_scale, self.smooth = audio_scale, control_scale, smooth
        self.mouth_smooth = mouth_smooth
        self.press = press  # lips that meet press together (`visemes.pressed`)

    @classmethod
    def load(cls, path: Path | None = None, **kw) -> "DiTMotion":
        """The exported network (`.onnx`, default: the shipped one; onnxruntime only) or a training checkpoint
        (`.pt`, needs torch); a missing or damaged file is one clear error."""
        path = Path(path or DEFAULT_MODEL)
        if path.suffix == ".pt":
            return cls.from_checkpoint(path, **kw)
        if not path.is_file():
            raise UserError(f"motion checkpoint not found: {path}; {RETRAIN}")
        try:
            session = onnx_session(path)
            meta = session.get_modelmeta().custom_metadata_map
            cfg = DiTConfig.from_dict(json.loads(meta["config"]))
            norm = {k: np.asarray(v, np.float32) for k, v in json.loads(meta["norm"]).items()}
            denoise = _OnnxDenoiser(session)
            c, z = cfg, np.zeros
            probe = denoise(z((1, c.window, c.latent_dim), np.float32), z(1, np.float32),
                            z((1, c.prefix + c.window, c.audio_dim), np.float32), z((1, c.prefix, c.latent_dim), np.float32),
                            z((1, c.control_dim), np.float32), *[np.ones(1, bool)] * 3)
            if probe.shape != (1, c.window, c.latent_dim):
                raise ValueError(f"output shape {probe.shape}")
        except Exception as e:  # a truncated, foreign or hand-edited file
            raise UserError(f"corrupt or incompatible motion checkpoint {path}: {type(e).__name__}: {e}") from None
        return cls(denoise, cfg, norm, **kw)

    @classmethod
    def from_checkpoint(cls, path: Path, **kw) -> "DiTMotion":
        import torch

        from likeness.checkpoints import checkpoint

        from .dit import MotionDiT, TorchDenoiser

        with checkpoint(path, "motion", RETRAIN) as ck:
            model = MotionDiT(DiTConfig.from_dict(ck["config"]))
            model.load_state_dict(ck["state"])
            norm = {k: v.numpy() for k, v in ck["norm"].items()}
        torch.set_num_threads(max(1, torch.get_num_threads()))
        return cls(TorchDenoiser(model.eval()), model.cfg, norm, **kw)

    # --- conditioning -------------------------------------------------------------------------------
    def _controls(self, c: Controls) -> np.ndarray:
        """Normalised condition vector. Head distance is conditioned at the footage's own (0): its windows
        vary too little in distance to learn that control, so `_post` applies it as a log-scale offset."""
        emo = EMOTIONS[c.emotion]
        raw = np.array([c.gaze[0], c.gaze[1], 0.0, emo.get("smile", 0.0), emo.get("brow_raise", 0.0)])
        return ((raw - self.norm["ctrl_mean"]) / self.norm["ctrl_std"]).astype(np.float32)

    def _post(self, z: np.ndarray, c: Controls) -> np.ndarray:
        """Denormalise, then apply what is not conditioned: pose amplitude and the emotion's offsets. Smile and brows
        are conditioned too, but the shipped model follows that condition weakly (benchmarks/RESULTS.md), so the
        preset's offsets are added to them as well, as the procedural motion does. Frame by frame, so streaming
        equals offline; lips that meet are pressed (`visemes.pressed`)."""
        z = z * self.norm["lat_std"] + self.norm["lat_mean"]
        if self.press:
            z[:, _MOUTH] = pressed(z[:, _MOUTH])
        z[:, _POSE_MOTION] *= c.pose_scale
        z[:, _LOG_SCALE] += c.head_distance
        pose_off, expr_off = c.emotion_offsets()
        return z + np.r_[pose_off, expr_off]

    # --- generation ---------------------------------------------------------------------------------
    def _window(self, k: int, audio_n: np.ndarray, prev: np.ndarray | None, ctrl: np.ndarray, seed: int) -> np.ndarray:
        """Generate window k (normalised latents) from normalised audio rows [kW - P, kW + W)."""
        p = self.cfg.prefix
        pre = np.zeros((p, self.cfg.latent_dim), np.float32) if prev is None else prev[-p:]
        out = sample(self.denoise, audio_n[None], pre[None], ctrl[None], np.array([prev is not None]),
                     int(seed) * 100_003 + k, self.cfg.window, self.cfg.sample_steps, self.audio_scale,
                     self.control_scale)
        return out[0]

    def _audio_rows(self, a: np.ndarray, start: int, stop: int) -> np.ndarray:
        """Normalised audio rows [start, stop), silence outside the clip; with automatic gain, levels are
        relative to the loudness of the audio up to `stop` (causal, so streaming equals offline)."""
        a = a[:, : self.cfg.audio_dim]  # a checkpoint from before the phones reads the acoustic columns only
        lo, hi = max(start, 0), min(stop, len(a))
        inside = normalise_loudness(a[lo:hi], loudness_reference(a[:hi])) if self.cfg.auto_gain else a[lo:hi]
        silence = _SILENCE_ROW[None, : a.shape[1]]
        rows = np.concatenate([np.repeat(silence, lo - start, 0), inside, np.repeat(silence, stop - max(hi, start), 0)])
        return ((rows - self.norm["aud_mean"]) / self.norm["aud_std"]).astype(np.float32)

    def generate_matrix(self, audio: np.ndarray, controls: Controls = Controls(), seed: int = 0,
                        start_window: int = 0, prev: np.ndarray | None = None) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        """Yield (raw, smoothed) normalised latent windows for per-frame audio rows `audio` (T, A), from
        `start_window` on; `prev` is the raw previous window (the next one is conditioned on raw samples)."""
        p, w = self.cfg.prefix, self.cfg.window
        ctrl = self._controls(controls)
        for k in range(start_window, -(-len(audio) // w)):
            z = self._window(k, self._audio_rows(audio, k * w - p, (k + 1) * w), prev, ctrl, seed)
            yield z, self._smoothed(z, prev)
            prev = z

    def _smoothed(self, z: np.ndarray, prev: np.ndarray | None) -> np.ndarray:
        """Gaussian low-pass of the `_SMOOTHED` channels (sigma `smooth`) and of the mouth (`mouth_smooth`; not where
        the sampled lips come near meeting), using the previous window's tail as left context (so a window depends
        only on itself and its predecessor, and streaming equals offline)."""
        from scipy.ndimage import gaussian_filter1d

        out = z.copy()
        for cols, sigma in ((_SMOOTHED, self.smooth), (_MOUTH, self.mouth_smooth)):
            if sigma:
                ctx = 0 if prev is None else min(len(prev), int(4 * sigma) + 1)
                x = np.concatenate([prev[len(prev) - ctx:], z]) if ctx else z
                out[:, cols] = gaussian_filter1d(x[:, cols], sigma, axis=0, mode="nearest")[ctx:]
        if self.mouth_smooth:
            mouth = z[:, _MOUTH] * self.norm["lat_std"][_MOUTH] + self.norm["lat_mean"][_MOUTH]
            closing = lip_gap(mouth) < KEEP_CLOSING * CONTACT
            out[:, _MOUTH] = np.where(closing[:, None], z[:, _MOUTH], out[:, _MOUTH])
        return out

    def generate(self, feats: AudioFeatures | np.ndarray, controls: Controls = Controls(), seed: int = 0,
                 rest: bool = False, mouth_open: float = 0.0) -> latent.Motion:
        """Offline: motion for every frame of `feats` (our features at 25 fps, or a (T, A) feature matrix).
        `rest`: the mouth at rest in sustained silence or sound that is not speech (`visemes.with_rest`; needs the
        features' phones). The model alone keeps the lips parted there and moves them with noise.
        `mouth_open`: the portrait's own lip gap (`Portrait.mouth_open`), taken off the jaw (`encode.from_closed_lips`)."""
        a = audio_matrix(feats) if isinstance(feats, AudioFeatures) else np.asarray(feats, np.float32)
        if isinstance(feats, AudioFeatures) and abs(feats.fps - FPS) > 1e-6:
            raise UserError(f"the motion DiT runs at {FPS:g} fps; got features at {feats.fps:g}")
        z = self._post(np.concatenate([out for _, out in self.generate_matrix(a, controls, seed)])[: len(a)], controls)
        if rest and isinstance(feats, AudioFeatures) and feats.visemes is not None:
            z[:, _MOUTH] = with_rest(z[:, _MOUTH], feats.visemes, FPS)
        return latent.Motion.from_latent(from_closed_lips(z, mouth_open), FPS)

    def generate_stream(self, chunks: Iterable[np.ndarray], controls: Controls = Controls(),
                        seed: int = 0, mouth_open: float = 0.0) -> Iterator[latent.Motion]:
        """Streaming: mono float chunks at 16 kHz in, one Motion per completed window out, as audio arrives.

        Equals `generate` on the concatenated audio for the same seed (tested)."""
        w, buf, done, prev = self.cfg.window, np.zeros(0, np.float32), 0, None
        for chunk in chunks:
            buf = np.concatenate([buf, np.asarray(chunk, np.float32).reshape(-1)])
            ready = int(min(max(0, len(buf) - STREAM_MARGIN) / FEATURE_RATE, final_seconds(len(buf))) * FPS)
            while (done + 1) * w <= ready:  # window k needs frames up to (k+1)W, whose features are final
                a = audio_matrix(features(Audio(buf, FEATURE_RATE), FPS))[:ready]
                prev, z = next(self.generate_matrix(a, controls, seed, done, prev))
                done += 1
                yield latent.Motion.from_latent(from_closed_lips(self._post(z, controls), mouth_open), FPS)
        if len(buf) == 0:
            return
        a = audio_matrix(features(Audio(buf, FEATURE_RATE), FPS))
        for _, z in self.generate_matrix(a, controls, seed, done, prev):
            n = min(w, len(a) - done * w)
            done += 1
            yield latent.Motion.from_latent(from_closed_lips(self._post(z[:n], controls), mouth_open), FPS)


class _OnnxDenoiser:
    """The exported network as `ddim.sample`'s callable."""

    def __init__(self, session):
        self.session, self.names = session, [i.name for i in session.get_inputs()]

    def __call__(self, *arrays: np.ndarray) -> np.ndarray:
        return self.session.run(None, dict(zip(self.names, arrays)))[0]


def _silent_features(n: int) -> AudioFeatures:
    return AudioFeatures(mel=np.full((n, 80), np.log(1e-6), np.float32), energy_db=np.full(n, -100.0, np.float32),
                         band_db=np.full(n, -100.0, np.float32), high_ratio=np.zeros(n, np.float32),
                         centroid=np.zeros(n, np.float32), pitch=np.zeros(n, np.float32), fps=FPS)


_SILENCE_ROW = audio_matrix(_silent_features(1))[0]  # the audio input the model sees outside a clip
