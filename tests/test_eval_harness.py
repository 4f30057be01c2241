"""The evaluation harness: metrics with known answers, real perturbations, and the quick suite end to end."""
import json
import math
from pathlib import Path

import numpy as np
import pytest

from eval.realism import flicker, landmark_jitter
from eval.roc import auc_interval, roc_metrics


def test_roc_metrics_known_answers():
    y = np.r_[np.ones(50), np.zeros(50)]
    perfect = roc_metrics(y, y + 0.1)
    assert perfect == {"auc": 1.0, "eer": 0.0, "tpr_at_1fpr": 1.0}
    assert roc_metrics(y, -y)["auc"] == 0.0
    chance = roc_metrics(y, np.random.default_rng(0).random(100))
    assert 0.3 < chance["auc"] < 0.7 and chance["tpr_at_1fpr"] < 0.3
    assert math.isnan(roc_metrics(np.ones(5), np.arange(5))["auc"])


@pytest.mark.slow
def test_auc_interval_resamples_people_not_videos():
    """Known answer: perfectly separated scores give [1, 1]; when one of four real people scores like the
    fakes, the interval reaches down to where that person is drawn often, and it is wider when each person
    counts once than when their 10 videos are wrongly taken as independent."""
    y = np.r_[np.zeros(40), np.ones(40)]
    people = np.r_[np.repeat(np.arange(4), 10), np.arange(100, 140)]
    assert auc_interval(y, y, people) == (1.0, 1.0)
    s = np.r_[np.zeros(30), np.full(10, 0.9), np.linspace(0.5, 1.0, 40)]
    lo, hi = auc_interval(y, s, people)
    naive = auc_interval(y, s, np.arange(80))
    assert lo < 0.75 < hi <= 1.0 and hi - lo > naive[1] - naive[0]


def test_jitter_and_flicker_are_zero_for_a_still_face_and_grow_with_noise():
    rng = np.random.default_rng(0)
    lm = rng.uniform(40, 200, (68, 2))
    lm[36], lm[45] = (80, 100), (160, 100)
    lm[48:68] = rng.uniform(110, 135, (20, 2)) + (0, 50)  # the mouth, below the eyes
    still = np.repeat(lm[None], 20, 0)
    assert landmark_jitter(still) == 0.0
    assert landmark_jitter(still + np.arange(20)[:, None, None] * 0.7) == pytest.approx(0.0, abs=1e-12)  # steady pan
    assert landmark_jitter(still + rng.normal(0, 1.0, still.shape)) > 0.01
    frame = rng.integers(0, 255, (240, 240, 3), dtype=np.uint8)
    assert flicker([frame] * 5, [lm] * 5) == 0.0
    noisy = [np.clip(frame + rng.normal(0, 4, frame.shape), 0, 255).astype(np.uint8) for _ in range(5)]
    assert flicker(noisy, [lm] * 5) > 2.0


@pytest.fixture(scope="module")
def generated_clip(mona_lisa, speech_3s, tmp_path_factory):
    from generator.pipeline import GenerateConfig, generate

    out = tmp_path_factory.mktemp("eval") / "mona.mp4"
    generate(GenerateConfig(mona_lisa, speech_3s, out, size=256, motion="procedural"))
    return out


@pytest.mark.slow
def test_perturbations_write_real_video_files(generated_clip, tmp_path):
    from eval.perturb import PERTURBATIONS, perturb_file
    from generator.video import probe
    from provenance.keys import trust_anchors
    from provenance.manifest import read_manifest

    for name, size, fps in (("resize0.5", 128, 25), ("crop0.9", 232, 25), ("fps30", 256, 30), ("crf35", 256, 25)):
        info = probe(perturb_file(generated_clip, name, tmp_path / f"{name}.mp4"))
        assert (info["video_codec"], info["width"], round(info["fps"])) == ("h264", size, fps), name
    assert read_manifest(perturb_file(generated_clip, "none", tmp_path / "n.mp4"), trust_anchors()).valid
    assert not read_manifest(tmp_path / "crf35.mp4", trust_anchors()).present          # re-encoding strips it
    tampered = read_manifest(perturb_file(generated_clip, "tamper", tmp_path / "t.mp4"), trust_anchors())
    assert tampered.present and not tampered.valid
    assert set(PERTURBATIONS) >= {"crf18", "crf23", "crf28", "crf35", "resize0.25", "blur", "noise", "brightness"}


