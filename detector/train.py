"""Train the detector on crops from `likeness train detector-data`; log to MLflow; ship a calibrated checkpoint."""
from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Callable

import numpy as np

from likeness.errors import UserError
from likeness.metrics import auc

from .augment import degrade
from .calibration import Calibration, VideoCalibration
from .model import DEFAULT_CHECKPOINT, DetectorConfig
from .mouth import MOUTH


@dataclass
class TrainConfig:
    data: Path = Path("data/detector")
    out: Path = DEFAULT_CHECKPOINT
    steps: int = 1500
    batch: int = 32
    lr: float = 2e-3
    weight_decay: float = 0.05
    mark_real: bool = True          # give real crops the generator's watermark too (so it is not a cue)
    pair_fraction: float = 0.25     # of each batch: real and generated crops of the same person (reenactments)
    sbi: float = 0.5                # of each batch's generated half: self-blends of real training crops (detector.blend)
    mask_loss: float = 1.0          # weight of the blend-mask loss (Face X-ray): where in a self-blend, and nowhere in a
                                    # real crop, was blending done; a training-only head on the last feature map
    hold_out: tuple[str, ...] = ()  # generator folds (detector.sources.FOLDS) left out of training and validation
    fpr: float = 0.05               # the verdict threshold: at most this share of validation real videos score above it
    looks: int = 4                  # and of as many copies of each, each in one chain of upload degradations (`in_looks`)
    reference: bool = True          # fit the experimental `--reference` calibration (renders every validation video)
    ref_beta: float = 0.5           # logged: val frame AUC of logit - ref_beta * the video's reference logit
    val_fraction: float = 0.2       # of training identities, for checkpoint choice and calibration
    eval_every: int = 100
    seed: int = 0
    tracking_uri: str | None = None
    experiment: str = "likeness-detector"
    model: DetectorConfig = field(default_factory=DetectorConfig)
    mouth_steps: int = 1500         # the mouth network's (detector.mouth); 0: none
    mouth_model: DetectorConfig = field(default_factory=lambda: DetectorConfig(size=MOUTH))
    verdict_face: bool = False      # the face network's mean logit joins the video verdict (it always picks the most
                                    # suspicious face); off, as the leave-family-out protocol chose (RESULTS.md)

    def __post_init__(self) -> None:
        if self.steps < 1:
            raise UserError(f"steps must be at least 1, got {self.steps}")
        if self.looks < 0:
            raise UserError(f"looks must be 0 (the validation videos as they are) or more, got {self.looks}")
        if self.mouth_steps < 0:
            raise UserError(f"mouth steps must be 0 (no mouth network) or more, got {self.mouth_steps}")
        for name in ("sbi", "pair_fraction", "fpr"):
            if not 0 <= getattr(self, name) <= 1:
                raise UserError(f"{name} must be between 0 and 1, got {getattr(self, name)}")


@dataclass
class Crops:
    x: np.ndarray          # (N, S, S, 3) uint8
    label: np.ndarray      # (N,) 1 = generated
    video: np.ndarray
    kind: np.ndarray
    identity: np.ndarray
    t: np.ndarray          # seconds into the video
    landmarks: np.ndarray  # (N, 478, 2) face-mesh landmarks (with irises) in crop pixels (float16)
    source: np.ndarray     # real: dataset; fake: generator family (detector.sources)
    fold: np.ndarray       # "real" or the generator fold (detector.sources.FOLDS)

    def take(self, m: np.ndarray) -> "Crops":
        return Crops(*(getattr(self, f)[m] for f in self.__dataclass_fields__))

    def __add__(self, other: "Crops") -> "Crops":
        return Crops(*(np.concatenate([getattr(self, f), getattr(other, f)]) for f in self.__dataclass_fields__))


