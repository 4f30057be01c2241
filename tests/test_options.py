"""Each named choice is defined once (`generator/options.py`): the pipeline, the CLI help and the API read it."""
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from generator.options import EMOTIONS, MOTION_MODELS, choice_pattern

ROOT = Path(__file__).resolve().parents[1]


def test_cli_help_and_api_schema_list_every_choice():
    from likeness.web.app import create_app

    help_text = subprocess.run([sys.executable, "-m", "likeness", "generate", "--help"], cwd=ROOT, capture_output=True,
                               text=True, timeout=60, env={**os.environ, "COLUMNS": "400"}).stdout
    help_text = re.sub(r"\s+", " ", help_text)
    assert all(name in help_text for name in (*EMOTIONS, *MOTION_MODELS))
    form = create_app().openapi()["components"]["schemas"]["Body_generate_api_v1_generate_post"]["properties"]
    assert form["emotion"]["pattern"] == choice_pattern(EMOTIONS)
    assert form["motion"]["pattern"] == choice_pattern(MOTION_MODELS)


def test_an_emotion_added_in_one_place_is_accepted_everywhere(monkeypatch):
    from generator.motion.controls import Controls
    from likeness.errors import UserError

    monkeypatch.setitem(EMOTIONS, "calm", {"brow_raise": -0.05})
    assert Controls(emotion="calm").emotion_offsets()[1].any()
    assert re.fullmatch(choice_pattern(EMOTIONS), "calm")
    with pytest.raises(UserError, match="calm"):  # the error lists the new preset among the choices
        Controls(emotion="bored")


def test_numeric_controls_have_one_range_for_the_pipeline_and_the_api():
    from generator.motion.controls import Controls
    from generator.options import CONTROLS
    from likeness.errors import UserError
    from likeness.web.app import create_app

    form = create_app().openapi()["components"]["schemas"]["Body_generate_api_v1_generate_post"]["properties"]
    for name, r in CONTROLS.items():
        assert (form[name]["minimum"], form[name]["maximum"], form[name]["default"]) == (r.low, r.high, r.default)
    with pytest.raises(UserError, match=r"pose scale must be in \[0, 3\], got 3.5"):
        Controls(pose_scale=3.5)
    with pytest.raises(UserError, match=r"gaze y must be in \[-1, 1\], got -2"):
        Controls(gaze=(0.0, -2.0))


def test_the_web_page_reads_its_menus_and_ranges_from_the_server(client):
    """The page holds no motion model, emotion or control range of its own: it asks `/generate/options`."""
    from generator.options import CONTROLS
    from likeness.web.app import ServeConfig

    with client(ServeConfig()) as c:
        o = c.get("/api/v1/generate/options").json()
    assert o["motion"] == list(MOTION_MODELS) and o["emotion"] == list(EMOTIONS)
    assert o["controls"]["pose_scale"] == {"default": CONTROLS["pose_scale"].default, "low": CONTROLS["pose_scale"].low,
                                           "high": CONTROLS["pose_scale"].high, "help": CONTROLS["pose_scale"].help}
    page = (ROOT / "likeness" / "web" / "static" / "index.html").read_text()
    assert not re.search(r"<option[^>]*>(%s)<" % "|".join([*MOTION_MODELS, *EMOTIONS]), page)
    assert not re.search(r'name="(%s)"[^>]*\bmin=' % "|".join(CONTROLS), page)
