"""The detector: data building, a tiny training run, scanning, the JSON schema and bad inputs."""
import base64
import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from detector.model import DEFAULT_CHECKPOINT, Detector, DetectorConfig
from detector.scan import ScanConfig, scan
from detector.temporal import MIN_MOTION

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def tiny_data(shared, speech_3s, tmp_path_factory):
    """Two real people (5 s clips), their self-reenactments (2 s, DiT and procedural); two portraits speaking,
    and the portraits themselves as stills."""
    from detector.data import DataConfig, build

    d = tmp_path_factory.mktemp("det")
    for folder, source, names in (("real", "real_videos", ("vrt_2.mp4", "vrt_3.mp4")),
                                  ("portraits", "portraits", ("lp_s9.jpg", "lp_s1.jpg")),
                                  ("other", "other_fakes", ("sadtalkervls_wav2lip.mp4", "liveportrait_inference.gif"))):
        (d / folder).mkdir()
        for name in names:
            (d / folder / name).symlink_to(shared / source / name)
    index = build(DataConfig(d / "real", d / "data", d / "portraits", speech_3s.parent, d / "other", fake_seconds=2.0,
                             real_rate=3.0, max_crops=12, test_fraction=0.5, sizes=(128, 256), stills=True))
    return d, index


def test_data_is_split_by_identity(tiny_data):
    d, index = tiny_data
    z = np.load(d / "data" / "crops.npz")
    assert index["real_crops"] > 10 and index["fake_crops"] > 10
    assert {f["kind"] for f in index["fakes"]} == {"reenact-dit", "reenact-procedural", "portrait-dit", "portrait-procedural"}
    for ident in set(z["identity"].tolist()):  # a person (or portrait) and their fakes are all on one side
        assert len(set(z["test"][z["identity"] == ident].tolist())) == 1
    assert z["test"].any() and not z["test"].all()
    still = z["kind"] == "still"  # both portraits' stills are written, only the training one's crops are kept
    assert len(index["stills"]) == 2 and still.any() and not z["test"][still].any() and (z["label"][still] == 0).all()
    real = z["label"] == 0
    assert not np.array_equal(z["crops"][real], z["crops_marked"][real])   # real crops also come watermarked
    assert np.array_equal(z["crops"][~real], z["crops_marked"][~real])
    assert max(np.unique(z["video"], return_counts=True)[1]) <= 12  # at most max_crops per video
    other = z["kind"] == "other"  # another generator's fakes: its family's fold; a side-by-side montage is left out
    assert set(z["video"][other].tolist()) == {"sadtalkervls_wav2lip"} and set(z["fold"][other].tolist()) == {"lipsync"}
    assert set(z["fold"][~real & ~other].tolist()) == {"likeness"} and set(z["fold"][real].tolist()) == {"real"}
    lm = z["landmarks"].astype(np.float32)  # face-mesh landmarks in crop pixels, for self-blending
    assert lm.shape == (len(z["label"]), 478, 2) and 20 < np.median(lm[..., 0]) < 108 and 20 < np.median(lm[..., 1]) < 108


def test_data_build_without_a_signing_key_stops_before_rendering(shared, tmp_path, monkeypatch):
    """Every fake is signed: a missing key is one clear error, not each render skipped as if it had no face."""
    from detector.data import DataConfig, build
    from likeness.errors import UserError

    monkeypatch.setenv("LIKENESS_HOME", str(tmp_path / "home"))
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "vrt_2.mp4").symlink_to(shared / "real_videos" / "vrt_2.mp4")
    with pytest.raises(UserError, match="no signing key"):
        build(DataConfig(tmp_path / "real", tmp_path / "data"))
    assert not (tmp_path / "data" / "crops.npz").exists()


def test_crops_of_any_video_come_in_pairs_one_second_apart():
    """Whatever a video's length, its crops fit `max_crops` and most of them start a pair DT apart, so the warp
    consistency is measured on every training video as the scanner measures it (at 2.5 crops per second, say,
    no two crops would be 1 s apart)."""
    from detector.data import pair_sampling
    from detector.temporal import crop_pairs

    for seconds in (1.5, 5.0, 8.8, 13.2, 29.4, 58.0, 300.0):
        rate, stride = pair_sampling(seconds, 4.0, 24)
        times = np.arange(0, seconds, 1 / rate)
        times = times[(np.arange(len(times)) % stride) <= 1][:24]
        assert len(times) <= 24 and len(crop_pairs(times)) >= len(times) // 2 - 1, seconds
    assert pair_sampling(5.0, 4.0, 24) == (4.0, 1) and pair_sampling(8.8, 4.0, 24) == (2.0, 1)