@pytest.mark.slow
def test_source_looks_write_their_own_formats_and_leave_no_part_file(generated_clip, tmp_path):
    from eval.perturb import LOOKS, perturb_file
    from generator.video import probe

    want = {"mpeg1-360x288": ("mpeg1video", 360, 288, 25, ".mpg"), "studio1080": ("h264", 1920, 1080, 25, ".mp4"),
            "square256": ("h264", 256, 256, 25, ".mp4"), "square160-crf30": ("h264", 160, 160, 25, ".mp4"),
            "gif10": ("gif", 320, 320, 10, ".gif")}
    assert set(LOOKS) == set(want)
    for name in LOOKS:
        out = perturb_file(generated_clip, name, tmp_path / f"{name}.mp4", max_seconds=1.0)
        info = probe(out)
        assert (info["video_codec"], info["width"], info["height"], round(info["fps"]), out.suffix) == want[name], name
        assert 0.8 <= info["duration"] <= 1.2, name
    assert not list(tmp_path.glob(".*part"))


@pytest.mark.slow
def test_real_segments_keep_a_usable_soundtrack_and_drop_a_silent_one(shared, tmp_path):
    from eval.clips import cut_segments
    from generator.video import probe

    talking = cut_segments(shared / "real_videos" / "vrt_4.mp4", tmp_path, 1.0, 2)
    silent = cut_segments(shared / "real_videos" / "lp_driving_d18.mp4", tmp_path, 1.0, 1)  # a silent audio track
    assert len(talking) == 2 and all("audio_codec" in probe(p) for p in talking)
    assert len(silent) == 1 and "audio_codec" not in probe(silent[0]) and probe(silent[0])["video_codec"] == "h264"


@pytest.mark.slow
def test_audio_shifted_by_5_frames_reports_a_lag_5_frames_later(generated_clip, tmp_path):
    """The same frames with their audio delayed by 5 frames (200 ms): the mouth now leads the audio by 5."""
    from eval.realism import measure_video
    from generator.audio import Audio, load_audio
    from generator.video import VideoWriter, read_frames

    a = load_audio(generated_clip, 48_000)
    shifted = Audio(np.r_[np.zeros(int(0.2 * a.rate), np.float32), a.samples], a.rate)
    out = tmp_path / "shifted.mp4"
    with VideoWriter(out, 25, (256, 256), audio=shifted) as wr:
        for f in read_frames(generated_clip):
            wr.write(f)
    base, _ = measure_video(generated_clip)
    moved, _ = measure_video(out)
    assert base.lip_sync_peak > 0.4  # a clear peak (the phones, not the level, shape the mouth since #22)
    assert moved.lip_sync_lag == base.lip_sync_lag - 5
    assert base.identity_distance < 0.3 and base.face_fraction == 1.0


def brightness_detector(frames):
    """A deliberately naive detector, registered the way a researcher would register theirs."""
    return float(np.mean([f.mean() for f in frames]) / 255)


def broken_detector(frames):
    raise RuntimeError("this detector always fails")


@pytest.mark.slow
def test_our_frames_only_scanner_plugs_in_beside_the_default():
    from eval.detectors import build_detectors

    ours, frames = build_detectors(["likeness-frames=eval.detectors:LikenessFramesOnly"], plugins=False)
    assert (ours.name, frames.name) == ("likeness", "likeness-frames")
    assert ours._scanner.cfg.temporal and not frames._scanner.cfg.temporal


