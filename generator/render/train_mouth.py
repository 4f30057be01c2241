"""Train the learned mouth interior (`generator.render.inpaint`) on real mouths; export it to ONNX.

    likeness train mouth --data data/mouth        (after `likeness train mouth-data`; both in `make train-renderer`)

Self-supervised on real footage: a frame's mouth patch with the opening between the lips masked out, plus another
frame of the same clip as the reference, in; the real opening out. Loss: L1 and L1 of the image gradients inside the
opening (the gradient term keeps teeth edges from washing out). People are split into training and validation (by
person, never by clip); the people the renderer is benchmarked on were never cut (`mouth_data`). Validation is also
reported with closed references only, what most portraits give the renderer: the network must then draw an interior
its reference never showed, and L1 answers that with a mean (a soft slab of lip or teeth colour).

Two options aim at that case and are off by default (tried, measured in benchmarks/RESULTS.md, not better overall):
`closed_ref`, the share of pairs drawn with a closed reference, and `adv_weight`, a conditional patch discriminator
(hinge loss) on the filled opening.
"""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.errors import UserError
from likeness.files import atomic_path

from .bank import PATCH_H, PATCH_W
from .inpaint import IN_CHANNELS, MODEL_PATH, model_input, opening_mask

CLOSED = 1.0  # mouth-frame px of mean inner-lip gap below which a reference counts as closed lips


@dataclass
class MouthTrainConfig:
    data: Path = Path("data/mouth")
    out: Path = MODEL_PATH
    steps: int = 6000
    batch: int = 24
    lr: float = 1e-3
    seed: int = 0
    val_share: float = 0.12      # of the people, held out for validation
    grad_weight: float = 1.0     # weight of the image-gradient L1 beside the plain L1
    closed_ref: float = 0.0      # share of pairs whose reference shows closed lips (0: uniform over the clip)
    adv_weight: float = 0.0      # weight of the discriminator's hinge loss beside the L1 (0: L1 and gradients only)
    adv_start: float = 0.25      # share of the steps trained on L1 alone before the discriminator joins
    cast: float = 0.3            # share of pairs under a strong colour cast (paintings' varnish, stage light): the
                                 # interior then takes the cast the lips and skin around it show, not a greener one
    widths: tuple[int, int, int] = (32, 64, 96)
    eval_every: int = 250
    tracking_uri: str | None = None
    experiment: str = "likeness-mouth"


