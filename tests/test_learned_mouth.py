"""The v3 renderer: the opening between the lips filled by the learned mouth (`generator.render.inpaint`), the
portrait's own teeth kept, a clear error for a missing or corrupt model, and a trainer that exports what loads."""
import numpy as np
import pytest

from generator import latent
from generator.face import topology as topo
from generator.render import inpaint
from generator.render.bank import PATCH_H, PATCH_W, cut_patch
from generator.render.inpaint import MouthNet, opening_mask
from generator.render.renderer import make_renderer
from likeness.errors import UserError

POSE0 = np.zeros(len(latent.POSE))


def expr(**kw):
    e = np.zeros(len(latent.EXPRESSION))
    for k, v in kw.items():
        e[latent.EXPRESSION.index(k)] = v
    return e


def test_the_opening_mask_lies_between_the_lips():
    up = np.full(PATCH_W, 40.0)
    lo = np.full(PATCH_W, 60.0)
    lo[:20] = up[:20]  # the lips touch at the left: no opening there
    m = opening_mask(up, lo, pad=1.5)
    assert m.shape == (PATCH_H, PATCH_W) and m.dtype == np.float32
    assert m[50, 64] == 1.0 and m[39, 64] == 1.0 and m[61, 64] == 1.0 and m[37, 64] == 0.0 and m[63, 64] == 0.0
    assert not m[:, :20].any()
    closed = opening_mask(up, up, pad=0.0, seam=2.0)  # lips together: with a seam, their junction is redrawn
    assert not opening_mask(up, up).any() and closed[40, 64] == 1.0 and closed[37, 64] == 0.0
    assert not closed[:, :16].any() and closed[:, 30].sum() < closed[:, 64].sum()  # tapering to the corners


def test_the_learned_mouth_loads_and_renders_deterministically(mona_portrait):
    e = expr(jaw_open=0.6, mouth_stretch=0.2)
    a = make_renderer(mona_portrait, "v3").render(POSE0, e)
    b = make_renderer(mona_portrait, "v3").render(POSE0, e)
    v2 = make_renderer(mona_portrait, "v2").render(POSE0, e)
    assert np.array_equal(a, b)
    lm = make_renderer(mona_portrait, "v3").landmarks(POSE0, e)
    cx, cy = np.round(lm[[13, 14], :2].mean(0)).astype(int)
    assert np.abs(a[cy - 2:cy + 3, cx - 4:cx + 5].astype(int) - v2[cy - 2:cy + 3, cx - 4:cx + 5]).mean() > 3  # not the bank


class FlatNet:
    """A stand-in network that fills every opening with one colour: shows where the renderer puts its output."""

    def fill(self, patch, mask, ref, ref_mask):
        assert patch.shape == (PATCH_H, PATCH_W, 3) and mask.shape == (PATCH_H, PATCH_W) and mask.max() > 0
        return np.broadcast_to(np.array([40.0, 120.0, 200.0], np.float32), (PATCH_H, PATCH_W, 3)).copy()


def test_the_interior_is_what_the_network_draws(mona_portrait):
    from generator.render.mouth import LearnedMouth

    r = make_renderer(mona_portrait, "v3")
    r.mouth = LearnedMouth(mona_portrait.image, mona_portrait.landmarks, mona_portrait.upscale, net=FlatNet())
    e = expr(jaw_open=0.6)
    out = r.render(POSE0, e)
    lm = r.landmarks(POSE0, e)
    cx, cy = np.round(lm[[13, 14], :2].mean(0)).astype(int)
    drawn = inpaint.tissue_colour(np.array([40.0, 120.0, 200.0]), r.mouth.light)  # in the portrait's colours
    assert np.abs(out[cy - 1:cy + 2, cx - 2:cx + 3].reshape(-1, 3).mean(0) - drawn).max() < 2
    closed = r.render(POSE0, expr())  # lips together: nothing to fill, the portrait as it is
    assert np.abs(closed.astype(int) - make_renderer(mona_portrait, "v2").render(POSE0, expr())).max() == 0