def test_tiny_training_decreases_loss_and_logs(tiny_data):
    from detector.train import TrainConfig, train

    d, _ = tiny_data
    cfg = TrainConfig(data=d / "data", out=d / "tiny.pt", steps=30, mouth_steps=20, batch=16, eval_every=10, lr=3e-3,
                      tracking_uri=f"sqlite:///{d}/mlflow.db", model=DetectorConfig(arch="resnet18", size=64),
                      mouth_model=DetectorConfig(arch="resnet18", size=32))
    info = train(cfg)
    assert info["final_train_loss"] < info["first_train_loss"]
    assert info["mouth_best_step"] in (10, 20) and 0 <= info["mouth_val_frame_auc"] <= 1
    detector = Detector.load(cfg.out)
    assert detector.mouth is not None and detector.mouth[1].size == 32
    assert all(c.weight == 0.0 for c in detector.videos) and detector.has_cue("mouth")  # the verdict: mouth and warp
    assert 0 < info["threshold"] < 1 and info["threshold_real_videos"] >= 1
    assert info["test_videos"] >= 2 and 0 <= info["test_video_auc_reenact"] <= 1  # footage against reenactments alone
    assert cfg.out.is_file() and cfg.out.with_suffix(".roc.png").is_file()
    assert info["train_folds"] == ["likeness", "lipsync"]
    import mlflow

    run = mlflow.MlflowClient(cfg.tracking_uri).get_run(info["mlflow_run"])
    assert run.data.params["model.arch"] == "resnet18" and "val_frame_auc" in run.data.metrics


def test_cues_of_joined_crops_equal_the_cues_of_their_parts(tiny_data, shipped):
    """The threshold's validation videos and their degraded copies: each part's cues are measured once."""
    from detector.train import crops_of, in_looks, joined_cues, video_cues

    d, _ = tiny_data
    c, _ = crops_of(np.load(d / "data" / "crops.npz"))
    real = c.take(c.label == 0)
    looks = in_looks(real, 2)
    detector = Detector.load(shipped)
    whole = video_cues(detector, real + looks)
    parts = joined_cues([real, looks], [video_cues(detector, real), video_cues(detector, looks)])
    assert sorted(parts) == sorted(whole) == ["excess", "mouth", "temporal"]
    for k in whole:
        np.testing.assert_allclose(parts[k], whole[k], rtol=1e-5)
    assert len(whole["mouth"]) == 3 * len(np.unique(real.video))


def test_leave_family_out_never_trains_on_the_fold_it_scores(tiny_data):
    from detector.protocol import leave_family_out
    from detector.train import TrainConfig

    d, _ = tiny_data
    base = TrainConfig(data=d / "data", steps=6, mouth_steps=4, batch=8, eval_every=3, tracking_uri=f"sqlite:///{d}/mlflow.db",
                       model=DetectorConfig(arch="resnet18", size=64), mouth_model=DetectorConfig(arch="resnet18", size=32))
    rows = leave_family_out(base, ["lipsync"], d / "folds")
    info = json.loads((d / "folds" / "hold_out_lipsync.json").read_text())
    assert info["hold_out"] == ["lipsync"] and info["train_folds"] == ["likeness"]
    assert [r["family"] for r in rows] == ["sadtalkervls", "fold lipsync"]
    assert rows[0]["fakes"] == 1 and rows[0]["real"] >= 1 and 0 <= rows[0]["auc"] <= 1
    again = leave_family_out(base, ["lipsync"], d / "folds", reuse=True)  # the same recipe: calibrated again, not retrained
    assert json.loads((d / "folds" / "hold_out_lipsync.json").read_text())["mlflow_run"] == info["mlflow_run"]
    keys = ("auc", "auc_excess", "auc_frames", "auc_mouth", "auc_temporal")
    assert [[r[k] for k in keys] for r in again] == [[r[k] for k in keys] for r in rows]


