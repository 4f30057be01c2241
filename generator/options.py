"""The generator's named choices, defined once and importable without numpy: the motion models, the controls
and the CLI help and the web API's schema all read them from here, so adding one is one edit."""
from __future__ import annotations

from dataclasses import dataclass

#: Motion models `GenerateConfig.motion` accepts; the first is the default.
MOTION_MODELS = ("dit", "procedural", "articulated")

#: Renderers `GenerateConfig.renderer` accepts (configured in `generator.render.renderer.RENDERERS`); the first is
#: the default, the others are kept as the baselines `likeness eval reenact` measures it against.
RENDERER_NAMES = ("v3", "v2", "warp-v1")
RENDERER_HELP = ("Renderer: v3 (the learned mouth interior, fold-free mesh), v2 (real exemplar interiors from one "
                 "speaker) or warp-v1 (the first one: a painted mouth).")

#: Emotion presets: expression offsets (and head pitch, radians) per preset; "neutral" is the default.
EMOTIONS: dict[str, dict[str, float]] = {
    "neutral": {},
    "happy": {"smile": 0.55, "brow_raise": 0.1, "blink_l": 0.1, "blink_r": 0.1},
    "sad": {"smile": -0.35, "brow_raise": 0.25, "blink_l": 0.2, "blink_r": 0.2, "pitch": 0.05},
    "angry": {"brow_raise": -0.6, "mouth_stretch": 0.2, "smile": -0.15, "pitch": 0.03},
    "surprised": {"brow_raise": 0.8, "jaw_open": 0.08, "blink_l": -0.3, "blink_r": -0.3, "pitch": -0.03},
}


@dataclass(frozen=True)
class Range:
    """A numeric control: its default, the closed interval it must lie in, and what it does."""

    default: float
    low: float
    high: float
    help: str

    def check(self, name: str, value: float) -> None:
        from likeness.errors import UserError

        if not self.low <= value <= self.high:
            raise UserError(f"{name.replace('_', ' ')} must be in [{self.low:g}, {self.high:g}], got {value:g}")


#: The numeric controls every motion model takes (`Controls`), with the CLI's and the API's limits and help.
CONTROLS = {
    "gaze_x": Range(0.0, -1.0, 1.0, "Gaze direction, right positive."),
    "gaze_y": Range(0.0, -1.0, 1.0, "Gaze direction, down positive."),
    "pose_scale": Range(1.0, 0.0, 3.0, "Head-motion amplitude (0 keeps the head still)."),
    "head_distance": Range(0.0, -0.5, 0.5, "Log scale of the head; positive is closer."),
}


def choice_pattern(names) -> str:
    """A regular expression accepting exactly `names` (for an API field)."""
    return "^(" + "|".join(names) + ")$"