def test_the_network_sees_the_frame_around_the_opening_and_the_portraits_mouth(mona_portrait):
    """What goes in: the frame's mouth patch with the opening masked out, and the portrait's mouth."""
    net = MouthNet.load()
    patch, up, lo = cut_patch(mona_portrait.image, mona_portrait.landmarks)
    lo = np.maximum(lo, up + 12 * np.sin(np.linspace(0, np.pi, PATCH_W)))
    mask = opening_mask(up, lo)
    x = inpaint.model_input(patch, mask, patch, opening_mask(up, up))
    assert x.shape == (inpaint.IN_CHANNELS, PATCH_H, PATCH_W)
    assert np.abs(x[:3][:, mask == 1]).max() == 0 and x[3].max() == 1.0
    y = net.fill(patch, mask, patch, opening_mask(up, up))
    assert y.shape == (PATCH_H, PATCH_W, 3) and np.isfinite(y).all()
    inside = y[mask > 0.99]
    assert 0 <= inside.min() and inside.max() <= 255 and inside.std() > 1  # a picture, not one flat colour


def test_the_interior_takes_the_brightness_drawn_and_the_colour_of_lips_and_teeth():
    lips, whites = np.array([150.0, 80.0, 70.0]), np.array([230.0, 225.0, 220.0])
    rgb = np.array([[20.0, 30.0, 25.0], [90.0, 160.0, 60.0], [226.0, 226.0, 226.0]])
    out = inpaint.tissue_colour(rgb, np.stack([lips, whites]))
    assert np.allclose(out @ inpaint.LUMA, rgb @ inpaint.LUMA, atol=1e-3)  # the network's shading is kept
    assert out[0, 0] > out[0, 1] and out[0, 0] > out[0, 2]  # a dark cavity is red like the lips, not green
    assert np.abs(out[2] - whites).max() < 1.0  # teeth as bright as the eyes' whites are their colour
    varnish = np.stack([[151.0, 114.0, 63.0], [198.0, 163.0, 89.0]])  # the Mona Lisa's lips and whites
    assert (np.diff(inpaint.tissue_colour(rgb, varnish), axis=1) <= 0).all()  # under yellow light: R >= G >= B


def test_teeth_under_a_paintings_varnish_are_not_green(mona_portrait):
    """The demo's Mona Lisa with her lips drawn back (a frame of `make demo`): the network alone drew green teeth."""
    from eval.reenact import green_share
    from generator.render.mouth import LearnedMouth

    e = expr(jaw_open=0.18, mouth_stretch=-0.26, lip_pucker=-0.66, upper_lip=0.51, lower_lip=1.18)

    def green(colour: bool) -> float:
        r = make_renderer(mona_portrait, "v3")
        r.mouth = LearnedMouth(mona_portrait.image, mona_portrait.landmarks, mona_portrait.upscale, colour=colour)
        share = green_share(r.render(POSE0, e), r.landmarks(POSE0, e))
        assert share is not None
        return share[0]

    assert green(colour=True) < 0.02
    assert green(colour=False) > 0.1


def test_a_smiling_portrait_keeps_its_own_teeth_in_v3(shared):
    """Only the lower lip moves: the upper half of the portrait's own interior (its upper teeth) stays pixel for pixel."""
    import cv2

    from generator.face.analysis import analyze_file

    portrait = analyze_file(shared / "portraits" / "lp_s42.jpg", 512)
    lm = portrait.landmarks[:, :2]
    top, bottom = lm[topo.LIPS_INNER_UPPER], lm[topo.LIPS_INNER_LOWER]
    half = np.r_[top, ((top + bottom) / 2 - (0, 1.5))[::-1]]
    mask = np.zeros(portrait.image.shape[:2], np.uint8)
    cv2.fillPoly(mask, [np.round(half).astype(np.int32)], 1)
    upper = cv2.erode(mask, np.ones((3, 3), np.uint8)) > 0
    assert upper.sum() > 100
    r = make_renderer(portrait, "v3")
    out = r.render(POSE0, expr(lower_lip=0.8))[upper]
    assert np.abs(out.astype(int) - portrait.image[upper]).mean() < 1.0
    assert np.array_equal(r.render(POSE0, expr()), portrait.image)  # an open mouth that does not move: untouched