@pytest.fixture(scope="module")
def shipped():
    if not DEFAULT_CHECKPOINT.is_file():
        pytest.fail("the shipped detector checkpoint is missing; run `make train-detector`")
    return DEFAULT_CHECKPOINT


def test_generated_scores_higher_than_real(shipped, shared, mona_lisa, speech_3s, tmp_path):
    from generator.pipeline import GenerateConfig, generate

    fake = generate(GenerateConfig(mona_lisa, speech_3s, tmp_path / "fake.mp4", size=256)).out
    real = shared / "real_videos" / "vrt_4.mp4"
    r_fake, r_real = scan([fake, real], ScanConfig(rate=4.0, max_seconds=3.0))
    assert r_fake.probability_fake > r_real.probability_fake
    assert r_fake.provenance["watermark_found"] and r_fake.provenance["verdict"] == "verified"
    assert not r_real.provenance["watermark_found"]
    assert r_fake.face_tracks == 1 and r_fake.timeline and r_fake.timeline[0]["second"] == 0
    assert r_fake.reference_logit is None  # off by default
    assert r_fake.mouth_logit > r_real.mouth_logit  # the mouth network: part of the default verdict
    assert r_fake.temporal_consistency > r_real.temporal_consistency  # a warped photo against real skin (on by default)
    assert r_fake.face_motion > MIN_MOTION and r_real.face_motion > MIN_MOTION  # both faces talk
    other = {name: scan([fake, real], ScanConfig(rate=4.0, max_seconds=3.0, provenance=False, **cfg))
             for name, cfg in (("reference", {"reference": True}), ("frames only", {"temporal": False}))}
    assert all(f.probability_fake > r.probability_fake for f, r in other.values())
    (ref_fake, ref_real), (f_fake, _) = other["reference"], other["frames only"]
    assert ref_fake.reference_logit is not None and ref_real.reference_logit is not None
    assert f_fake.temporal_consistency is None and f_fake.face_motion is None


def test_a_still_portrait_becomes_a_slow_pan_of_the_generators_canvas(mona_lisa, tmp_path):
    from detector.data import write_still
    from detector.faces import FaceCropper
    from generator.video import read_frames

    frames = list(read_frames(write_still(mona_lisa, 128, tmp_path / "still.mp4", 1.0, fps=10)))
    assert len(frames) == 10 and frames[0].shape == (128, 128, 3)
    assert np.abs(frames[-1].astype(int) - frames[0].astype(int)).mean() > 2  # it moves: no two frames alike
    assert FaceCropper(max_faces=1).landmarks(frames[-1])  # and still shows the face


def test_reference_rendering_is_deterministic(mona_lisa):
    from detector.faces import FaceCropper
    from detector.reference import REF_RATE, REF_SECONDS, reference_crops, speech_like
    from generator.face.analysis import load_image

    assert np.array_equal(speech_like(2.0, seed=3), speech_like(2.0, seed=3))
    rgb = load_image(mona_lisa)
    a, b = (reference_crops(rgb, FaceCropper(max_faces=1)) for _ in range(2))
    assert a.shape[1:] == (128, 128, 3) and len(a) >= REF_SECONDS * REF_RATE and np.array_equal(a, b)
    assert a.std(0).mean() > 0.5  # the face moves: not one frame repeated


def test_reference_calibration_cancels_a_per_person_offset():
    """Known answer: scores = person's offset + 1 for fakes; the reference carries the offset. Frames alone rank
    badly across people; relative to the reference the two classes separate completely."""
    from detector.calibration import VideoCalibration
    from eval.roc import roc_metrics

    rng = np.random.default_rng(0)
    offset = rng.normal(0, 3, 40)
    y = np.tile([0, 1], 20)
    suspect = offset + y + rng.normal(0, 0.05, 40)
    reference = offset + 1 + rng.normal(0, 0.05, 40)
    cal = VideoCalibration.fit(suspect, {"reference": reference}, y)
    assert roc_metrics(y, suspect)["auc"] < 0.8
    assert roc_metrics(y, cal(suspect, {"reference": reference}))["auc"] == 1.0 and cal.cue_weights[0] < 0 < cal.weight


