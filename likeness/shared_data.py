"""The layout of the Likeness dev data (`../shared/data`) and the identity splits drawn on it.

One place names these so that a model trained on some people is never measured on them: the renderer's
mouth bank is cut only from `MOUTH_BANK_SOURCES`, and `likeness eval reenact` measures on `REENACT_HELD_OUT`,
whose people appear in neither.
"""
from __future__ import annotations

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

#: Real clips the mouth-exemplar bank is cut from (file-stem prefixes in real_videos/): one person speaking for a
#: minute (HDTF, from EDTalk's test data, Apache-2.0: crops may be redistributed, see the data README), none of the
#: people above. One person, so the exemplars blended in a frame share one set of teeth (mixing people's teeth gives
#: a grey mush); natural speech, because an emotion corpus (MEAD) shows teeth in far more frames than talk does.
MOUTH_BANK_SOURCES = ("edtalk_pose_source2",)