def build_net(widths: tuple[int, int, int]):
    """The U-Net (torch): space-to-depth to half resolution, three scales, depth-to-space back; tanh output."""
    import torch
    import torch.nn as nn

    def conv(i: int, o: int, stride: int = 1, dilation: int = 1) -> nn.Module:
        return nn.Sequential(nn.Conv2d(i, o, 3, stride, dilation, dilation=dilation), nn.LeakyReLU(0.2))

    c1, c2, c3 = widths

    class Net(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.down = nn.PixelUnshuffle(2)
            self.e1 = nn.Sequential(conv(4 * IN_CHANNELS, c1), conv(c1, c1))
            self.e2 = nn.Sequential(conv(c1, c2, 2), conv(c2, c2))
            self.e3 = nn.Sequential(conv(c2, c3, 2), conv(c3, c3, 1, 2), conv(c3, c3, 1, 2))
            self.u2, self.f2 = conv(c3, c2), conv(c2, c2)
            self.u1, self.f1 = conv(c2, c1), conv(c1, c1)
            self.out = nn.Sequential(nn.Conv2d(c1, 12, 3, 1, 1), nn.PixelShuffle(2))
            self.up = nn.Upsample(scale_factor=2, mode="nearest")

        def forward(self, x: torch.Tensor) -> torch.Tensor:
            e1 = self.e1(self.down(x))
            e2 = self.e2(e1)
            e3 = self.e3(e2)
            f2 = self.f2(self.up(self.u2(e3)) + e2)
            f1 = self.f1(self.up(self.u1(f2)) + e1)
            return torch.tanh(self.out(f1))

    return Net()


def build_discriminator(width: int = 16):
    """Conditional patch discriminator (torch): the network's input (masked patch, mask, reference) and a filled
    patch in, one real/fake logit per patch of about 30 px out; spectral norm keeps its training stable."""
    import torch.nn as nn
    from torch.nn.utils.parametrizations import spectral_norm

    def block(i: int, o: int, stride: int) -> list[nn.Module]:
        return [spectral_norm(nn.Conv2d(i, o, 4, stride, 1)), nn.LeakyReLU(0.2)]

    return nn.Sequential(*block(IN_CHANNELS + 3, width, 2), *block(width, 2 * width, 2),
                         *block(2 * width, 4 * width, 1), spectral_norm(nn.Conv2d(4 * width, 1, 3, 1, 1)))


@dataclass
class MouthClip:
    name: str
    person: str
    patches: np.ndarray  # (N, PATCH_H, PATCH_W, 3) uint8
    upper: np.ndarray    # (N, PATCH_W)
    lower: np.ndarray
    scale: np.ndarray    # (N,) source pixels per mouth-frame pixel: below 1 the patch was enlarged (less detail)

    @property
    def openness(self) -> np.ndarray:
        """Mean inner-lip gap of each frame over the middle half of the mouth (mouth-frame px)."""
        mid = slice(PATCH_W // 4, 3 * PATCH_W // 4)
        return np.maximum(self.lower[:, mid] - self.upper[:, mid], 0).mean(1)


def load_mouth_clips(data: Path) -> tuple[list[MouthClip], str]:
    index = Path(data) / "index.json"
    if not index.is_file():
        raise UserError(f"no mouth data at {data}: run `likeness train mouth-data --out {data}` first")
    info = json.loads(index.read_text())
    clips = []
    for e in info["clips"]:
        with np.load(Path(data) / f"{e['clip']}.npz") as z:
            clips.append(MouthClip(e["clip"], e["person"], z["patches"], z["upper"], z["lower"], z["scale"]))
    return clips, info["hash"]


def split_people(clips: list[MouthClip], share: float, seed: int) -> tuple[list[MouthClip], list[MouthClip]]:
    people = sorted({c.person for c in clips})
    rng = np.random.default_rng(seed)
    val = set(rng.choice(people, max(1, int(round(share * len(people)))), replace=False)) if share > 0 else set()
    return [c for c in clips if c.person not in val], [c for c in clips if c.person in val]


class PairSampler:
    """(input, target, mask) batches: a target frame (wider openings drawn more often) and a reference frame of
    the same clip, with joint augmentation: mirror, colour, loss of detail, and landmark jitter of the mask."""

    def __init__(self, clips: list[MouthClip], rng: np.random.Generator, augment: bool = True, soften: float = 0.3,
                 closed_ref: float = 0.0, cast: float = 0.0):
        self.clips = [c for c in clips if (c.openness > CLOSED).any()]
        if not self.clips:
            raise UserError("no training clip shows an open mouth")
        self.rng, self.augment, self.soften, self.closed_ref, self.cast = rng, augment, soften, closed_ref, cast
        # closed lips count too: with a seam (`opening_mask`) the network redraws where the lips meet
        self.weights = [np.where(c.openness > CLOSED, 0.5 + np.sqrt(c.openness), 0.25) for c in self.clips]
        # big clips count, but not in proportion; sharp ones (most footage is enlarged 2-3x into the patch) count
        # more, so the network learns what detail a sharp portrait needs, and loses it on soft ones (`soften`)
        sizes = np.array([w.sum() for w in self.weights])
        sharp = np.array([0.5 + min(float(np.median(c.scale)), 1.0) for c in self.clips])
        self.p = np.sqrt(sizes) * sharp / (np.sqrt(sizes) * sharp).sum()

    def pair(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        import cv2

        rng = self.rng
        k = rng.choice(len(self.clips), p=self.p)
        c, w = self.clips[k], self.weights[k]
        t = rng.choice(len(w), p=w / w.sum())
        closed = np.flatnonzero(c.openness < CLOSED)
        if self.closed_ref > 0 and len(closed) and rng.random() < self.closed_ref:
            r = rng.choice(closed)
        else:
            r = rng.integers(len(c.patches))
        tgt, ref = c.patches[t].astype(np.float32), c.patches[r].astype(np.float32)
        up, lo, up_r, lo_r = c.upper[t], c.lower[t], c.upper[r], c.lower[r]
        if self.augment:
            jitter = rng.normal(0, 0.6, 2)
            up, lo = up + jitter[0], np.maximum(lo + jitter[1], up + jitter[0])
            if rng.random() < 0.5:
                tgt, ref = tgt[:, ::-1], ref[:, ::-1]
                up, lo, up_r, lo_r = up[::-1], lo[::-1], up_r[::-1], lo_r[::-1]
            gain = rng.uniform(0.75, 1.25) * rng.uniform(0.9, 1.1, 3)
            if self.cast and rng.random() < self.cast:  # drawn only when asked: without it, batches are as before
                gain = gain * rng.uniform(0.6, 1.1, 3)
            tgt, ref = tgt * gain, ref * gain
            if rng.random() < self.soften:  # a softer source: both lose detail alike
                shrink = rng.uniform(1.2, 2.5)
                small = (max(8, int(PATCH_W / shrink)), max(8, int(PATCH_H / shrink)))
                tgt, ref = (cv2.resize(cv2.resize(a, small, interpolation=cv2.INTER_AREA), (PATCH_W, PATCH_H),
                                       interpolation=cv2.INTER_LINEAR) for a in (tgt, ref))
            tgt, ref = np.clip(tgt, 0, 255), np.clip(ref, 0, 255)
        seam = rng.uniform(0.0, 2.5) if self.augment and rng.random() < 0.5 else 0.0
        mask, ref_mask = opening_mask(up, lo, seam=seam), opening_mask(up_r, lo_r)
        if self.augment and rng.random() < 0.25:  # the portrait's own interior shown near each lip: fill between
            keep = rng.uniform(0.15, 0.4) * (lo - up)
            rows = np.arange(PATCH_H, dtype=np.float32)[:, None]
            mask = mask * np.clip(np.minimum(rows - (up + keep), (lo - keep) - rows) + 0.5, 0.0, 1.0)
        return model_input(tgt, mask, ref, ref_mask), np.transpose(tgt, (2, 0, 1)) / 127.5 - 1.0, mask

    def __call__(self, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        xs, ys, ms = zip(*(self.pair() for _ in range(n)))
        return np.stack(xs), np.stack(ys).astype(np.float32), np.stack(ms)[:, None].astype(np.float32)


def masked_losses(pred, target, mask):
    """(L1, gradient L1) inside the mask, per masked pixel and channel."""
    area = mask.sum().clamp_min(1.0) * 3
    l1 = ((pred - target).abs() * mask).sum() / area
    def gx(a):
        return a[..., :, 1:] - a[..., :, :-1]

    def gy(a):
        return a[..., 1:, :] - a[..., :-1, :]

    mx, my = mask[..., :, 1:] * mask[..., :, :-1], mask[..., 1:, :] * mask[..., :-1, :]
    grad = (((gx(pred) - gx(target)).abs() * mx).sum() + ((gy(pred) - gy(target)).abs() * my).sum()) / area
    return l1, grad


def validation_set(clips: list[MouthClip], n: int, seed: int,
                   closed_ref: float = 0.0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A fixed set of `n` validation pairs (no augmentation), the same every evaluation; with `closed_ref` 1 every
    reference shows closed lips (where its clip has such frames), as most portraits do."""
    return PairSampler(clips, np.random.default_rng(seed + 1), augment=False, closed_ref=closed_ref)(n)


def train(cfg: MouthTrainConfig, progress: Callable[[int, dict], None] | None = None) -> dict:
    """Train, export `cfg.out` (ONNX) and `cfg.out.with_suffix('.json')`, log all of it to MLflow."""
    import torch

    from likeness.tracking import start_mlflow

    torch.manual_seed(cfg.seed)
    torch.set_num_threads(2)
    rng = np.random.default_rng(cfg.seed)
    clips, data_hash = load_mouth_clips(cfg.data)
    train_clips, val_clips = split_people(clips, cfg.val_share, cfg.seed)
    sampler = PairSampler(train_clips, rng, closed_ref=cfg.closed_ref, cast=cfg.cast)
    # without validation people (val_share 0: a final model on everyone, or a smoke test) the training people stand in
    val = {name: tuple(torch.from_numpy(a) for a in validation_set(val_clips or train_clips, 192, cfg.seed, share))
           for name, share in (("val", 0.0), ("val_closed_ref", 1.0))}
    net = build_net(cfg.widths)
    opt = torch.optim.AdamW(net.parameters(), lr=cfg.lr, weight_decay=1e-4, betas=(0.9, 0.99))
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=cfg.steps, pct_start=0.05)
    adversary = Adversary(cfg) if cfg.adv_weight > 0 else None
    mlflow = start_mlflow(cfg.tracking_uri, cfg.experiment)
    history: list[dict] = []
    t0 = time.time()
    with mlflow.start_run() as run:
        mlflow.log_params({**{k: str(v) for k, v in asdict(cfg).items()}, "data_hash": data_hash,
                           "train_clips": len(train_clips), "val_clips": len(val_clips),
                           "parameters": sum(p.numel() for p in net.parameters())})
        for step in range(1, cfg.steps + 1):
            x, y, m = (torch.from_numpy(a) for a in sampler(cfg.batch))
            pred = net(x)
            l1, grad = masked_losses(pred, y, m)
            loss = l1 + cfg.grad_weight * grad
            adv = adversary is not None and step > cfg.adv_start * cfg.steps
            if adv:
                g_adv = adversary.step(x, y, pred, m)
                loss = loss + cfg.adv_weight * g_adv
            opt.zero_grad(set_to_none=True)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
            opt.step()
            sched.step()
            if step % cfg.eval_every == 0 or step == cfg.steps:
                net.eval()
                row = {"step": step, "train_l1": l1.item(), "train_grad": grad.item()}
                with torch.no_grad():
                    for name, (vx, vy, vm) in val.items():
                        vl1, vgrad = (float(v) for v in masked_losses(net(vx), vy, vm))
                        row.update({f"{name}_l1": vl1, f"{name}_grad": vgrad})
                net.train()
                if adv:
                    row.update(adversary.last)
                row["minutes"] = (time.time() - t0) / 60
                history.append(row)
                mlflow.log_metrics({k: v for k, v in row.items() if k != "step"}, step=step)
                if progress:
                    progress(step, row)
        net.eval()
        baselines = {name: reference_fill_l1(*v) for name, v in val.items()}
        export(net, cfg.out, PairSampler(train_clips, np.random.default_rng(cfg.seed + 2), augment=False)(64)[0])
        exported = {name: onnx_l1(cfg.out, *(a.numpy() for a in v)) for name, v in val.items()}
        info = {"data_hash": data_hash, "config": {k: str(v) for k, v in asdict(cfg).items()},
                "train_people": sorted({c.person for c in train_clips}),
                "val_people": sorted({c.person for c in val_clips}),
                "val_l1": history[-1]["val_l1"], "val_l1_exported": exported["val"],
                "val_l1_mean_colour_fill": baselines["val"],
                "val_closed_ref_l1": history[-1]["val_closed_ref_l1"],
                "val_closed_ref_l1_exported": exported["val_closed_ref"],
                "val_closed_ref_l1_mean_colour_fill": baselines["val_closed_ref"],
                "train_minutes": round((time.time() - t0) / 60, 1), "history": history,
                "mlflow_run": run.info.run_id}
        with atomic_path(cfg.out.with_suffix(".json")) as tmp:
            tmp.write_text(json.dumps(info, indent=1) + "\n")
        mlflow.log_metrics({"val_l1_exported": exported["val"], "val_l1_mean_colour_fill": baselines["val"],
                            "val_closed_ref_l1_exported": exported["val_closed_ref"],
                            "val_closed_ref_l1_mean_colour_fill": baselines["val_closed_ref"],
                            "train_minutes": info["train_minutes"]})
        mlflow.log_artifact(str(cfg.out))
        mlflow.log_artifact(str(cfg.out.with_suffix(".json")))
    return info


class Adversary:
    """The patch discriminator and its optimiser. `step` trains it once on the real and the filled openings (hinge
    loss; only patches that overlap the opening count) and returns the generator's hinge loss on the filled one."""

    def __init__(self, cfg: MouthTrainConfig):
        import torch

        self.disc = build_discriminator()
        self.opt = torch.optim.Adam(self.disc.parameters(), lr=2 * cfg.lr / 5, betas=(0.5, 0.99))
        self.last: dict[str, float] = {}

    def step(self, x, y, pred, m):
        import torch
        import torch.nn.functional as F

        fake = pred * m + y * (1 - m)  # the filled patch as the renderer composites it

        def hinge(img, sign: float):
            logits = self.disc(torch.cat([x, img], 1))
            weight = F.adaptive_max_pool2d(m, logits.shape[-2:])  # patches that overlap the opening
            v = F.relu(1 - sign * logits) if sign else -logits
            return (v * weight).sum() / weight.sum().clamp_min(1.0)

        d_loss = hinge(y, 1.0) + hinge(fake.detach(), -1.0)
        self.opt.zero_grad(set_to_none=True)
        d_loss.backward()
        self.opt.step()
        self.disc.requires_grad_(False)
        g_loss = hinge(fake, 0.0)
        self.disc.requires_grad_(True)
        self.last = {"disc_loss": d_loss.item(), "gen_adv_loss": g_loss.item()}
        return g_loss


def reference_fill_l1(x, y, m) -> float:
    """The trivial baseline on the validation pairs: the opening filled with the mean colour of the reference's
    own opening (or of its whole patch where it shows none)."""
    import torch

    ref, ref_m = x[:, 4:7], x[:, 7:8]
    has = ref_m.sum((2, 3), keepdim=True) > 4
    mean_open = (ref * ref_m).sum((2, 3), keepdim=True) / ref_m.sum((2, 3), keepdim=True).clamp_min(1.0)
    fill = torch.where(has, mean_open, ref.mean((2, 3), keepdim=True)).expand_as(y)
    return float(masked_losses(fill, y, m)[0])


def export(net, out: Path, calibration: np.ndarray) -> None:
    """ONNX with a fixed (1, 8, PATCH_H, PATCH_W) input, quantised to 8 bits (weights per channel, activations
    calibrated on `calibration` (N, 8, PATCH_H, PATCH_W) training inputs): half the run time of float32 on this CPU
    at the same validation L1 (`MouthNet` runs it). Written atomically."""
    import tempfile

    import torch
    from onnxruntime.quantization import CalibrationDataReader, QuantFormat, QuantType, quantize_static
    from onnxruntime.quantization.shape_inference import quant_pre_process

    class Calibration(CalibrationDataReader):
        def __init__(self) -> None:
            self.rows = iter(calibration)

        def get_next(self) -> dict | None:
            row = next(self.rows, None)
            return None if row is None else {"x": row[None].astype(np.float32)}

    x = torch.zeros(1, IN_CHANNELS, PATCH_H, PATCH_W)
    with tempfile.TemporaryDirectory() as tmp:
        fp32, pre = Path(tmp) / "fp32.onnx", Path(tmp) / "pre.onnx"
        torch.onnx.export(net, (x,), str(fp32), dynamo=False, input_names=["x"], output_names=["y"], opset_version=17)
        quant_pre_process(str(fp32), str(pre))
        with atomic_path(Path(out)) as final:
            quantize_static(str(pre), str(final), Calibration(), quant_format=QuantFormat.QDQ,
                            activation_type=QuantType.QUInt8, weight_type=QuantType.QInt8, per_channel=True)


def onnx_l1(path: Path, x: np.ndarray, y: np.ndarray, m: np.ndarray) -> float:
    """L1 inside the opening of the exported model at `path` (as the renderer runs it) on pairs (x, y, m)."""
    from .inpaint import MouthNet

    net = MouthNet.load(path)
    pred = np.stack([net.run(xi) for xi in x])
    return float((np.abs(pred - y) * m).sum() / max(float(m.sum()) * 3, 1.0))