def test_calibrations_put_even_odds_midway_whatever_the_class_mix():
    """Known answer: real and generated scores mirror each other around 0, with ten times more generated ones;
    P = 0.5 still falls at 0 (a fit weighting every sample alike would move it towards the real class)."""
    from detector.calibration import Calibration, VideoCalibration

    real = np.linspace(-3, 1, 12)
    fake = np.tile(-real, 10)
    x, y = np.r_[real, fake], np.r_[np.zeros(len(real)), np.ones(len(fake))]
    frames = Calibration.fit(y, x)
    assert abs(-frames.b / frames.a) < 0.05
    videos = VideoCalibration.fit(x, {"temporal": x}, y)
    assert abs(float(videos(0.0, {"temporal": 0.0})) - 0.5) < 0.01


def test_video_calibration_keeps_each_weight_to_its_direction():
    """Unconstrained it is sklearn's balanced logistic regression; where validation videos say a higher frame logit
    means real (a quirk of a few videos), the logit's weight stops at 0 instead of turning the evidence around."""
    from sklearn.linear_model import LogisticRegression

    from detector.calibration import VideoCalibration

    rng = np.random.default_rng(0)
    y = (rng.random(60) < 0.3).astype(int)
    logit, excess = rng.normal(0, 1, 60) + y, rng.normal(0, 1, 60) + 2 * y
    cal = VideoCalibration.fit(logit, {"excess": excess}, y)
    x = np.c_[logit, excess]
    mu, sd = x.mean(0), x.std(0) + 1e-9
    lr = LogisticRegression(C=10.0, class_weight="balanced").fit((x - mu) / sd, y)
    assert np.allclose([cal.weight, *cal.cue_weights], lr.coef_[0] / sd, atol=1e-3)
    flipped = VideoCalibration.fit(-logit, {"excess": excess}, y)
    assert flipped.weight == 0.0 and flipped.cue_weights[0] > 0
    assert VideoCalibration.fit(logit, {"reference": excess}, y).cue_weights[0] == 0.0  # a reference logit only lowers P


def test_standardised_calibration_counts_each_feature_in_real_footage_deviations():
    """Known answer: validation fakes that only the mouth logit separates do not buy it a larger weight; each
    feature counts in real footage's standard deviations (sd 1 and 4: weights 4 to 1), turned to its direction
    (a reference logit lowers P), the frame logit only when asked for; P = 0.5 where the classes meet."""
    from detector.calibration import VideoCalibration

    rng = np.random.default_rng(0)
    y = np.repeat([0, 1], 30)
    real = {"logit": (0.0, 2.0), "mouth": (0.0, 1.0), "temporal": (0.5, 4.0), "reference": (0.0, 1.0)}
    cues = {"mouth": rng.normal(0, 1, 60) + 3 * y, "temporal": rng.normal(0.5, 4, 60)}
    cal = VideoCalibration.standardised(None, cues, y, real)
    assert cal.weight == 0.0 and cal.cues == ["mouth", "temporal"]
    assert np.isclose(cal.cue_weights[0] / cal.cue_weights[1], 4.0) and cal.cue_weights[1] > 0
    p = cal(np.zeros(60), cues)
    assert p[y == 1].mean() > 0.8 > 0.2 > p[y == 0].mean()
    with_ref = VideoCalibration.standardised(rng.normal(0, 2, 60), {"reference": -cues["mouth"]}, y, real)
    assert with_ref.cue_weights[0] < 0 < with_ref.weight and np.isclose(with_ref.weight / -with_ref.cue_weights[0], 0.5)


def test_mouth_pooling_reads_a_video_by_its_least_suspicious_frames():
    from detector.mouth import pool

    real_with_bursts = np.r_[np.full(15, -3.0), np.full(5, 5.0)]  # a few frames that look made
    made = np.random.default_rng(0).normal(1.0, 0.5, 20)             # every frame made, some less obviously
    assert pool(real_with_bursts) == -3.0 and real_with_bursts.mean() == -1.0
    assert pool(made) > pool(real_with_bursts)
    assert pool(np.array([2.0])) == 2.0 and pool(np.array([4.0, 1.0, 3.0])) == 1.0  # at least one frame
    assert pool(made[::-1]) == pool(made) and np.isnan(pool(np.zeros(0)))