def crops_of(z, images: str = "crops") -> tuple[Crops, np.ndarray]:
    """The Crops of an opened crops.npz (`images`: "crops", or "crops_marked" for real crops with the watermark) and
    which belong to the held-out (test) identities."""
    if "fold" not in z:
        raise UserError("the detector data was built by an older `likeness train detector-data`; build it again")
    return Crops(z[images], z["label"], z["video"], z["kind"], z["identity"], z["t"], z["landmarks"], z["source"],
                 z["fold"]), z["test"]


def load_crops(data: Path, marked_real: bool) -> tuple[Crops, Crops, dict, tuple[np.ndarray, np.ndarray]]:
    """(train, test) crops split by identity as recorded by the data builder, its index, and the real test
    crops without and with the watermark (to check that the detector ignores the mark)."""
    data = Path(data)
    if not (data / "crops.npz").is_file():
        raise UserError(f"no detector data in {data}; run `likeness train detector-data --out {data}`")
    z = np.load(data / "crops.npz")
    c, test = crops_of(z, "crops_marked" if marked_real else "crops")
    real_test = test & (z["label"] == 0)
    return (c.take(~test), c.take(test), json.loads((data / "index.json").read_text()),
            (z["crops"][real_test], z["crops_marked"][real_test]))


def video_scores(c: Crops, logits: np.ndarray, pool: Callable[[np.ndarray], float] = np.mean
                 ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Pool frame logits per video (`pool`, the mean unless given): (videos, labels, pooled logits)."""
    vids = np.unique(c.video)
    return vids, np.array([c.label[c.video == v][0] for v in vids]), np.array([pool(logits[c.video == v]) for v in vids])


@dataclass
class Split:
    """A training run's data: training and validation crops (people split by identity, minus held-out folds), the
    held-out test crops, the data's index, and the real test crops without and with the watermark."""
    train: Crops
    val: Crops
    test: Crops
    index: dict
    real_pair: tuple[np.ndarray, np.ndarray]


def split(cfg: TrainConfig) -> Split:
    from .data import split_identities

    train_c, test_c, index, real_pair = load_crops(cfg.data, cfg.mark_real)
    train_c = train_c.take(~np.isin(train_c.fold, list(cfg.hold_out)))
    val_ids = split_identities(train_c.identity.tolist(), cfg.val_fraction, cfg.seed + 1)
    is_val = np.isin(train_c.identity, list(val_ids))
    tr, va = train_c.take(~is_val), train_c.take(is_val)
    if len(set(va.label.tolist())) < 2:  # too few identities to hold some out: choose and calibrate on training data
        va = tr
    if len(set(tr.label.tolist())) < 2:
        raise UserError("the training split needs both real and generated crops")
    return Split(tr, va, test_c, index, real_pair)


def train(cfg: TrainConfig, progress: Callable[[int, int, dict], None] | None = None) -> dict:
    """Train the face network (and the mouth network unless cfg.mouth_steps is 0), calibrate, write cfg.out."""

    from likeness.tracking import start_mlflow

    from .model import Detector

    data = split(cfg)
    mlflow = start_mlflow(cfg.tracking_uri, cfg.experiment)  # a bad store fails here, before any work
    files = video_files(cfg.data, data.index) if cfg.reference else {}
    val_refs = reference_crops(data.val, files)   # rendered once; only their logits change during training
    t0 = time.perf_counter()
    with mlflow.start_run() as run:
        mlflow.log_params({**{k: str(v) for k, v in asdict(cfg).items() if k not in ("model", "mouth_model")},
                           **{f"model.{k}": v for k, v in asdict(cfg.model).items()},
                           **{f"mouth_model.{k}": v for k, v in asdict(cfg.mouth_model).items()},
                           "data_sha256": data.index["data_sha256"], "train_crops": len(data.train.x),
                           "val_crops": len(data.val.x), "test_crops": len(data.test.x)})

        def reference_auc(net) -> dict:
            if not val_refs:
                return {}
            d = Detector(net, cfg.model, Calibration())
            r = frame_references(data.val, reference_logits(d, data.val, val_refs))
            ok = np.isfinite(r)
            return {"val_frame_auc_reference": auc(data.val.label[ok], d.logits(data.val.x)[ok] - cfg.ref_beta * r[ok])}

        total = cfg.steps + cfg.mouth_steps  # one progress count over both networks

        def done(before: int) -> Callable[[int, int, dict], None] | None:
            return (lambda s, n, m: progress(before + s, total, m)) if progress else None

        net, info = fit_network(cfg, cfg.model, data.train, data.val, cfg.steps, cfg.sbi, cfg.mask_loss, mlflow, "",
                                done(0), reference_auc)
        mouth = None
        if cfg.mouth_steps:
            mouth_net, mouth_info = fit_network(cfg, cfg.mouth_model, mouth_view(data.train), mouth_view(data.val),
                                                cfg.mouth_steps, 0.0, 0.0, mlflow, "mouth_", done(cfg.steps))
            mouth, info = (mouth_net, cfg.mouth_model), {**info, **mouth_info}
        detector = Detector(net, cfg.model, Calibration(), threshold=0.5, mouth=mouth)
        info = {"train_minutes": (time.perf_counter() - t0) / 60, "steps": cfg.steps, "mouth_steps": cfg.mouth_steps,
                **info, "mlflow_run": run.info.run_id}
        info = calibrate(detector, cfg, data, info, val_refs, reference_crops(data.test, files))
        for f in (cfg.out, cfg.out.with_suffix(".json"), cfg.out.with_suffix(".roc.png")):
            if f.is_file():
                mlflow.log_artifact(str(f))
        mlflow.log_metrics({k: v for k, v in info.items()  # the held-out figures of `evaluate`
                            if k.startswith(("test_", "real_test_")) and isinstance(v, float) and np.isfinite(v)})
    return info


def mouth_view(c: Crops) -> Crops:
    """`c` with each face crop replaced by its mouth patch (detector.mouth) and the landmarks carried along."""
    from .mouth import mouth_patches, patch_landmarks

    return replace(c, x=mouth_patches(c.x, c.landmarks), landmarks=patch_landmarks(c.landmarks))


def fit_network(cfg: TrainConfig, model: DetectorConfig, tr: Crops, va: Crops, steps: int, sbi: float, mask_loss: float,
                mlflow, prefix: str = "", progress: Callable[[int, int, dict], None] | None = None,
                extra: Callable[[object], dict] | None = None) -> tuple[object, dict]:
    """One network trained from scratch on `tr` (batches of `sample_batch`, degraded, a share `sbi` of the
    generated half self-blends with the blend-mask loss at `mask_loss`); the weights of the best validation frame
    AUC on `va` are kept. Metrics go to the open MLflow run with `prefix`. Returns the network and its figures."""
    import torch

    from .model import create, to_tensor

    torch.manual_seed(cfg.seed)
    rng = np.random.default_rng(cfg.seed)
    net = create(model)
    mask_head = torch.nn.Conv2d(net.num_features, 1, 1)  # not saved: it only teaches the backbone where blends are
    opt = torch.optim.AdamW([*net.parameters(), *mask_head.parameters()], lr=cfg.lr, weight_decay=cfg.weight_decay)
    sched = torch.optim.lr_scheduler.OneCycleLR(opt, cfg.lr, total_steps=steps, pct_start=0.1)
    by_class = [np.flatnonzero(tr.label == k) for k in (0, 1)]
    pairs = paired_identities(tr)
    loss_fn = torch.nn.BCEWithLogitsLoss()

    def val_metrics() -> dict:
        from .model import _logits

        net.eval()
        out = {"val_frame_auc": auc(va.label, _logits(net, model, va.x, 64)), **(extra(net) if extra else {})}
        net.train()
        return out

    best: tuple[float, int, dict | None] = (-1.0, 0, None)
    losses, running = [], []
    eval_every = max(1, min(cfg.eval_every, steps))
    net.train()
    for step in range(1, steps + 1):
        x, y, masks = batch_images(tr, sample_batch(by_class, pairs, cfg.batch, cfg.pair_fraction, rng), sbi, rng)
        feats = net.forward_features(to_tensor(x, model.size))
        loss = loss_fn(net.forward_head(feats)[:, 0], torch.from_numpy(y))
        known = np.isfinite(masks[:, 0, 0])  # real crops (no blend) and self-blends; other fakes: unknown
        if mask_loss and known.any():
            m = torch.nn.functional.adaptive_avg_pool2d(torch.from_numpy(masks[known])[:, None], feats.shape[-2:])
            loss = loss + mask_loss * loss_fn(mask_head(feats[torch.from_numpy(known)]), m)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        running.append(loss.item())
        if step % eval_every == 0 or step == steps:
            metrics = {"train_loss": float(np.mean(running)), **val_metrics()}
            running = []
            losses.append(metrics["train_loss"])
            mlflow.log_metrics({prefix + k: v for k, v in metrics.items()}, step=step)
            if best[2] is None or metrics["val_frame_auc"] > best[0]:
                best = (metrics["val_frame_auc"], step, {k: v.clone() for k, v in net.state_dict().items()})
            if progress:
                progress(step, steps, {prefix + k: v for k, v in metrics.items()})
    net.load_state_dict(best[2])
    net.eval()
    return net, {prefix + "best_step": best[1], prefix + "first_train_loss": losses[0],
                 prefix + "final_train_loss": losses[-1], prefix + "val_frame_auc": best[0]}


def calibrate(detector, cfg: TrainConfig, data: Split, info: dict, val_refs: dict | None = None,
              test_refs: dict | None = None) -> dict:
    """Everything after the network is trained, and written to cfg.out (checkpoint, JSON, ROC plot): the frame
    calibration on validation crops, the real-footage norm of the warp consistency on real training videos, the
    video calibrations and the verdict threshold on validation footage, and the held-out figures."""
    from .temporal import RealNorm

    va = data.val
    val_logits = detector.logits(va.x)
    detector.calibration = Calibration.fit(va.label, val_logits)
    real_train = data.train.take((data.train.label == 0) & (data.train.kind == "real"))
    consistency, motion = warp_stats(real_train)
    detector.norm = RealNorm.fit(consistency, motion)
    footage = va.kind != "still"  # stills teach the frames; video verdicts are calibrated on footage
    va_v = va.take(footage)
    va_cues = video_cues(detector, va_v, val_refs)
    _, y, s = video_scores(va_v, val_logits[footage])
    # what real footage looks like: the networks' logits on validation people, the untrained cues on training videos
    real = {k: _mean_sd(v[y == 0]) for k, v in {"logit": s, **va_cues}.items()}
    real["temporal"] = _mean_sd(consistency)
    if detector.norm is not None:
        real["excess"] = _mean_sd(detector.norm.excess(consistency, motion))
    detector.videos = fit_video_calibrations(va_v, val_logits[footage], va_cues, real,
                                             cfg.verdict_face or detector.mouth is None)
    looks = in_looks(va_v.take(va_v.label == 0), cfg.looks, cfg.seed)
    detector.threshold, real_val_p = verdict_threshold(
        detector, va_v + looks, np.r_[val_logits[footage], detector.logits(looks.x)],
        joined_cues([va_v, looks], [va_cues, video_cues(detector, looks, val_refs)]), cfg.fpr)
    curves = held_out_curves(detector, data.test, video_cues(detector, data.test, test_refs))
    info = {**info, "data_sha256": data.index["data_sha256"], "crops_sha256": data.index.get("crops_sha256"), "mark_real": cfg.mark_real,
            "hold_out": list(cfg.hold_out), "train_folds": sorted(set(data.train.fold.tolist()) - {"real"}),
            "threshold": detector.threshold, "threshold_fpr": cfg.fpr, "threshold_real_videos": len(real_val_p) // (1 + cfg.looks),
            "threshold_looks": cfg.looks,
            "threshold_real_people": int(len(np.unique(va_v.identity[va_v.label == 0]))),
            "norm_real_videos": int(len(np.unique(real_train.video))),
            "test_identities": data.index["test_identities"], "val_identities": sorted(np.unique(va.identity).tolist()),
            "real_footage": real, **evaluate(detector, curves, data.real_pair),
            "config": {k: str(v) for k, v in asdict(cfg).items() if k not in ("model", "mouth_model")}}
    detector.save(cfg.out, info)
    cfg.out.with_suffix(".json").write_text(json.dumps({"model": asdict(cfg.model), "mouth_model": asdict(cfg.mouth_model),
                                                        **info}, indent=2))
    plot_roc(curves, cfg.out.with_suffix(".roc.png"))
    return info


def recalibrate(cfg: TrainConfig, checkpoint: Path, mouth: bool = False) -> dict:
    """`calibrate` a trained checkpoint again with this code (its face network as it is) for the data and split of
    `cfg`, written to cfg.out: what changes in the video calibration are measured on without training again. With
    `mouth` (or when the checkpoint has none and cfg asks for one) the mouth network is trained anew first."""
    from likeness.tracking import start_mlflow

    from .model import Detector

    detector = Detector.load(checkpoint)
    data = split(cfg)
    files = video_files(cfg.data, data.index) if cfg.reference else {}
    keep = ("train_minutes", "steps", "best_step", "first_train_loss", "final_train_loss", "val_frame_auc", "mlflow_run",
            *(("mouth_steps", "mouth_best_step", "mouth_first_train_loss", "mouth_final_train_loss", "mouth_val_frame_auc")
              if detector.mouth is not None else ()))
    info = {k: v for k, v in detector.info.items() if k in keep}
    if cfg.mouth_steps and (mouth or detector.mouth is None):
        mlflow = start_mlflow(cfg.tracking_uri, cfg.experiment)
        t0 = time.perf_counter()
        with mlflow.start_run() as run:
            mlflow.log_params({"mouth_steps": cfg.mouth_steps, "seed": cfg.seed, "hold_out": str(cfg.hold_out),
                               "face_network": str(checkpoint), **{f"mouth_model.{k}": v for k, v in asdict(cfg.mouth_model).items()}})
            net, mouth_info = fit_network(cfg, cfg.mouth_model, mouth_view(data.train), mouth_view(data.val),
                                          cfg.mouth_steps, 0.0, 0.0, mlflow, "mouth_")
        detector.mouth = (net, cfg.mouth_model)
        info |= {**mouth_info, "mouth_steps": cfg.mouth_steps, "mouth_minutes": (time.perf_counter() - t0) / 60,
                 "mouth_mlflow_run": run.info.run_id}
    elif not cfg.mouth_steps:
        detector.mouth = None
    return calibrate(detector, cfg, data, info, reference_crops(data.val, files), reference_crops(data.test, files))


def batch_images(c: Crops, idx: np.ndarray, sbi: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The batch's crops, degraded (detector.augment), labels and blend masks; a share `sbi` of its generated crops
    replaced by self-blends of random real crops (detector.blend), so the generated class is also what blending
    does to any real face, not only what the generators at hand do. Masks: the blend's for a self-blend, zero for
    a real crop, NaN (unknown) for a generator's."""
    from .blend import self_blend

    real = np.flatnonzero(c.label == 0)
    size = c.x.shape[1:3]
    out, masks = [], []
    for i in idx:
        if c.label[i] == 1 and rng.random() < sbi:
            j = rng.choice(real)
            img, mask = self_blend(c.x[j], c.landmarks[j].astype(np.float32), rng)
        else:
            img, mask = c.x[i], np.full(size, np.nan if c.label[i] else 0.0, np.float32)
        out.append(degrade(img, rng))
        masks.append(mask)
    return np.stack(out), c.label[idx].astype(np.float32), np.stack(masks).astype(np.float32)


def in_looks(c: Crops, copies: int, seed: int = 0) -> Crops:
    """`copies` re-made copies of every video of `c`, each in one random chain of upload degradations
    (`detector.augment.degrade`, without re-framing, so the landmarks stay true) that is the same for all its frames:
    the many looks real footage arrives in, for the verdict threshold to hold on, not only the few at hand."""
    vids = np.unique(c.video)
    out = []
    for k in range(copies):
        x = np.empty_like(c.x)
        for i, v in enumerate(vids):
            for j in np.flatnonzero(c.video == v):
                x[j] = degrade(c.x[j], np.random.default_rng((seed, k, i)), reframe=False)
        out.append(replace(c, x=x, video=np.char.add(c.video.astype(str), f"#look{k + 1}")))
    return sum(out[1:], out[0]) if out else c.take(np.zeros(len(c.x), bool))


def verdict_threshold(detector, va: Crops, logits: np.ndarray, cues: dict[str, np.ndarray], fpr: float) -> tuple[float, np.ndarray]:
    """The P(fake) above which at most `fpr` of validation real videos (people never trained on) fall, by the
    conformal rank (the ceil((n + 1)(1 - fpr))-th smallest of n), so that the rate holds for a new real video
    with at least that probability on average; and those videos' P(fake) as the default scanner scores them."""
    _, y, s = video_scores(va, logits)
    p = scanner_p(detector, s, cues)[y == 0]
    if not len(p):
        return 0.5, p
    k = int(np.ceil((len(p) + 1) * (1 - fpr)))
    return (float(np.sort(p)[k - 1]) + 1e-6 if k <= len(p) else float(min(1.0, p.max() + 1e-6))), p


def paired_identities(c: Crops) -> list[tuple[np.ndarray, np.ndarray]]:
    """(real crop indices, generated crop indices) of each person seen as both (self-reenactment)."""
    out = []
    for ident in np.unique(c.identity):
        real, fake = (np.flatnonzero((c.identity == ident) & (c.label == k)) for k in (0, 1))
        if len(real) and len(fake):
            out.append((real, fake))
    return out


def sample_batch(by_class: list[np.ndarray], pairs: list, batch: int, pair_fraction: float,
                 rng: np.random.Generator) -> np.ndarray:
    """Half real, half generated; `pair_fraction` of it as same-person pairs, so that who is in the frame
    cannot be the cue (the classifier has to find the rendering)."""
    n_pairs = int(batch * pair_fraction) // 2 if pairs else 0
    idx: list = [rng.choice(b, batch // 2 - n_pairs) for b in by_class]
    for k in rng.integers(0, len(pairs), n_pairs) if n_pairs else []:
        idx.append([rng.choice(pairs[k][0]), rng.choice(pairs[k][1])])
    return np.concatenate(idx).astype(np.int64)


def video_files(data: Path, index: dict) -> dict[str, Path]:
    """Video name -> file, for the fakes in `data`/fakes and the real videos the data was built from."""
    from .sources import list_videos

    files = {Path(f["video"]).stem: Path(data) / "fakes" / f["video"] for f in index["fakes"] if "path" in f}
    real = Path(index["config"]["real_videos"])
    if real.is_dir():
        files |= {p.stem: p for p in list_videos(real)}
    return {k: v for k, v in files.items() if v.is_file()}


def reference_crops(c: Crops, files: dict[str, Path]) -> dict[str, np.ndarray]:
    """Per video of `c` whose file is at hand: crops of a rendering of its face (detector.reference)."""
    from .faces import FaceCropper
    from .reference import video_reference_crops

    out = {v: video_reference_crops(files[v], FaceCropper(max_faces=1)) for v in np.unique(c.video) if v in files}
    return {v: r for v, r in out.items() if r is not None}


def reference_logits(detector, c: Crops, refs: dict[str, np.ndarray]) -> np.ndarray:
    """Per video of `c` (in `video_scores` order): the mean logit on its reference crops, NaN without one."""
    return np.array([detector.logits(refs[v]).mean() if v in refs else np.nan for v in np.unique(c.video)])


def frame_references(c: Crops, per_video: np.ndarray) -> np.ndarray:
    """Each crop's video's reference logit (`per_video` in `video_scores` order)."""
    return per_video[np.searchsorted(np.unique(c.video), c.video)]


def warp_stats(c: Crops) -> tuple[np.ndarray, np.ndarray]:
    """Per video of `c` (in `video_scores` order): its warp consistency and face motion (detector.temporal)."""
    from .temporal import consistencies, face_motion, summary

    out = [consistencies(c.x[c.video == v], c.t[c.video == v]) for v in np.unique(c.video)]
    return np.array([summary(*x) for x in out]), np.array([face_motion(x[1]) for x in out])


DEFAULT_CUES = ("mouth", "temporal")  # what the default scanner weighs besides the frames (`--reference` adds one)
WITH_EXCESS = ("mouth", "excess")  # the warp consistency measured against real footage instead (an ablation: RESULTS.md)


def scanner_p(detector, mean_logits: np.ndarray, cues: dict[str, np.ndarray] | None = None,
              use: tuple[str, ...] = DEFAULT_CUES) -> np.ndarray:
    """Per video, P(fake) as the default scanner gives it: the mean frame logit, with the cues of `use` where they
    were measured (`cues` from `video_cues`, NaN where not; None: frames alone)."""
    cues = {k: v for k, v in (cues or {}).items() if k in use}
    return np.array([float(detector.calibrated(s, {k: v[i] for k, v in cues.items()})) for i, s in enumerate(mean_logits)])


def video_cues(detector, c: Crops, refs: dict[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Per video of `c` (in `video_scores` order): the mouth network's pooled logit (`detector.mouth.pool`, where the detector has one), its
    warp consistency (detector.temporal), its excess over real footage with the same face motion (where the
    detector has the norm) and, where its reference rendering is at hand, the logit on it; NaN where a cue cannot
    be measured."""
    consistency, motion = warp_stats(c)
    cues = {"temporal": consistency}
    if detector.mouth is not None:
        from .mouth import pool

        m = detector.mouth_logits(c.x, c.landmarks.astype(np.float32))
        cues["mouth"] = video_scores(c, m, pool)[2]
    if detector.norm is not None:
        cues["excess"] = detector.norm.excess(consistency, motion)
    if refs:
        cues["reference"] = reference_logits(detector, c, refs)
    return cues


def joined_cues(parts: list[Crops], cues: list[dict[str, np.ndarray]]) -> dict[str, np.ndarray]:
    """The `video_cues` of the crops `sum(parts)` from each part's own (videos of different parts are distinct), so
    that cues already measured are not measured again."""
    vids = np.concatenate([np.unique(c.video) for c in parts])
    order = np.argsort(vids, kind="stable")
    return {k: np.concatenate([c[k] for c in cues])[order] for k in cues[0]}


#: Cues no calibration weighs together: the excess is the warp consistency measured against real footage.
EXCLUSIVE = {"temporal", "excess"}


def _mean_sd(v: np.ndarray) -> tuple[float, float]:
    v = np.asarray(v, np.float64)
    v = v[np.isfinite(v)]
    return (float(v.mean()), float(v.std())) if len(v) > 1 else (0.0, 1.0)


def fit_video_calibrations(va: Crops, logits: np.ndarray, cues: dict[str, np.ndarray], real: dict[str, tuple[float, float]],
                           with_logit: bool = False) -> list[VideoCalibration]:
    """One VideoCalibration per combination of cues (never the warp consistency with its excess), each feature
    standardised on `real` footage (`VideoCalibration.standardised`; the mean frame logit only `with_logit`) and
    the sum's scale fitted on the validation videos (frame `logits` of `va`) that have them all (skipped where
    fewer than 4 videos, or only one class, do)."""
    from itertools import combinations

    _, y, s = video_scores(va, logits)
    out = []
    for k in range(1, len(cues) + 1):
        for names in combinations(sorted(cues), k):
            if EXCLUSIVE <= set(names):
                continue
            ok = np.all([np.isfinite(cues[n]) for n in names], axis=0)
            if ok.sum() >= 4 and len(set(y[ok].tolist())) == 2:
                out.append(VideoCalibration.standardised(s[ok] if with_logit else None, {n: cues[n][ok] for n in names},
                                                         y[ok], real))
    return out


def held_out_curves(detector, c: Crops, cues: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """(labels, scores) on held-out crops: frames; videos as the default scanner scores them (the mean frame logit
    with the warp consistency where it is measured), all and per source of fakes (real footage against
    reenactments, against portraits); videos by frames alone (`--frames-only`), with the consistency's excess
    over real footage instead, and with `--reference` where the detector has that calibration."""
    logits = detector.logits(c.x)
    vids, vy, vs = video_scores(c, logits)
    default = scanner_p(detector, vs, cues)
    curves = {"frames": (c.label, logits), "videos": (vy, default), "videos, frames only": (vy, vs),
              "videos, excess": (vy, scanner_p(detector, vs, cues, WITH_EXCESS))}
    source = np.array([str(c.kind[c.video == v][0]).split("-")[0] for v in vids])
    for name in ("reenact", "portrait", "other"):
        m = (vy == 0) | (source == name)
        curves[f"videos, {name}"] = (vy[m], default[m])
    if detector.has_cue("reference") and "reference" in cues:
        curves["videos, reference"] = (vy, scanner_p(detector, vs, cues, (*DEFAULT_CUES, "reference")))
    return curves


def evaluate(detector, curves: dict[str, tuple[np.ndarray, np.ndarray]],
             real_pair: tuple[np.ndarray, np.ndarray] | None = None) -> dict:
    """Frame- and video-level AUC from `held_out_curves`, and how real frames score with and without the watermark."""
    if not len(curves["frames"][0]):
        return {"test_frame_auc": float("nan"), "test_video_auc": float("nan"), "test_videos": 0, "test_frames": 0}
    vy = curves["videos"][0]
    out = {"test_frame_auc": auc(*curves["frames"]), "test_video_auc": auc(*curves["videos"]),
           "test_videos": int(len(vy)), "test_frames": int(len(curves["frames"][0]))}
    for name in ("frames only", "excess", "reference", "reenact", "portrait", "other"):
        if f"videos, {name}" in curves:
            out[f"test_video_auc_{name.replace(' ', '_')}"] = auc(*curves[f"videos, {name}"])
    if real_pair is not None and len(real_pair[0]):
        out["real_test_p_fake_unmarked"] = float(detector.probabilities(real_pair[0]).mean())
        out["real_test_p_fake_marked"] = float(detector.probabilities(real_pair[1]).mean())
    return out


def plot_roc(curves: dict[str, tuple[np.ndarray, np.ndarray]], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from sklearn.metrics import roc_curve

    if not len(curves["frames"][0]):
        return
    fig, ax = plt.subplots(figsize=(4.5, 4.5))
    for name in ("frames", "videos", "videos, frames only", "videos, reference"):
        y, s = curves.get(name, (np.zeros(0), np.zeros(0)))
        if len(set(y.tolist())) == 2:
            fpr, tpr, _ = roc_curve(y, s)
            ax.plot(fpr, tpr, label=f"{name} (AUC {auc(y, s):.3f})")
    ax.plot([0, 1], [0, 1], ":", color="grey")
    ax.set_xlabel("false positive rate")
    ax.set_ylabel("true positive rate")
    ax.set_title("Detector ROC, held-out identities")
    ax.legend(loc="lower right")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
