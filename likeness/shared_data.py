"""The layout of the Likeness dev data (`../shared/data`) and the identity splits drawn on it.

One place names these so that a model trained on some people is never measured on them: the renderer's
mouth bank is cut only from `MOUTH_BANK_SOURCES`, and `likeness eval reenact` measures on `REENACT_HELD_OUT`,
whose people appear in neither.
"""
from __future__ import annotations

import re
from pathlib import Path

DEFAULT_SHARED = Path(__file__).resolve().parents[2] / "shared" / "data"

#: Real clips of people the renderer never learns from (file stems in real_videos/): its self-reenactment
#: test set. Many sources and resolutions: 224 px VoxCeleb2/LRS3 crops, 720p and 1080p footage, a drawing-free
#: mix of men and women. vrt_5 and lp_driving_d9 are also held out by the motion model and the detector.
REENACT_HELD_OUT = (
    "vrt_5", "lp_driving_d9", "pcavs_Audio_Source_00015", "pcavs_Pose_Source_00067",
    "spectre_LRS3_QoT0S2vu9m4_00002", "spectre_MEAD_W023_level_2_surprised_010",
    "visualvoice_av-enhancement_test_videos_noisy_restaurant", "icpr_lynaeydofd", "dinet_test19",
)

#: Real clips with the speaker's own synchronised speech whose people the motion models never train on: the
#: lip-sync test set (the reenactment set's speakers, minus lp_driving_d9 whose audio is not the speaker's).
LIPSYNC_HELD_OUT = tuple(c for c in REENACT_HELD_OUT if c != "lp_driving_d9")
#: GRID speakers other than s1 (s1's 50 sentences are training data): the known-answer lip-sync test, whose
#: sentences the file names spell (`eval.lipsync.grid_sentence`).
GRID_HELD_OUT = ("lipnet_GRID_lbbc2a", "lipnet_GRID_lrwp9a", "lipnet_GRID_lwbsza", "lipnet_GRID_pwij3p",
                 "lipnet_GRID_sbia1a", "lipnet_GRID_sbwe5n", "lipnet_GRID_swiz3n", "lipnet_id2_vcd_swwp2s")
MOTION_HELD_OUT = ("lp_driving_d9", *LIPSYNC_HELD_OUT, *GRID_HELD_OUT)
#: Everyone the renderer is measured on (self-reenactment, and the lip-sync benchmark judges rendered mouths): the
#: learned mouth (`generator.render.mouth_data`) is trained on none of these people.
RENDER_HELD_OUT = tuple(dict.fromkeys(REENACT_HELD_OUT + MOTION_HELD_OUT))

#: Real clips the mouth-exemplar bank is cut from (file-stem prefixes in real_videos/): one person speaking for a
#: minute (HDTF, from EDTalk's test data, Apache-2.0: crops may be redistributed, see the data README), none of the
#: people above. One person, so the exemplars blended in a frame share one set of teeth (mixing people's teeth gives
#: a grey mush); natural speech, because an emotion corpus (MEAD) shows teeth in far more frames than talk does.
MOUTH_BANK_SOURCES = ("edtalk_pose_source2",)


#: Of the first 17 real clips (not in videos_added.tsv), those whose audio is the speaker's own voice.
_OWN_SPEECH_ORIGINAL = ("vrt_1", "vrt_2", "vrt_3", "vrt_4", "vrt_5")


def own_speech(data: Path = DEFAULT_SHARED) -> set[str]:
    """Stems of the real clips whose audio is the filmed speaker's own synchronised speech (`own_speech = yes`
    in videos_added.tsv, plus the vrt_* clips): the only footage lip sync can be learned or measured on."""
    rows = catalogue(data).items()
    return {stem for stem, r in rows if r["kind"] == "real" and r["own_speech"] == "yes"} | set(_OWN_SPEECH_ORIGINAL)


def catalogue(data: Path = DEFAULT_SHARED) -> dict[str, dict[str, str]]:
    """File stem -> its row of videos_added.tsv (`kind`, `person_or_generator`, `own_speech`, `duration_s`, ...);
    empty when the folder has no such table (a user's own data)."""
    import csv

    table = Path(data) / "videos_added.tsv"
    if not table.is_file():
        return {}
    return {Path(r["file"]).stem: r for r in csv.DictReader(table.read_text().splitlines(), delimiter="\t")}


def person(name: str) -> str:
    """One name per person from videos_added.tsv's `person_or_generator`, which names some people once per clip:
    MEAD's `M030_front_angry_level3_001` and `MEAD_M030_level_3_angry_016` are both M030, StyleTalk's
    `..._andrew_clip_1` and `..._andrew_clip_2` both Andrew, EAMM's `MEAD speaker (video_sad)` one speaker."""
    mead = re.match(r"MEAD (?:MEAD_)?([MW]\d{3})", name)
    if mead:
        return f"MEAD {mead.group(1)}"
    if name.startswith("MEAD speaker"):
        return "MEAD speaker (EAMM)"
    return re.sub(r"_clip_?\d+(_short)?$", "", name)


def people(data: Path = DEFAULT_SHARED) -> dict[str, str]:
    """File stem -> the person filmed, for the clips videos_added.tsv names one for (split by person, never by clip)."""
    return {stem: person(r["person_or_generator"]) for stem, r in catalogue(data).items() if r["person_or_generator"]}
