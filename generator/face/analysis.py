"""Portrait analysis: load an image, find the largest face with FaceMesh, align it onto a square canvas."""
from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from likeness.errors import UserError

from . import topology as topo
from .expression import canonical_lip_gap
from .geometry import Pose, estimate_pose

MAX_PIXELS = 64_000_000  # decompression-bomb guard: 64 MP is a very large photo


LIPS_TOUCH = 0.015  # inner-lip gap (inter-ocular units) of closed lips as the face mesh sees them
JAW_GAP = 0.45      # inner-lip gap that `jaw_open` 1.0 adds (`generator.face.expression`)


@dataclass
class Portrait:
    """The appearance: an aligned square RGB canvas and its 478 3D landmarks in canvas pixels."""

    image: np.ndarray      # (S, S, 3) uint8 RGB
    landmarks: np.ndarray  # (478, 3) float64; z in the same pixel units as x
    pose: Pose             # canonical -> canvas
    upscale: float = 1.0   # canvas pixels per source pixel: above 1 the canvas holds less detail than its size

    @property
    def size(self) -> int:
        return self.image.shape[0]

    @property
    def mouth_open(self) -> float:
        """How far the portrait's lips are apart, in `jaw_open` units (0: they touch). Lips that must close (a /p/)
        close by this much more than the portrait, which may have been taken mid-word."""
        gap = canonical_lip_gap(self.pose.to_canonical(self.landmarks))
        return max(0.0, float(gap) - LIPS_TOUCH) / JAW_GAP