def test_mouth_patch_is_centred_on_the_lips(mona_lisa):
    """The mouth view cut from a real face crop (real mediapipe): the lips' centre lands mid-patch, every lip point
    inside it, the eyes outside; patches are MOUTH px square."""
    from PIL import Image

    from detector.faces import FaceCropper
    from detector.mouth import LIPS, MOUTH, mouth_patches, patch_landmarks

    rgb = np.asarray(Image.open(mona_lisa).convert("RGB"))
    cropper = FaceCropper(max_faces=1)
    crop, lm = cropper.crop(rgb, cropper.landmarks(rgb)[0])
    p, q = mouth_patches(crop[None], lm[None]), patch_landmarks(lm[None])[0]
    assert p.shape == (1, MOUTH, MOUTH, 3) and p.dtype == np.uint8
    assert np.allclose(q[list(LIPS)].mean(0), MOUTH / 2, atol=0.5)
    lips = q[[61, 291, 0, 17, 13, 14]]
    assert ((lips > 0) & (lips < MOUTH)).all() and (q[[33, 263], 1] < 0).all()


def test_video_calibration_picks_the_most_cues_at_hand():
    from detector.calibration import VideoCalibration, pick

    only_t = VideoCalibration(["temporal"], 1.0, [2.0], 0.0)
    both = VideoCalibration(["reference", "temporal"], 1.0, [-1.0, 2.0], 0.0)
    assert pick([only_t, both], {"temporal": 0.5, "reference": None}) is only_t
    assert pick([only_t, both], {"temporal": 0.5, "reference": 1.0}) is both
    assert pick([only_t, both], {"temporal": float("nan")}) is None
    assert abs(float(both(0.0, {"temporal": 0.5, "reference": 1.0})) - 0.5) < 1e-9


def test_real_footage_norm_measures_consistency_against_motion():
    """Known answer: real videos whose -log(1 - consistency) falls by 0.8 per unit of log motion (a still speaker is
    consistent too); the norm recovers the line, a video 2 SD above it has excess 2 whatever its motion, NaN stays NaN."""
    from detector.temporal import RealNorm

    rng = np.random.default_rng(0)
    motion = np.exp(rng.uniform(-1.5, 1.5, 200))
    z = 4.0 - 0.8 * np.log(motion) + rng.normal(0, 0.5, 200)
    norm = RealNorm.fit(1 - np.exp(-z), motion)
    assert abs(norm.slope + 0.8) < 0.05 and abs(norm.intercept - 4.0) < 0.1 and abs(norm.sd - 0.5) < 0.05
    for m in (0.3, 2.0):
        above = 1 - np.exp(-(norm.intercept + norm.slope * np.log(m) + 2 * norm.sd))
        assert abs(float(norm.excess(above, m)) - 2.0) < 1e-3
    assert np.isnan(norm.excess(float("nan"), 1.0)) and np.isnan(norm.excess(0.99, float("nan")))
    assert RealNorm.fit(np.full(4, 0.98), np.ones(4)) is None  # too few videos to say what real footage does