def test_a_missing_or_corrupt_model_is_a_clear_error(mona_portrait, tmp_path, monkeypatch):
    with pytest.raises(UserError, match="mouth model missing"):
        MouthNet.load(tmp_path / "nothing.onnx")
    bad = tmp_path / "mouth_net.onnx"
    bad.write_bytes(inpaint.MODEL_PATH.read_bytes()[:5000])
    with pytest.raises(UserError, match="mouth model is corrupt"):
        MouthNet.load(bad)
    monkeypatch.setattr(inpaint, "MODEL_PATH", bad)
    with pytest.raises(UserError, match="corrupt"):   # no silent fallback to another mouth
        make_renderer(mona_portrait, "v3")


@pytest.mark.slow
def test_the_trainer_cuts_mouths_trains_and_exports_a_model_that_loads(shared, tmp_path):
    """`likeness train mouth-data` and `train mouth` end to end on two short clips, a few steps: the export loads
    through the same path the renderer uses, and the run is in the MLflow store."""
    import json

    from generator.render.mouth_data import prepare
    from generator.render.train_mouth import MouthTrainConfig, train

    videos = tmp_path / "real_videos"
    videos.mkdir()
    for stem in ("lrcar_Additional_Videos_01549", "osalgrid_s1_bbaz4n"):
        src = next((shared / "real_videos").glob(stem + ".*"))
        (videos / src.name).symlink_to(src)
    index = prepare(videos, tmp_path / "mouth")
    assert len(index["clips"]) == 2 and all(e["frames"] >= 8 for e in index["clips"])
    out = tmp_path / "net.onnx"
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    info = train(MouthTrainConfig(data=tmp_path / "mouth", out=out, steps=3, batch=2, eval_every=3, val_share=0.0,
                                  tracking_uri=uri))
    assert out.is_file() and json.loads(out.with_suffix(".json").read_text())["data_hash"] == index["hash"]
    assert np.isfinite(info["val_l1"])
    patch = np.full((PATCH_H, PATCH_W, 3), 128, np.uint8)
    mask = opening_mask(np.full(PATCH_W, 40.0), np.full(PATCH_W, 60.0))
    assert MouthNet.load(out).fill(patch, mask, patch, mask).shape == (PATCH_H, PATCH_W, 3)
    # the options for closed references: half the pairs drawn with one, and the patch discriminator from the start
    adv = train(MouthTrainConfig(data=tmp_path / "mouth", out=tmp_path / "adv.onnx", steps=2, batch=2, eval_every=2,
                                 val_share=0.0, closed_ref=0.5, adv_weight=0.05, adv_start=0.0,
                                 tracking_uri=f"sqlite:///{tmp_path / 'adv.db'}"))
    assert np.isfinite(adv["val_closed_ref_l1"]) and {"disc_loss", "gen_adv_loss"} <= set(adv["history"][-1])

    import mlflow

    mlflow.set_tracking_uri(uri)
    runs = mlflow.search_runs(experiment_names=["likeness-mouth"])
    assert len(runs) == 1 and runs.iloc[0]["metrics.val_l1"] == pytest.approx(info["val_l1"])


def test_the_shipped_model_never_saw_the_people_it_is_measured_on(shared):
    """The people of the reenactment and lip-sync benchmarks are not among those the shipped model trained or
    validated on (split by person: every clip of a held-out person stays out)."""
    import json

    from likeness.shared_data import RENDER_HELD_OUT, people, person

    who = people(shared)
    held = {who.get(s) or person(s) for s in RENDER_HELD_OUT}
    info = json.loads(inpaint.MODEL_PATH.with_suffix(".json").read_text())
    assert len(info["train_people"]) >= 30 and not held & set(info["train_people"] + info["val_people"])


