"""The generator's named choices, defined once and importable without numpy: the motion models, the controls
and the CLI help and the web API's schema all read them from here, so adding one is one edit."""
from __future__ import annotations

#: Motion models `GenerateConfig.motion` accepts; the first is the default.
MOTION_MODELS = ("procedural", "dit")

#: Emotion presets: expression offsets (and head pitch, radians) per preset; "neutral" is the default.
EMOTIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"smile": 0.55, "brow_raise": 0.1, "blink_l": 0.1, "blink_r": 0.1},
    "sad": {"smile": -0.35, "brow_raise": 0.25, "blink_l": 0.2, "blink_r": 0.2, "pitch": 0.05},
    "angry": {"brow_raise": -0.6, "mouth_stretch": 0.2, "smile": -0.15, "pitch": 0.03},
    "surprised": {"brow_raise": 0.8, "jaw_open": 0.08, "blink_l": -0.3, "blink_r": -0.3, "pitch": -0.03},
}


def choice_pattern(names) -> str:
    """A regular expression accepting exactly `names` (for an API field)."""
    return "^(" + "|".join(names) + ")$"