def load_image(path: str | Path, max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """Read any Pillow-supported image as RGB uint8, by content (not by file name)."""
    from PIL import Image, ImageOps, UnidentifiedImageError

    path = Path(path)
    if not path.is_file():
        raise UserError(f"image not found: {path}")
    try:
        with Image.open(path) as opened:
            w, h = opened.size
            if w * h > max_pixels:
                raise UserError(f"image too large: {w}x{h} pixels (limit {max_pixels / 1e6:.0f} MP); downscale it first")
            im = ImageOps.exif_transpose(opened)
            if im.mode in ("I", "I;16", "I;16B", "I;16L", "I;16N"):  # 16-bit grey: RGB conversion would clip to white
                grey = np.asarray(im, np.float64)
                top = 65535.0 if grey.max() > 255 else 255.0
                return np.repeat(np.clip(grey / top * 255 + 0.5, 0, 255).astype(np.uint8)[..., None], 3, 2)
            return np.asarray(im.convert("RGB"))
    except Image.DecompressionBombError:
        raise UserError(f"image too large (limit {max_pixels / 1e6:.0f} MP); downscale it first: {path}") from None
    except UnidentifiedImageError:
        raise UserError(f"not an image (unsupported or corrupt format): {path}") from None
    except (OSError, SyntaxError, ValueError) as e:
        raise UserError(f"cannot decode image {path}: {e}") from None


def mediapipe_solution(name: str):
    """mediapipe's `solutions.<name>` module (`face_mesh`, `selfie_segmentation`), imported without the package's
    `__init__`s, which load every solution and its drawing utilities (matplotlib.pyplot): 0.4 s of every cold start
    for nothing we use. If mediapipe was already imported whole, that import is used; otherwise `mediapipe` and its
    `solutions` stand in as bare packages (their submodules import as usual, the package-level names are not
    loaded). Its native logging is kept quiet."""
    import importlib
    import importlib.util
    import sys
    import types

    os.environ.setdefault("GLOG_minloglevel", "2")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if "mediapipe" in sys.modules and hasattr(sys.modules["mediapipe"], "__version__"):
        return getattr(sys.modules["mediapipe"].solutions, name)
    if "mediapipe" not in sys.modules:
        spec = importlib.util.find_spec("mediapipe")
        if spec is None or not spec.submodule_search_locations:
            raise UserError("mediapipe is not installed: run `make install`")
        root = list(spec.submodule_search_locations)[0]
        sys.modules["mediapipe"] = _bare_package("mediapipe", root, types)
        importlib.import_module("mediapipe.python")
        solutions = _bare_package("mediapipe.python.solutions", os.path.join(root, "python", "solutions"), types)
        sys.modules[solutions.__name__] = solutions
        for parent in ("mediapipe.python", "mediapipe"):
            package: Any = sys.modules[parent]
            package.solutions = solutions
    # The face mesh graph's TensorsToFloatsCalculator options (the sigmoid on the face-presence score) are a proto
    # extension that face_mesh.py does not import; unregistered, they are dropped when the solution edits the graph,
    # raw logits are thresholded and faces are lost. The whole package imports it by way of other solutions.
    importlib.import_module("mediapipe.calculators.tensor.tensors_to_floats_calculator_pb2")
    return importlib.import_module(f"mediapipe.python.solutions.{name}")


def _bare_package(name: str, path: str, types):
    module = types.ModuleType(name)
    module.__path__, module.__package__ = [path], name
    return module


class FaceMesh:
    """MediaPipe FaceMesh with irises (478 landmarks), shipped inside the mediapipe wheel."""

    def __init__(self, static: bool = True, max_faces: int = 4):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self._mesh = mediapipe_solution("face_mesh").FaceMesh(
                static_image_mode=static, max_num_faces=max_faces, refine_landmarks=True,
                min_detection_confidence=0.5, min_tracking_confidence=0.5)

    def __call__(self, rgb: np.ndarray) -> list[np.ndarray]:
        """All faces as (478, 3) pixel-space arrays, largest first."""
        h, w = rgb.shape[:2]
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            res = self._mesh.process(np.ascontiguousarray(rgb))
        faces = [np.array([(p.x * w, p.y * h, p.z * w) for p in f.landmark]) for f in res.multi_face_landmarks or []]
        return sorted(faces, key=lambda f: -np.ptp(f[:, 0]) * np.ptp(f[:, 1]))

    def close(self) -> None:
        self._mesh.close()


def largest_face(rgb: np.ndarray, mesh: FaceMesh | None = None, what: str = "image") -> np.ndarray:
    mesh = mesh or FaceMesh()
    faces = mesh(rgb)
    if not faces:
        raise UserError(f"no face found in {what}: use a portrait with one clearly visible human face")
    return faces[0]


def align_transform(lm: np.ndarray, size: int) -> np.ndarray:
    """2x3 affine (rotation + scale + shift) that puts the face upright and centred on a size x size canvas.

    FFHQ-style: eyes horizontal, the face spans about half the canvas.
    """
    eye_r = lm[topo.RIGHT_EYE_UPPER + topo.RIGHT_EYE_LOWER, :2].mean(0)
    eye_l = lm[topo.LEFT_EYE_UPPER + topo.LEFT_EYE_LOWER, :2].mean(0)
    mouth = lm[list(topo.MOUTH_CORNERS), :2].mean(0)
    eye_c = (eye_r + eye_l) / 2
    eye_to_eye, eye_to_mouth = eye_l - eye_r, mouth - eye_c
    x = eye_to_eye - np.array([-eye_to_mouth[1], eye_to_mouth[0]])
    x /= np.linalg.norm(x)
    half = max(np.linalg.norm(eye_to_eye) * 2.0, np.linalg.norm(eye_to_mouth) * 1.8)
    centre = eye_c + eye_to_mouth * 0.1
    scale = size / (2 * half)
    cos, sin = x * scale
    m = np.array([[cos, sin, 0.0], [-sin, cos, 0.0]])
    m[:, 2] = size / 2 - m[:, :2] @ centre
    return m


def portrait_transform(lm: np.ndarray, size: int, shape: tuple[int, ...]) -> np.ndarray:
    """`align_transform` shifted (by up to a quarter of the canvas, the face kept whole on it) to leave as little of
    the canvas outside the image of `shape` as it can: what lies outside has to be made up (`portrait_canvas`).
    Shifted, never zoomed: the face keeps the scale the renderer's mesh is laid out for."""
    m0 = align_transform(lm, size)
    h, w = shape[:2]
    to_image = np.linalg.inv(np.vstack([m0, [0, 0, 1]]))[:2]
    face = transform_landmarks(lm, m0)[:, :2]
    step = np.arange(-0.25, 0.2501, 0.0125) * size
    dx, dy = np.meshgrid(step, step, indexing="ij")  # canvas shift
    margin = 0.03 * size
    fits = ((face[:, 0].min() - dx >= margin) & (face[:, 0].max() - dx <= size - margin)
            & (face[:, 1].min() - dy >= margin) & (face[:, 1].max() - dy <= size - margin))
    outside = np.zeros_like(dx)  # how far the canvas corners lie outside the image
    for qx in (0, size):
        for qy in (0, size):
            ix = to_image[0, 0] * (qx + dx) + to_image[0, 1] * (qy + dy) + to_image[0, 2]
            iy = to_image[1, 0] * (qx + dx) + to_image[1, 1] * (qy + dy) + to_image[1, 2]
            outside += np.maximum(0, -ix) + np.maximum(0, ix - (w - 1)) + np.maximum(0, -iy) + np.maximum(0, iy - (h - 1))
    still = (len(step) // 2, len(step) // 2)
    if outside[still] == 0 or not fits.any():
        return m0
    i, j = np.unravel_index(np.argmin(np.where(fits, outside, np.inf) + 1e-6 * (dx**2 + dy**2)), dx.shape)
    shifted = m0.copy()
    shifted[:, 2] -= (dx[i, j], dy[i, j])
    return shifted


def portrait_canvas(rgb: np.ndarray, m: np.ndarray, size: int) -> np.ndarray:
    """The portrait's size x size canvas under `m`. Where it lies outside the image, a blurred mirror of what lies
    inside, faded in over a few pixels: replicated edge pixels would draw streaks that every rendered frame shows."""
    import cv2

    img = warp_aligned(rgb, m, size, cv2.INTER_CUBIC, cv2.BORDER_REFLECT_101)
    inside = cv2.warpAffine(np.ones(rgb.shape[:2], np.float32), np.asarray(m, np.float64), (size, size),
                            flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_CONSTANT, borderValue=0)
    if inside.min() >= 0.999:
        return img
    soft = cv2.GaussianBlur(img, (0, 0), size / 48)
    a = np.minimum(cv2.GaussianBlur(inside, (0, 0), size / 160), inside)[..., None]
    return np.clip(img * a + soft * (1 - a) + 0.5, 0, 255).astype(np.uint8)


def warp_aligned(rgb: np.ndarray, m: np.ndarray, size: int, interpolation: int | None = None,
                 border: int | None = None) -> np.ndarray:
    """The size x size image of `rgb` under the 2x3 affine `m` (borders replicated unless `border` says another
    OpenCV border mode), anti-aliased when `m` shrinks:
    OpenCV's warpAffine has no area filter (INTER_AREA falls back to bilinear, which aliases fine texture), so the
    region the output covers is first shrunk with INTER_AREA to the output's scale."""
    import cv2

    m = np.asarray(m, np.float64)
    interpolation = cv2.INTER_LINEAR if interpolation is None else interpolation
    scale = float(np.sqrt(abs(np.linalg.det(m[:, :2]))))
    if scale < 0.8:
        inv = cv2.invertAffineTransform(m)
        corners = np.array([[0, 0], [size, 0], [0, size], [size, size]], np.float64) @ inv[:, :2].T + inv[:, 2]
        h, w = rgb.shape[:2]
        x0, y0 = np.clip(np.floor(corners.min(0)).astype(int) - 2, 0, [w - 1, h - 1])
        x1, y1 = np.clip(np.ceil(corners.max(0)).astype(int) + 3, [x0 + 1, y0 + 1], [w, h])
        sw, sh = max(1, round((x1 - x0) * scale)), max(1, round((y1 - y0) * scale))
        rgb = cv2.resize(rgb[y0:y1, x0:x1], (sw, sh), interpolation=cv2.INTER_AREA)
        # frame -> shrunk region: (p - (x0, y0)) * (sw / (x1 - x0), sh / (y1 - y0)); compose m with its inverse
        kx, ky = (x1 - x0) / sw, (y1 - y0) / sh
        m = m @ np.array([[kx, 0, x0], [0, ky, y0], [0, 0, 1]], np.float64)
        interpolation = cv2.INTER_LINEAR
    border = cv2.BORDER_REPLICATE if border is None else border
    return cv2.warpAffine(rgb, m, (size, size), flags=interpolation, borderMode=border)


def analyze(rgb: np.ndarray, size: int = 512, mesh: FaceMesh | None = None, what: str = "image") -> Portrait:
    """Detect the largest face, align and crop it to a size x size canvas, and return its appearance."""
    return portrait_from_landmarks(rgb, largest_face(rgb, mesh, what), size)


def portrait_from_landmarks(rgb: np.ndarray, lm: np.ndarray, size: int = 512) -> Portrait:
    """The aligned portrait of the face whose (478, 3) landmarks in `rgb` are already known (a tracked frame)."""
    m = portrait_transform(lm, size, rgb.shape)
    out = transform_landmarks(lm, m)
    return Portrait(portrait_canvas(rgb, m, size), out, estimate_pose(out), float(np.hypot(*m[0, :2])))


def transform_landmarks(lm: np.ndarray, m: np.ndarray) -> np.ndarray:
    """(N, 3) landmarks under the 2x3 similarity `m`, depth scaled alike."""
    out = np.empty_like(lm)
    out[:, :2] = lm[:, :2] @ m[:, :2].T + m[:, 2]
    out[:, 2] = lm[:, 2] * float(np.hypot(*m[0, :2]))
    return out


def analyze_file(path: str | Path, size: int = 512) -> Portrait:
    return analyze(load_image(path), size, what=str(path))