def test_every_named_renderer_is_configured_and_v3_is_the_default():
    from generator.options import RENDERER_NAMES
    from generator.pipeline import GenerateConfig
    from generator.render.renderer import RENDERERS

    assert tuple(RENDERERS) == RENDERER_NAMES and RENDERER_NAMES[0] == "v3"
    assert GenerateConfig.__dataclass_fields__["renderer"].default == "v3"


def _clip(frames: int = 12):
    """A synthetic clip: even frames show lips 14 px apart, odd ones closed lips."""
    from generator.render.train_mouth import MouthClip

    rng = np.random.default_rng(0)
    up = np.full((frames, PATCH_W), 40.0, np.float32)
    lo = up + np.where(np.arange(frames) % 2 == 0, 14.0, 0.0)[:, None].astype(np.float32)
    patches = rng.integers(0, 256, (frames, PATCH_H, PATCH_W, 3), dtype=np.uint8)
    return MouthClip("c", "p", patches, up, lo, np.ones(frames, np.float32))


def test_the_trainer_shows_closed_references_as_often_as_asked():
    """Most portraits keep their lips together: `closed_ref` of the pairs must be drawn with such a reference."""
    from generator.render.train_mouth import PairSampler

    def closed_share(share: float) -> float:
        x, _, _ = PairSampler([_clip()], np.random.default_rng(0), closed_ref=share)(200)
        return float((x[:, 7].reshape(200, -1).max(1) == 0).mean())  # the reference's opening mask is empty

    assert closed_share(1.0) == 1.0
    x, y, m = PairSampler([_clip()], np.random.default_rng(0))(64)  # augmented as in training
    assert x.dtype == y.dtype == m.dtype == np.float32
    assert 0.35 < closed_share(0.0) < 0.65   # uniform over the clip's frames, half of them closed
    assert 0.6 < closed_share(0.5) < 0.9


def test_the_discriminator_trains_on_the_opening_and_pushes_the_fill():
    """One adversarial step: the discriminator's weights move, and the generator's loss reaches the fill alone."""
    import torch

    from generator.render.train_mouth import Adversary, MouthTrainConfig, PairSampler

    torch.manual_seed(0)
    x, y, m = (torch.from_numpy(a) for a in PairSampler([_clip()], np.random.default_rng(0), augment=False)(4))
    pred = torch.zeros_like(y, requires_grad=True)
    adv = Adversary(MouthTrainConfig())
    before = [p.detach().clone() for p in adv.disc.parameters()]
    g = adv.step(x, y, pred, m)
    assert any(not torch.equal(a, b) for a, b in zip(before, adv.disc.parameters()))
    grads = [p.grad.clone() for p in adv.disc.parameters()]
    g.backward()
    assert torch.isfinite(g) and all(torch.equal(a, p.grad) for a, p in zip(grads, adv.disc.parameters()))
    outside = (m == 0).expand_as(pred)
    assert pred.grad[outside].abs().max() == 0 and pred.grad[~outside].abs().max() > 0


def test_the_trainer_casts_colour_on_target_and_reference_alike_when_asked():
    """Paintings' varnish: a share `cast` of the pairs come under a strong colour cast, the target and its reference
    alike, so the interior learns to take the cast around it; without `cast` the colours stay within +-10%."""
    from generator.render.train_mouth import MouthClip, PairSampler

    c = _clip()
    grey = MouthClip("c", "p", np.full_like(c.patches, 128), c.upper, c.lower, c.scale)

    def spread(cast: float) -> tuple[np.ndarray, np.ndarray]:  # per pair: weakest / strongest channel mean
        x, y, _ = PairSampler([grey], np.random.default_rng(0), cast=cast)(200)
        ref, tgt = ((a.reshape(200, 3, -1).mean(2) + 1) * 127.5 for a in (x[:, 4:7], y))
        return ref.min(1) / ref.max(1), tgt.min(1) / tgt.max(1)

    ref, tgt = spread(1.0)
    np.testing.assert_allclose(ref, tgt, atol=0.01)
    assert (ref < 0.8).mean() > 0.3
    assert spread(0.0)[0].min() > 0.81
    assert 0.05 < (spread(0.3)[0] < 0.8).mean() < (ref < 0.8).mean()