def test_video_calibrations_never_weigh_the_warp_consistency_with_its_excess():
    """The excess restates the consistency, so no calibration takes both; the one at hand is used."""
    from detector.calibration import pick
    from detector.train import Crops, fit_video_calibrations

    rng = np.random.default_rng(0)
    n = 12
    y = np.repeat([0, 1], n // 2)
    video = np.array([f"v{i:02d}" for i in range(n)])
    c = Crops(x=np.zeros((n, 1)), label=y, video=video, kind=np.full(n, "real"), identity=video, t=np.zeros(n),
              landmarks=np.zeros((n, 1)), source=np.full(n, "x"), fold=np.full(n, "real"))
    cues = {k: rng.normal(0, 1, n) + y for k in ("temporal", "excess", "reference")}
    cals = fit_video_calibrations(c, rng.normal(0, 1, n), cues, {k: (0.0, 1.0) for k in cues})
    assert sorted(tuple(x.cues) for x in cals) == [("excess",), ("excess", "reference"), ("reference",),
                                                   ("reference", "temporal"), ("temporal",)]
    assert pick(cals, {"temporal": 0.99}).cues == ["temporal"]  # the default scanner
    assert pick(cals, {"excess": 1.0, "reference": 0.0}).cues == ["excess", "reference"]
    assert pick(cals, {"temporal": 0.99, "excess": None}).cues == ["temporal"]


def test_warp_consistency_separates_a_warped_photo_from_fresh_texture_and_leaves_out_a_still_one():
    """Known answer: frames made by bending one textured image (as a one-photo renderer does) are far more
    warp-consistent than frames whose fine texture is redrawn each time (as a camera's is); frames that only
    shift it (a pan over a still picture) have no face motion, so the cue is not measured."""
    import cv2

    from detector.temporal import MIN_MOTION, consistencies, crop_pairs, face_motion, warp_consistency

    rng = np.random.default_rng(0)
    base = cv2.GaussianBlur(rng.integers(0, 255, (160, 160, 3)).astype(np.uint8), (0, 0), 1.0)
    gx, gy = np.meshgrid(np.arange(160, dtype=np.float32), np.arange(160, dtype=np.float32))
    times = np.arange(8) / 2.0
    bent = np.stack([cv2.remap(base, gx + 0.5 * k * np.sin(gy / 10), gy + 0.5 * k * np.cos(gx / 13), cv2.INTER_LINEAR)[16:144, 16:144]
                     for k in range(8)])
    shifted = np.stack([np.roll(base, (k, 2 * k), (0, 1))[16:144, 16:144] for k in range(8)])
    fresh = np.stack([rng.integers(0, 255, (128, 128, 3)).astype(np.uint8) for _ in range(8)])
    assert crop_pairs(times) == [(i, i + 2) for i in range(6)]  # 1 s apart at 2 frames per second
    assert warp_consistency(bent, times) > 0.9 > 0.2 > warp_consistency(fresh, times)
    assert face_motion(consistencies(bent, times)[1]) > MIN_MOTION > face_motion(consistencies(shifted, times)[1])
    assert np.nanmedian(consistencies(shifted, times)[0]) > 0.9 and np.isnan(warp_consistency(shifted, times))
    assert np.isnan(warp_consistency(bent[:2], times[:2]))  # 0.5 s of video: no pair 1 s apart


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "likeness", *map(str, args)], capture_output=True, text=True, timeout=300)


def test_scan_json_schema_and_bad_inputs(shipped, shared, mona_lisa, tmp_path):
    from tests.conftest import write_wav

    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "corrupt.mp4").write_bytes(b"\x00\x00\x00\x18ftypmp42" + bytes(300))
    write_wav(bad / "speech.wav", np.sin(np.arange(16_000) / 10) * 0.3, 16_000)
    audio_only = bad / "speech.wav"
    image = mona_lisa
    llama = shared / "portraits" / "lp_s23.jpg"
    report = tmp_path / "report.html"
    video = shared / "real_videos" / "vrt_5.mp4"
    table = tmp_path / "scan.csv"
    r = _cli("scan", bad, audio_only, image, llama, video, "--json", "--max-seconds", 2, "--report", report,
             "--csv", table)
    assert r.returncode == 0, r.stderr
    rows = [json.loads(line) for line in r.stdout.splitlines()]
    assert len(rows) == 5 and all(row["schema"] == 7 for row in rows)  # speech.wav once, though named twice
    keys = {"file", "status", "verdict", "probability_fake", "threshold", "frames_sampled", "frames_with_face", "frames",
            "face_tracks", "timeline", "provenance", "temporal_consistency", "face_motion", "reference_logit", "error",
            "seconds_scanned", "scan_time_s", "most_suspicious"}
    assert all(keys <= set(row) for row in rows)
    by_name = {row["file"].rsplit("/", 1)[-1]: row for row in rows}
    assert by_name["corrupt.mp4"]["status"] == "error" and by_name["corrupt.mp4"]["error"]
    assert by_name["speech.wav"]["status"] == "skipped" and "audio" in by_name["speech.wav"]["error"]
    for still in ("lp_s23.jpg", "lp_s9.jpg"):  # never scored as a one-frame video (#20: stills were called fake)
        assert by_name[still]["status"] == "skipped" and by_name[still]["probability_fake"] is None
        assert "still JPEG image" in by_name[still]["error"]
    assert by_name["vrt_5.mp4"]["status"] == "ok" and by_name["vrt_5.mp4"]["timeline"]
    assert report.is_file() and "<svg" in report.read_text() and "data:image/jpeg;base64," in report.read_text()
    with open(table, newline="") as f:
        csv_rows = list(csv.DictReader(f))
    assert [(c["file"], c["verdict"]) for c in csv_rows] == [(row["file"], row["verdict"]) for row in rows]
    r = _cli("scan", video, "--csv", tmp_path)
    assert r.returncode == 2 and r.stderr.strip() == f"error: --csv {tmp_path} is a folder; give a file name"
    empty = tmp_path / "empty"
    empty.mkdir()
    r = _cli("scan", empty)
    assert r.returncode == 2 and r.stderr.strip() == "error: no files to scan"