@pytest.mark.slow
def test_quick_suite_end_to_end(shared, tmp_path):
    """The quick suite as CI runs it: a report and an MLflow run exist, every metric is finite, and a
    missing video and a failing detector are recorded without stopping the run."""
    import mlflow

    from eval.run import flatten, run_eval
    from eval.suite import suite

    from generator.audio import Audio
    from generator.video import VideoWriter

    rng = np.random.default_rng(0)
    faceless = tmp_path / "faceless.mp4"  # a real file with sound but no face in it
    with VideoWriter(faceless, 25, (160, 120), audio=Audio(rng.uniform(-0.3, 0.3, 4 * 48_000).astype(np.float32), 48_000)) as wr:
        for _ in range(100):
            wr.write(rng.integers(0, 255, (120, 160, 3), dtype=np.uint8))
    cfg = suite("quick", shared)
    cfg.real_videos = [*cfg.real_videos, shared / "real_videos" / "no_such_video.mp4", faceless]
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    m = run_eval(cfg, tmp_path / "out", [f"naive={__name__}:brightness_detector", f"broken={__name__}:broken_detector"], uri)

    assert (tmp_path / "out" / "report.html").stat().st_size > 10_000
    saved = json.loads((tmp_path / "out" / "metrics.json").read_text())
    values = flatten(saved)
    assert len(values) > 80 and all(math.isfinite(v) for v in values.values())
    assert m["counts"]["fakes"] == 4 and m["counts"]["reals"] == 4  # the faceless clip counts, unjudged
    assert {"likeness", "naive"} <= set(m["detection"]) and "broken" not in m["detection"]
    problems = {(e["stage"].split(" (")[0], e["item"].split("_")[0]) for e in saved["errors"]}
    assert {("real video", "no"), ("realism", "faceless"), ("detector likeness", "faceless"),
            ("detector broken", "dit")} <= problems
    assert m["watermark"]["none"]["detection_rate"] == 1.0 and m["watermark"]["none"]["false_positive_rate"] == 0.0
    assert m["c2pa"]["none"]["valid"] == 1.0 and m["c2pa"]["crf28"]["stripped"] == 1.0 and m["c2pa"]["tamper"]["tampered"] == 1.0
    assert m["realism"]["real"]["identity_distance"] < 0.6 and "motion_fd" in m["realism"]["dit"]
    run = mlflow.tracking.MlflowClient(uri).get_run(m["run"]["mlflow_run"])
    assert run.data.metrics["detection.likeness.none.video_auc"] == m["detection"]["likeness"]["none"]["video_auc"]
    assert {a.path for a in mlflow.tracking.MlflowClient(uri).list_artifacts(run.info.run_id)} >= {"metrics.json", "report.html"}


def test_a_stores_artifacts_live_beside_it_not_in_the_working_folder(tmp_path, monkeypatch):
    from likeness.tracking import start_mlflow

    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    mlflow = start_mlflow(f"sqlite:///{tmp_path / 'store' / 'mlflow.db'}", "likeness-test")
    (tmp_path / "note.txt").write_text("hello")
    with mlflow.start_run():
        mlflow.log_artifact(str(tmp_path / "note.txt"))
    assert list((tmp_path / "store").rglob("note.txt")) and not list(work.rglob("*"))


def test_unusable_tracking_store_is_a_clear_error(tmp_path):
    from likeness.errors import UserError
    from likeness.tracking import start_mlflow

    with pytest.raises(UserError, match="cannot use the MLflow tracking store bogus://"):
        start_mlflow("bogus://nowhere", "likeness-test")


@pytest.mark.slow
def test_xgen_suite_scores_families_from_labelled_folders(shared, tmp_path):
    """`--suite xgen`: fakes grouped by family (subfolder), real videos by source; ours and a plug-in detector."""
    import mlflow

    from eval.detectors import build_detectors
    from eval.xgen import run_xgen

    real, fakes = tmp_path / "real", tmp_path / "fakes"
    for folder, names in ((real, ("real_videos/lrwtcn_original.gif", "real_videos/lipnet_GRID_lrwp9a.mpg")),
                          (fakes / "keypoint", ("other_fakes/sda_example.gif",)),
                          (fakes / "swap", ("other_fakes/ffpp_FaceSwap_c23_videos_634_660.mp4",))):
        folder.mkdir(parents=True)
        for name in names:
            (folder / Path(name).name).symlink_to(shared / name)
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    m = run_xgen([real], [fakes], tmp_path / "out", build_detectors([f"naive={__name__}:brightness_detector"], plugins=False), uri)
    assert m["videos"] == {"real": 2, "fake": 2}
    ours = m["detectors"]["likeness"]
    assert set(ours["families"]) == {"keypoint", "swap", "all"} and ours["families"]["all"]["fakes"] == 2
    assert 0 <= ours["families"]["all"]["auc"] <= 1 and 0 < ours["threshold"] < 1
    assert set(ours["false_positive_rate_by_source"]) == {"lrwtcn", "lipnet"}
    assert m["detectors"]["naive"]["threshold"] is None and len(m["detectors"]["naive"]["scores"]) == 4
    assert "| likeness | swap | 1 |" in (tmp_path / "out" / "table.md").read_text()
    run = mlflow.tracking.MlflowClient(uri).get_run(m["mlflow_run"])
    assert run.data.metrics["likeness.all.video_auc"] == ours["families"]["all"]["auc"]
