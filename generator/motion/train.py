"""Train the motion DiT on prepared clips; log params, losses, validation and the checkpoint to MLflow."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.errors import UserError
from likeness.files import atomic_path
from likeness.shared_data import DEFAULT_SHARED, MOTION_HELD_OUT

from .. import latent
from .data import LEVEL, Clip, babble_copies, load_clips, loudness_reference, normalise_loudness, speech_split
from .dit_config import CONTROL_NAMES, DiTConfig, config_dict
from .dit_motion import DEFAULT_CHECKPOINT

_E = {k: len(latent.POSE) + i for i, k in enumerate(latent.EXPRESSION)}
_P = {k: i for i, k in enumerate(latent.POSE)}
MOUTH = ("jaw_open", "mouth_stretch", "lip_pucker", "upper_lip", "lower_lip")
MIRROR_SIGN = np.ones(latent.DIM, np.float32)
for _k in ("yaw", "roll", "tx"):
    MIRROR_SIGN[_P[_k]] = -1
MIRROR_SIGN[_E["gaze_x"]] = -1
MIRROR_PERM = np.arange(latent.DIM)
MIRROR_PERM[[_E["blink_l"], _E["blink_r"]]] = [_E["blink_r"], _E["blink_l"]]


def window_controls(z: np.ndarray) -> np.ndarray:
    """Control signals of a (.., T, 17) latent window, as the model is conditioned on them: their means."""
    idx = [_E["gaze_x"], _E["gaze_y"], _P["log_scale"], _E["smile"], _E["brow_raise"]]
    return z[..., idx].mean(-2)


@dataclass
class TrainConfig:
    data: Path = Path("data/motion")
    out: Path = DEFAULT_CHECKPOINT
    steps: int = 3000
    batch: int = 32
    lr: float = 1e-3
    weight_decay: float = 0.01
    seed: int = 0
    val_names: tuple[str, ...] = MOTION_HELD_OUT  # never trained on; logged, not selected on
    shared: Path | None = DEFAULT_SHARED  # with its videos_added.tsv: train only on the speakers' own speech
    p_no_prefix: float = 0.2
    mouth_weight: float = 8.0    # loss weight of the mouth channels relative to the rest
    mel_shift: int = 3           # augmentation: log-mel shifted by up to this many bins (pitch/timbre)
    babble: bool = False         # augmentation: clips also with other clips' voices under them (`data.babble_copies`)
    babble_snr: tuple[float, float] = (5.0, 25.0)  # dB, speaker over babble, drawn per copy
    babble_share: float = 0.5    # of the training clips, the share that gets a babble copy
    eval_every: int = 100
    tracking_uri: str | None = None
    experiment: str = "likeness-motion"
    model: DiTConfig = field(default_factory=DiTConfig)


class WindowSampler:
    """Random training windows (prefix + window frames) with mirror, gain and time-stretch augmentation."""

    def __init__(self, clips: list[Clip], length: int, rng: np.random.Generator, augment: bool = True,
                 auto_gain: bool = True, mel_shift: int = 0):
        self.clips = [c for c in clips if len(c) >= int(length * 1.1) + 1]
        if not self.clips:
            raise UserError(f"no clip is long enough for training windows of {length} frames")
        self.length, self.rng, self.augment, self.auto_gain, self.mel_shift = length, rng, augment, auto_gain, mel_shift
        sizes = np.array([len(c) for c in self.clips], float)
        self.p = sizes / sizes.sum()

    def __call__(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        zs, auds = [], []
        for _ in range(n):
            clip = self.clips[self.rng.choice(len(self.clips), p=self.p)]
            stretch = self.rng.uniform(0.9, 1.1) if self.augment else 1.0
            span = int(round(self.length * stretch))
            start = self.rng.integers(0, len(clip) - span)
            pos = np.linspace(start, start + span - 1, self.length)
            lo = np.floor(pos).astype(int)
            w = (pos - lo)[:, None]
            hi = np.minimum(lo + 1, len(clip) - 1)
            z = clip.latent[lo] * (1 - w) + clip.latent[hi] * w
            a = clip.audio[lo] * (1 - w) + clip.audio[hi] * w
            if self.auto_gain:  # as at run time: the reference is the audio heard up to the window's end
                a = normalise_loudness(a, loudness_reference(clip.audio[: start + span]))
            if self.augment:
                if self.rng.random() < 0.5:
                    z = z[:, MIRROR_PERM] * MIRROR_SIGN
                gain = self.rng.uniform(-1.0, 1.0)      # natural-log power units, about +/-4 dB
                a = a.copy()
                shift = int(self.rng.integers(-self.mel_shift, self.mel_shift + 1))  # a higher or lower voice
                if shift:
                    mel = np.roll(a[:, :LEVEL], shift, axis=1)
                    edge = slice(0, shift) if shift > 0 else slice(LEVEL + shift, LEVEL)
                    mel[:, edge] = a[:, [0 if shift > 0 else LEVEL - 1]]
                    a[:, :LEVEL] = mel
                    a[:, LEVEL + 1] = np.where(a[:, LEVEL + 1] != 0, a[:, LEVEL + 1] + 0.04 * shift, 0.0)
                a[:, :LEVEL] += gain
                a[:, LEVEL] += gain / np.log(10)
            zs.append(z)
            auds.append(a)
        return np.stack(zs).astype(np.float32), np.stack(auds).astype(np.float32)


def _norm_stats(clips: list[Clip], auto_gain: bool) -> dict[str, np.ndarray]:
    z = np.concatenate([c.latent for c in clips])
    a = np.concatenate([normalise_loudness(c.audio, loudness_reference(c.audio)) if auto_gain else c.audio
                        for c in clips])
    ctrl = window_controls(np.stack([z[i: i + 50] for i in range(0, len(z) - 50, 10)]))
    return {"lat_mean": z.mean(0), "lat_std": z.std(0) + 1e-4, "aud_mean": a.mean(0), "aud_std": a.std(0) + 1e-4,
            "ctrl_mean": ctrl.mean(0), "ctrl_std": ctrl.std(0) + 1e-4}


def _sources(index: dict, shared: Path | None) -> dict[str, Path]:
    """Each prepared clip's video: where `prepare` found it, else under the shared data's real_videos/."""
    out = {}
    for c in index["clips"]:
        p = Path(c["source"])
        out[c["name"]] = p if p.is_file() or shared is None else Path(shared) / "real_videos" / p.name
    return out


def train(cfg: TrainConfig, progress: Callable[[int, int, dict], None] | None = None) -> dict:
    import torch

    from likeness.tracking import start_mlflow

    from .dit import MotionDiT

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    clips = load_clips(cfg.data)
    index = json.loads((Path(cfg.data) / "index.json").read_text())
    tr, va = speech_split(clips, cfg.val_names, cfg.shared)
    m = cfg.model
    stats = _norm_stats(tr, m.auto_gain)
    length = m.prefix + m.window
    noisy = babble_copies(tr, _sources(index, cfg.shared), np.random.default_rng(cfg.seed + 1), snr_db=cfg.babble_snr,
                          share=cfg.babble_share) if cfg.babble else []
    sampler = WindowSampler(tr + noisy, length, rng, auto_gain=m.auto_gain, mel_shift=cfg.mel_shift)
    val_batch = WindowSampler(va or tr, length, np.random.default_rng(123), augment=False, auto_gain=m.auto_gain)(64)

    def tensors(z, a):
        zn = (z - stats["lat_mean"]) / stats["lat_std"]
        an = (a - stats["aud_mean"]) / stats["aud_std"]
        ctrl = (window_controls(z[:, m.prefix:]) - stats["ctrl_mean"]) / stats["ctrl_std"]
        return (torch.from_numpy(zn[:, m.prefix:]).float(), torch.from_numpy(an).float(),
                torch.from_numpy(zn[:, : m.prefix]).float(), torch.from_numpy(ctrl).float())

    model = MotionDiT(m)
    weight = torch.ones(latent.DIM)
    weight[[_E[k] for k in MOUTH]] = cfg.mouth_weight
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps, pct_start=0.05)
    vx0, va_, vpre, vctl = tensors(*val_batch)

    def val_loss() -> float:
        model.eval()
        g = torch.random.fork_rng()
        with g, torch.no_grad():
            torch.manual_seed(0)
            loss, _ = model.loss(vx0, va_, vpre, vctl, torch.ones(len(vx0), dtype=torch.bool), 0.0, 0.0,
                                 channel_weight=weight)
        model.train()
        return float(loss)

    def val_sync() -> float:
        """Mean correlation of generated and real jaw opening on the held-out clips (seed 0, default guidance)."""
        from .dit import TorchDenoiser
        from .dit_motion import DiTMotion

        model.eval()
        runtime, j = DiTMotion(TorchDenoiser(model), model.cfg, stats), _E["jaw_open"]
        r = [np.corrcoef(runtime.generate(c.audio).latent[:, j], c.latent[:, j])[0, 1] for c in va or tr[:1]]
        model.train()
        return float(np.mean(r))

    mlflow = start_mlflow(cfg.tracking_uri, cfg.experiment)
    history: dict = {"step": [], "train": [], "val": [], "val_sync": []}
    t0 = time.perf_counter()
    with mlflow.start_run() as run:
        mlflow.log_params({**{k: str(v) for k, v in asdict(cfg).items() if k != "model"},
                           **{f"model.{k}": v for k, v in config_dict(m).items()},
                           "data_sha256": index["data_sha256"], "train_clips": len(tr), "val_clips": len(va)})
        running = []
        for step in range(1, cfg.steps + 1):
            x0, a, pre, ctl = tensors(*sampler(cfg.batch))
            has_prefix = torch.rand(cfg.batch) > cfg.p_no_prefix
            loss, parts = model.loss(x0, a, pre, ctl, has_prefix, channel_weight=weight)
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            opt.step()
            sched.step()
            running.append(loss.item())
            if step % cfg.eval_every == 0 or step == cfg.steps:
                metrics = {"train_loss": float(np.mean(running)), "val_loss": val_loss(), "val_sync": val_sync(), **parts}
                running = []
                mlflow.log_metrics(metrics, step=step)
                for k, key in (("train", "train_loss"), ("val", "val_loss"), ("val_sync", "val_sync")):
                    history[k].append(metrics[key])
                history["step"].append(step)
                if progress:
                    progress(step, cfg.steps, metrics)
        minutes = (time.perf_counter() - t0) / 60
        info = {"train_minutes": minutes, "steps": cfg.steps, "data_sha256": index["data_sha256"],
                "data_seconds": index["seconds"], "train_clips": [c.name for c in tr], "val_clips": [c.name for c in va],
                "first_val_loss": history["val"][0], "final_train_loss": history["train"][-1],
                "final_val_loss": history["val"][-1], "final_val_sync": history["val_sync"][-1],
                "config": {k: str(v) for k, v in asdict(cfg).items() if k != "model"}, "mlflow_run": run.info.run_id}
        save_checkpoint(cfg.out, model, stats, info)
        _plot_losses(history, cfg.out.with_suffix(".loss.png"))
        mlflow.log_metrics({"train_minutes": minutes})
        mlflow.log_artifact(str(cfg.out))
        mlflow.log_artifact(str(cfg.out.with_suffix(".onnx")))
        mlflow.log_artifact(str(cfg.out.with_suffix(".json")))
        mlflow.log_artifact(str(cfg.out.with_suffix(".loss.png")))
    return info


def save_checkpoint(path: Path, model, stats: dict, info: dict) -> None:
    """Checkpoint (weights, config, normalisation), the network exported beside it (.onnx, what generation runs)
    and a human-readable .json with data hash and metrics."""
    import torch

    from .dit import export_onnx

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_path(path) as tmp:
        torch.save({"config": config_dict(model.cfg), "state": model.state_dict(),
                    "norm": {k: torch.from_numpy(np.asarray(v, np.float32)) for k, v in stats.items()},
                    "controls": list(CONTROL_NAMES), "format": 1}, tmp)
    export_onnx(model, stats, path.with_suffix(".onnx"))
    path.with_suffix(".json").write_text(json.dumps({"model": config_dict(model.cfg), **info}, indent=2))


def _plot_losses(history: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 3.5))
    ax.plot(history["step"], history["train"], label="train")
    ax.plot(history["step"], history["val"], label="validation (held-out identities)")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_yscale("log")
    ax.legend()
    ax.set_title("Motion DiT training")
    sync = ax.twinx()
    sync.plot(history["step"], history["val_sync"], color="tab:green", ls="--", label="held-out jaw vs real jaw (corr)")
    sync.set_ylabel("correlation")
    sync.legend(loc="upper center")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