def test_ray_scan_equals_local_scan(shipped, shared, tmp_path):
    """The same folder scanned on a local Ray cluster (ray.data) gives the local scanner's results."""
    folder = tmp_path / "videos"
    folder.mkdir()
    for name in ("vrt_3.mp4", "lp_driving_d20.mp4"):
        (folder / name).symlink_to(shared / "real_videos" / name)
    cfg = ScanConfig(rate=2.0, max_seconds=2.0, provenance=False)
    local = scan([folder], cfg)
    on_ray = scan([folder], cfg, ray_address="local")

    def same(r):
        d = r.to_dict()
        d.pop("scan_time_s")
        return d
    assert [same(r) for r in on_ray] == [same(r) for r in local]


def test_one_sampling_scored_by_two_scanners_equals_their_own_scans(shipped, shared):
    """`Scanner.sample` decodes a video once; `score` by scanners with other settings gives each one's own scan."""
    from detector.scan import Scanner

    video = shared / "real_videos" / "vrt_3.mp4"
    default, frames_only = (Scanner(ScanConfig(rate=2.0, max_seconds=2.5, provenance=False, temporal=t)) for t in (True, False))
    faces = default.sample(video)

    def result(r):
        d = r.to_dict()
        d.pop("scan_time_s")
        return d
    for scanner in (default, frames_only):
        assert result(scanner.score(video, faces)) == result(scanner.scan_file(video))
    assert default.score(video, faces).temporal_consistency is not None
    assert frames_only.score(video, faces).temporal_consistency is None


def test_temporal_cue_leaves_out_a_pan_over_a_still_portrait(shipped, mona_lisa, tmp_path):
    """A pan across a photo is warp-consistent, but its face does not move: the scanner must not read it as a
    renderer's work (the verdict rests on the frames)."""
    from detector.data import write_still

    still = write_still(mona_lisa, 256, tmp_path / "pan.mp4", 2.5)
    r = scan([still], ScanConfig(rate=4.0, provenance=False))[0]
    assert r.status == "ok" and r.probability_fake is not None
    assert r.face_motion is not None and r.face_motion < MIN_MOTION and r.temporal_consistency is None


def test_a_folder_scan_finds_mpg_mov_and_gif_and_skips_a_text_file(shipped, shared, tmp_path):
    """#23: every video PyAV opens is scanned, whatever its container; anything else is reported with a reason."""
    for name in ("real_videos/lipnet_GRID_lrwp9a.mpg", "other_fakes/atvgnet_results.mov", "real_videos/lrwtcn_original.gif"):
        (tmp_path / Path(name).name).symlink_to(shared / name)
    (tmp_path / "notes.txt").write_text("not a video\n")
    results = {Path(r.file).name: r for r in scan([tmp_path], ScanConfig(rate=2.0, max_seconds=1.5, provenance=False))}
    assert len(results) == 4
    for name in ("lipnet_GRID_lrwp9a.mpg", "atvgnet_results.mov", "lrwtcn_original.gif"):
        r = results[name]
        assert r.status == "ok" and r.probability_fake is not None, (name, r.error)
        m = r.most_suspicious  # the crop a moderator sees: a real JPEG of a face
        assert m and 0 <= m["t"] <= 1.6 and base64.b64decode(m["jpeg"])[:3] == b"\xff\xd8\xff"
    assert results["notes.txt"].status == "skipped" and results["notes.txt"].error == "not a video: a text file"
