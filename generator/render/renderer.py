"""Renderer: the portrait plus one frame of motion latent in, one RGB frame out."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

from likeness.errors import UserError

from .. import latent
from ..face import topology as topo
from ..face.analysis import Portrait
from ..face.expression import build_basis
from ..face.geometry import rotation
from ..options import RENDERER_NAMES
from .backdrop import Backdrop
from .mouth import LearnedMouth, PaintedMouth, RealMouth
from .warp import MeshWarp

HEAD_RING = 1.25    # face-oval scale of anchors that move rigidly with the head (hair, ears)
STATIC_RING = 1.8   # face-oval scale of anchors that stay put (background)
NECK_RING = {"v1": (1.08, 1.4), "v2": (1.12, 2.0)}  # the two rings below the mouth (the neck barely follows the head)
BORDER_STEP = 64    # px between static anchors on the canvas border
HAIR_MAX = 2.4      # v3: farthest the head ring may follow the person's silhouette (face-oval scale)
HAIR_PAST = 0.05    # v3: the ring this far past the silhouette, so the whole outline moves with the head
HAIR_BAND = 0.55    # v3: background kept between the moving ring and the static anchors (= STATIC_RING - HEAD_RING)
SLIT_LAYOUT = 0.06  # v2 triangulates with the lower lip this share of the mouth width lower
LIPS_APART = 1.0    # px of inner-lip opening at which the exact inverse fully takes over around the lips
IRIS_MIN_GAP = 0.5  # px: where the open lids are closer than this at an iris point (or cross), it keeps its place
NOSE_TIP = 1        # FaceMesh landmark
SHUTTER_SAMPLES = 3  # maps averaged over the shutter's opening (`RenderConfig.shutter`)
_BLINKS = [latent.EXPRESSION.index("blink_l"), latent.EXPRESSION.index("blink_r")]
_EYES = ((topo.LEFT_EYE_UPPER, topo.LEFT_EYE_LOWER, topo.LEFT_IRIS),
         (topo.RIGHT_EYE_UPPER, topo.RIGHT_EYE_LOWER, topo.RIGHT_IRIS))


def _no_blink(expr: np.ndarray) -> np.ndarray:
    out = np.array(expr, np.float64)
    out[_BLINKS] = 0.0
    return out


def lip_halves(lm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Indices of every landmark of the upper lip and of the lower lip in `lm` (478, 2|3): the contours and the
    rings between them (FaceMesh has four rings per lip), split by the inner lips' midline; the corners are in both."""
    import cv2

    outer = np.r_[topo.LIPS_OUTER_UPPER, topo.LIPS_OUTER_LOWER[-2:0:-1]]
    poly = lm[outer, :2].astype(np.float32)
    inside = np.array([cv2.pointPolygonTest(poly, (float(x), float(y)), True) >= -0.5 for x, y in lm[:, :2]])
    mid = (lm[topo.LIPS_INNER_UPPER, :2] + lm[topo.LIPS_INNER_LOWER, :2]) / 2  # corner to corner
    order = np.argsort(mid[:, 0])
    below = lm[:, 1] > np.interp(lm[:, 0], mid[order, 0], mid[order, 1])
    upper = set(np.flatnonzero(inside & ~below)) | set(topo.LIPS_INNER_UPPER) | set(topo.LIPS_OUTER_UPPER)
    lower = set(np.flatnonzero(inside & below)) | set(topo.LIPS_INNER_LOWER) | set(topo.LIPS_OUTER_LOWER)
    upper -= set(topo.LIPS_INNER_LOWER[1:-1]) | set(topo.LIPS_OUTER_LOWER[1:-1])
    lower -= set(topo.LIPS_INNER_UPPER[1:-1]) | set(topo.LIPS_OUTER_UPPER[1:-1])
    return np.array(sorted(upper | set(topo.LIP_CORNERS))), np.array(sorted(lower | set(topo.LIP_CORNERS)))


def inner_lip_gap(lm: np.ndarray) -> float:
    """Smallest opening between the inner lips' facing points (px, measured across the mouth toward the chin);
    negative where they cross."""
    upper, lower = np.array(topo.LIPS_INNER_UPPER[1:-1]), np.array(topo.LIPS_INNER_LOWER[1:-1])
    across = lm[topo.LIPS_INNER_UPPER[-1], :2] - lm[topo.LIPS_INNER_UPPER[0], :2]
    down = np.array([-across[1], across[0]]) / max(float(np.hypot(*across)), 1e-9)
    if down @ (lm[topo.CHIN, :2] - lm[NOSE_TIP, :2]) < 0:
        down = -down
    return float(((lm[lower, :2] - lm[upper, :2]) @ down).min())


def hair_rings(mask: np.ndarray, oval: np.ndarray, follow: np.ndarray, head: np.ndarray,
               static: np.ndarray, off_canvas: bool = True) -> tuple[np.ndarray, np.ndarray]:
    """Face-oval scales (head ring, static anchors) per outline point `oval` (n, 2, canvas px): the ring moved out
    toward where the person `mask` (`generator.face.segment`) ends, by `follow` (0..1 per point; 0 keeps `head` and
    `static`). The hair there moves with the head, and the background beyond it, not the hair, stretches as the head
    turns (a fixed ring at 1.25 smeared long hair into streaks). The ring stays HAIR_BAND inside the canvas, so there
    is room to stretch before its edge; with `off_canvas`, where hair runs off the canvas (`_runs_off`) the ring goes
    just past the edge instead, so all of that hair moves with the head and the stretch falls outside the canvas
    (the border's anchors that would pin it there are left out, `_pinning`)."""
    size = mask.shape[0]
    c = oval.mean(0)
    t = np.arange(1.0, HAIR_MAX + 1e-9, 0.02)
    pts = c + (oval - c)[:, None] * t[None, :, None]                       # (n, len(t), 2)
    on_canvas = ((pts >= 0) & (pts <= size - 1)).all(2)
    xy = np.clip(np.round(pts), 0, size - 1).astype(int)
    person = on_canvas & (mask[xy[..., 1], xy[..., 0]] > 0.5)
    edge = t[np.where((~person).any(1), (~person).argmax(1), len(t) - 1)]       # where the person ends
    to_canvas = np.where((~on_canvas).any(1), t[(~on_canvas).argmax(1)], np.inf)
    k = np.minimum(edge + HAIR_PAST, to_canvas - HAIR_BAND)
    if off_canvas:
        exits = c + (oval - c) * np.minimum(to_canvas, HAIR_MAX)[:, None]
        past = _runs_off(mask, exits, HAIR_BAND * np.linalg.norm(oval - c, axis=1)) & (edge >= to_canvas)
        k = np.where(past, to_canvas + HAIR_PAST, k)
    # neighbours along the outline agree (a strand or a gap in the mask must not kink the ring): median, then mean
    ring = np.r_[k[-2:], k, k[:2]]
    k = np.median(np.lib.stride_tricks.sliding_window_view(ring, 5), 1)
    k = (np.roll(k, 1) + k + np.roll(k, -1)) / 3
    k = head + follow * np.maximum(k - head, 0.0)
    return k, np.maximum(static, np.where(follow > 0, k + HAIR_BAND, static))


def _runs_off(mask: np.ndarray, exits: np.ndarray, reach: np.ndarray) -> np.ndarray:
    """Per point of `exits` (n, 2, canvas px, where rays leave the canvas): does the person `mask` cover the canvas
    edge there for `reach` px (n,) either way along it? Only then is all of what the edge cuts hair (or body): where
    the person's outline meets the edge, a map that samples past it would draw the outline's mirror image."""
    size = mask.shape[0]
    edge = np.zeros(mask.shape, bool)
    edge[:2], edge[-2:], edge[:, :2], edge[:, -2:] = True, True, True, True
    out = np.zeros(len(exits), bool)
    for i, ((x, y), r) in enumerate(zip(exits, reach)):
        if not np.isfinite(x) or min(x, y, size - 1 - x, size - 1 - y) > 2:
            continue  # the ray stays on the canvas
        x0, y0 = max(int(x - r), 0), max(int(y - r), 0)
        win = (slice(y0, min(int(y + r) + 1, size)), slice(x0, min(int(x + r) + 1, size)))
        out[i] = bool((mask[win][edge[win]] > 0.5).all())
    return out


def _border_anchors(size: int) -> np.ndarray:
    """Static anchors on the canvas border, every BORDER_STEP px (a pixel outside it)."""
    e = np.arange(-1, size + BORDER_STEP, BORDER_STEP, dtype=np.float64)
    e[-1] = size
    return np.array([(x, y) for x in e for y in e if x in (-1, size) or y in (-1, size)])


def _pinning(border: np.ndarray, ring: np.ndarray, static: np.ndarray, size: int, above: float,
            deep: float) -> np.ndarray:
    """Per border anchor: would it pin hair that the head ring moves past the canvas edge (`hair_rings`)? So it is
    when it lies above `above` (the neck's anchors stay), more than `deep` px inside the polygon of the `static` ring
    and less than 2 `deep` from a `ring` point (canvas px) past the edge."""
    import cv2

    past = ring[((ring < 0) | (ring > size - 1)).any(1)]
    if not len(past):
        return np.zeros(len(border), bool)
    near = np.linalg.norm(border[:, None] - past[None], axis=2).min(1) < 2 * deep
    outline = static.astype(np.float32).reshape(-1, 1, 2)
    inside = np.array([cv2.pointPolygonTest(outline, (float(x), float(y)), True) for x, y in border])
    return (border[:, 1] < above) & near & (inside > deep)


def _soften_pressed_seam(frame: np.ndarray, face: np.ndarray) -> None:
    """In place: where the lips press past contact (their inner contours cross), the folded lip triangles draw a
    jagged seam along the mouth line; a band over it, as wide as the overlap, is replaced by a smoothed copy (pressed
    lips show a soft line, not shards)."""
    import cv2

    overlap = -inner_lip_gap(face)
    if overlap <= 0.5:
        return
    up, lo = face[topo.LIPS_INNER_UPPER, :2], face[topo.LIPS_INNER_LOWER, :2]
    line = np.round((up + lo) / 2).astype(np.int32)
    x0, y0 = np.maximum(np.floor(line.min(0) - overlap - 4).astype(int), 0)
    x1, y1 = np.ceil(line.max(0) + overlap + 5).astype(int)
    roi = frame[y0:y1, x0:x1]
    if roi.size == 0:
        return
    seam = np.zeros(roi.shape[:2], np.float32)
    cv2.polylines(seam, [line - (x0, y0)], False, 1.0, max(2, int(np.ceil(overlap))), cv2.LINE_AA)
    band = np.asarray(cv2.GaussianBlur(seam, (0, 0), 1.0), np.float32)[..., None]
    smooth = cv2.GaussianBlur(cv2.medianBlur(np.ascontiguousarray(roi), 5), (0, 0), 1.0)
    roi[:] = np.clip(roi * (1 - band) + smooth * band + 0.5, 0, 255).astype(np.uint8)


@dataclass(frozen=True)
class RenderConfig:
    """Which renderer: `mouth` "learned" (the network of `generator.render.inpaint`), "bank" (real exemplar
    interiors, `generator.render.bank`) or "painted" (the v1 painter);
    `anchors` "v2" (jaw and neck anchors that cannot fold) or "v1"; `hair`: the head ring follows the person's
    silhouette above the mouth (`hair_rings`), so hair moves with the head; `off_canvas`: and past the canvas edge
    where hair runs off it; `shutter`: the share of a frame's interval over which a frame of a sequence is exposed
    (motion blur, `Renderer.render`; 0.5 is a film camera's 180 degrees)."""

    mouth: str = "bank"
    anchors: str = "v2"
    hair: bool = False
    off_canvas: bool = False
    shutter: float = 0.0


#: Named renderers (`generator.options.RENDERER_NAMES`, the default first); v2 and warp-v1 are kept as the baselines
#: of `likeness eval reenact`.
RENDERERS = {"v3": RenderConfig(mouth="learned", hair=True, off_canvas=True, shutter=0.5), "v2": RenderConfig(),
             "warp-v1": RenderConfig(mouth="painted", anchors="v1")}


def make_renderer(portrait: Portrait, name: str = RENDERER_NAMES[0]) -> "Renderer":
    if name not in RENDERERS:
        raise UserError(f"unknown renderer {name!r}; choose one of {', '.join(RENDERERS)}")
    return Renderer(portrait, RENDERERS[name])


class Renderer:
    """Backward-warps the portrait canvas with a mesh moved by pose and expression.

    Vertices: the 478 face landmarks, a ring of head anchors (rigid with the head, no expression) and
    static anchors on a wider ring and on the canvas border, so the background does not move.
    """

    def __init__(self, portrait: Portrait, cfg: RenderConfig = RenderConfig()):
        self.portrait, self.cfg = portrait, cfg
        size, lm, pose = portrait.size, portrait.landmarks, portrait.pose
        self.neutral = pose.to_canonical(lm)                  # identity mesh, canonical units
        self.basis = build_basis(self.neutral)               # (11, 478, 3)
        oval = self.neutral[topo.FACE_OVAL]
        centre = oval.mean(0)
        lower = oval[:, 1] > self.neutral[topo.MOUTH_CORNERS, 1].mean()
        neck = NECK_RING[cfg.anchors]
        # v2: the head ring follows the face outline's expression (the chin cannot overrun it, a cheek cannot shear
        # past it), and the static anchors give way to it where it comes close (`_give_way`).
        self.ring_follows = cfg.anchors == "v2"
        src_oval = lm[topo.FACE_OVAL, :2]
        k, k_static = np.where(lower, neck[0], HEAD_RING), np.where(lower, neck[1], STATIC_RING)
        mouth_y = lm[list(topo.MOUTH_CORNERS), 1].mean()
        if cfg.hair:
            from ..face.segment import person_mask

            person = person_mask(portrait.image)
            # in full from halfway between the mouth and the eyes up; toward the mouth the ring comes back in, so the
            # neck's anchors below keep their distance from it (they give way to a ring that comes close)
            eyes_y = lm[topo.RIGHT_EYE_UPPER + topo.LEFT_EYE_UPPER, 1].mean()
            follow = np.clip(2 * (mouth_y - src_oval[:, 1]) / max(mouth_y - eyes_y, 1.0), 0.0, 1.0)
            k, k_static = hair_rings(person, src_oval, follow, k, k_static, cfg.off_canvas)
        k = k[:, None]
        # v1 put the ring at the depth of the face's centre, which can project it inside the outline (a pitched chin);
        # v2 keeps each ring point at its outline point's depth
        depth = np.ones_like(k) if cfg.anchors == "v2" else np.zeros_like(k)
        self.head_ring = centre + (oval - centre) * np.c_[k, k, depth]
        ring = self.head_ring
        c2 = src_oval.mean(0)
        static = c2 + (src_oval - c2) * k_static[:, None]
        ring_px = pose.to_image(ring)[:, :2]
        border = _border_anchors(size)
        if cfg.off_canvas:
            deep = 0.5 * HAIR_BAND * float(np.median(np.linalg.norm(src_oval - c2, axis=1)))
            border = border[~_pinning(border, ring_px, static, size, mouth_y, deep)]
        self.static = np.r_[static, border]
        self.neck = self.static[:, 1] > mouth_y  # give way to the head's pose too
        self.src = np.r_[lm[:, :2], ring_px, self.static]
        d = np.linalg.norm(self.static[:, None] - self.src[len(lm): len(lm) + len(ring)][None], axis=2)
        self._nearest_ring = d.argmin(1)                         # each static anchor's ring point (`_give_way`)
        self._ring_dist = d[np.arange(len(d)), self._nearest_ring]
        lo = np.clip(np.floor(self.static[: len(static)].min(0)), 0, size).astype(int)
        hi = np.clip(np.ceil(self.static[: len(static)].max(0)) + 1, 0, size).astype(int)
        layout = None
        if cfg.anchors == "v2":  # triangulate with the lips parted a little, so that no triangle spans the slit
            layout = self.src.copy()
            upper_lip, lower_lip = lip_halves(lm)
            width = np.linalg.norm(lm[topo.MOUTH_CORNERS[0], :2] - lm[topo.MOUTH_CORNERS[1], :2])
            gap = float(np.mean(lm[topo.LIPS_INNER_LOWER[1:-1], 1] - lm[topo.LIPS_INNER_UPPER[1:-1], 1]))
            # a closed mouth moves its whole lower lip (moving only its contours put its inner rings above them,
            # and the triangles between spanned the opening: a sawtooth of lip below the interior); an open one
            # already has its gap, and moves the contours alone as before
            moved = np.setdiff1d(lower_lip, topo.LIP_CORNERS) if gap < SLIT_LAYOUT * width else \
                topo.LIPS_INNER_LOWER[1:-1] + topo.LIPS_OUTER_LOWER[1:-1]
            layout[moved, 1] += SLIT_LAYOUT * width
        self.warp = MeshWarp(self.src, size, roi=(lo[0], lo[1], hi[0], hi[1]), n_static=len(self.static),
                             slit=topo.inner_lip_loop(), layout=layout)
        self.backdrop = Backdrop(person, self.warp.roi) if cfg.hair else None
        self._last_map: np.ndarray | None = None  # the last frame of a sequence (`render`)
        # v2: around the lips, where the slit opens wide, the exact inverse of the mesh replaces the fixed point;
        # triangles that span the slit (a vertex on each lip) go first, so the lips' own triangles win over them
        self.lip_tris = None
        if cfg.anchors == "v2":
            tris = self.warp.simplices
            upper, lower = np.isin(tris, upper_lip).any(1), np.isin(tris, lower_lip).any(1)
            near = np.flatnonzero(upper | lower)
            # and one ring of triangles around the mouth corners, first (the lips' own win): there the fixed point is
            # far off once the lips part, and where the exact inverse faded into it stray skin dots showed
            corner = near[np.isin(tris[near], topo.LIP_CORNERS).any(1)]
            ring = np.flatnonzero(np.isin(tris, tris[corner]).any(1) & ~(upper | lower))
            self.lip_tris = np.r_[ring, near[np.argsort(~np.logical_and(upper, lower)[near], kind="stable")]]
        if cfg.mouth == "learned":
            self.mouth: RealMouth | PaintedMouth = LearnedMouth(portrait.image, lm, portrait.upscale)
        elif cfg.mouth == "bank":
            self.mouth = RealMouth(portrait.image, lm, portrait.upscale)
        else:
            self.mouth = PaintedMouth(portrait.image, lm)

    def _posed(self, pose6: np.ndarray, pts: np.ndarray) -> np.ndarray:
        yaw, pitch, roll, tx, ty, log_s = (float(v) for v in pose6)
        p = self.portrait.pose
        return p.scale * np.exp(log_s) * pts @ (p.rot @ rotation(yaw, pitch, roll)).T + p.t + np.array([tx, ty, 0.0]) * p.scale

    def landmarks(self, pose6: np.ndarray, expr: np.ndarray) -> np.ndarray:
        """Output-image positions (478, 3) of the face landmarks for one frame of motion."""
        expr = np.asarray(expr, np.float64)
        face = self._posed(pose6, self.neutral + np.tensordot(expr, self.basis, 1))
        if self.cfg.anchors == "v2" and (expr[_BLINKS] != 0).any():
            open_eyes = self._posed(pose6, self.neutral + np.tensordot(_no_blink(expr), self.basis, 1))
            self._irises_behind_lids(face, open_eyes)
        return face

    @staticmethod
    def _irises_behind_lids(face: np.ndarray, open_eyes: np.ndarray) -> None:
        """In place: each iris point keeps its height relative to the lids, scaled with the lids' gap, so a closing
        lid draws over the iris (which vanishes at the slit) instead of dragging it into a spike."""
        for upper, lower, iris in _EYES:
            x = face[iris, 0]

            def at(pts: np.ndarray, idx: list[int], x: np.ndarray = x) -> np.ndarray:
                order = np.argsort(pts[idx, 0])
                return np.interp(x, pts[idx, 0][order], pts[idx, 1][order])

            up0, lo0, up1, lo1 = at(open_eyes, upper), at(open_eyes, lower), at(face, upper), at(face, lower)
            # an iris point at the eye's corner (a turned or pitched head) can find the lids there a hair apart or
            # crossed: it keeps its place, since scaling by that gap threw it thousands of pixels (tearing)
            gap = lo0 - up0
            ok = gap > IRIS_MIN_GAP
            rel = np.clip((open_eyes[iris, 1] - up0) / np.where(ok, gap, 1.0), -3.0, 4.0)
            face[iris, 1] = np.where(ok, up1 + rel * (lo1 - up1), face[iris, 1])

    def displacements(self, pose6: np.ndarray, expr: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Displacements of every mesh vertex for one frame: expression (kept sharp; v2 also moves the head ring
        and the anchors it pushes, and unfolds it), head pose (low-passed by the warp so that rotations cannot fold
        thin triangles, and gated so the background stays still), and the face landmarks (478, 3)."""
        rigid = np.r_[self._posed(pose6, self.neutral), self._posed(pose6, self.head_ring)][:, :2]
        face = self.landmarks(pose6, expr)
        n_face, n_moving = len(face), len(rigid)
        pose_disp = np.r_[rigid - self.src[:n_moving], np.zeros((len(self.static), 2))]
        expr_disp = np.zeros_like(pose_disp)
        expr_disp[:n_face] = face[:, :2] - rigid[:n_face]
        if self.ring_follows:
            ring = expr_disp[topo.FACE_OVAL]
            expr_disp[n_face:n_moving] = ring
            expr_disp[n_moving:] = np.where(self.neck[:, None], self._give_way(ring + pose_disp[n_face:n_moving]),
                                            self._give_way(ring))
            expr_disp = self.warp.unfold(expr_disp, pose_disp)
        return expr_disp, pose_disp, face

    def _give_way(self, ring_disp: np.ndarray) -> np.ndarray:
        """Displacement of the static anchors (the neck, the canvas border) pushed by the head ring: each gives way by
        what the nearest ring point moves beyond a third of the distance to it, so the skin in between is compressed
        by at most a third and never folds, and anchors out of reach stay put. The head's pose pushes only those
        below the mouth (the neck and shoulders follow a nodding head; the background above them stays still)."""
        push = ring_disp[self._nearest_ring]
        mag = np.linalg.norm(push, axis=1)
        keep = np.maximum(0.0, mag - self._ring_dist / 3) / np.maximum(mag, 1e-9)
        return push * keep[:, None]

    def backward_map(self, pose6: np.ndarray, expr: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(h, w, 2) portrait coordinates each pixel of the warp's ROI is drawn from, and the face landmarks where the
        map puts them (v2: the head pose low-passed there as everywhere, so the mouth is drawn where the lips are)."""
        expr_disp, pose_disp, face = self.displacements(pose6, expr)
        if self.lip_tris is None:
            return self.warp.backward_map(expr_disp, pose_disp)[0], face
        n_moving = len(self.src) - len(self.static)
        m, moved = self.warp.backward_map(expr_disp, pose_disp, at=np.arange(n_moving))
        # the exact inverse takes the vertices where the low-passed field moves them (with the raw pose, a strongly
        # pitched head pulled the lips' thin triangles apart from the map around them: spikes of skin), and only once
        # the lips part (pressed together or crossing, at a /p b m/ closure, their triangles overlap and left shards
        # along the mouth line; the fixed point is smooth there)
        strength = float(np.clip(inner_lip_gap(moved) / LIPS_APART, 0.0, 1.0))
        self.warp.exact_inverse(np.r_[moved, self.src[n_moving:]], self.lip_tris, m, strength=strength)
        face = face.copy()
        face[:, :2] = moved[: len(face)]
        return m, face

    def new_sequence(self) -> None:
        """The next frame rendered with `sequence` starts a new one: it is not blurred from the last."""
        self._last_map = None

    def render(self, pose6: np.ndarray, expr: np.ndarray, sequence: bool = False) -> np.ndarray:
        """One frame. `sequence`: it follows the last frame rendered with `sequence` (a video's frames in order), and
        the warp is exposed over `cfg.shutter` of a frame's interval centred on its instant: the map averaged over
        maps interpolated toward the last frame's and extrapolated as far the other way, so fast motion blurs as a
        camera's does (a real video's mouth is softer than a still's wherever it moves). Centred, because a frame's
        motion is where the face is at its instant (tracked from real frames, the middle of their exposure); an
        exposure that ends at the instant lags it. The mouth's interior is drawn at the instant."""
        return self._draw(*self.backward_map(pose6, expr), pose6, expr, sequence)

    def frames(self, pose: np.ndarray, expr: np.ndarray) -> Iterator[np.ndarray]:
        """The frames of a new sequence in order, equal to `new_sequence()` then `render(pose[i], expr[i],
        sequence=True)` one by one: each frame's backward map (pure, no state) is made on a second thread while the
        frame before it is drawn and used by the caller, so the two overlap wherever numpy, scipy and OpenCV release
        the GIL."""
        from concurrent.futures import ThreadPoolExecutor

        self.new_sequence()
        if not len(pose):
            return
        with ThreadPoolExecutor(1, thread_name_prefix="backward-map") as pool:
            ahead = pool.submit(self.backward_map, pose[0], expr[0])
            for i in range(len(pose)):
                m, face = ahead.result()
                if i + 1 < len(pose):
                    ahead = pool.submit(self.backward_map, pose[i + 1], expr[i + 1])
                yield self._draw(m, face, pose[i], expr[i], sequence=True)

    def _draw(self, m: np.ndarray, face: np.ndarray, pose6: np.ndarray, expr: np.ndarray, sequence: bool) -> np.ndarray:
        """The frame from its backward map `m` and landmarks `face` (`backward_map`); see `render`."""
        import cv2

        x0, y0, x1, y1 = self.warp.roi
        frame = self.portrait.image.copy()
        last = self._last_map
        if sequence:
            self._last_map = m
        def warp(at: np.ndarray) -> np.ndarray:
            return cv2.remap(self.portrait.image, at, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT_101)

        if sequence and self.cfg.shutter > 0 and last is not None:
            acc = np.zeros((*m.shape[:2], 3), np.float32)
            half = self.cfg.shutter / 2
            for a in np.linspace(1 - half, 1 + half, SHUTTER_SAMPLES):
                cv2.accumulate(warp(cv2.addWeighted(last, 1 - a, m, a, 0.0)), acc)
            warped = cv2.convertScaleAbs(acc, alpha=1 / SHUTTER_SAMPLES)
        else:
            warped = warp(m)
        frame[y0:y1, x0:x1] = warped if self.backdrop is None else self.backdrop.composite(warped, frame[y0:y1, x0:x1], m)
        self.mouth.paint(frame, face)
        if self.cfg.anchors == "v2":  # where the expression presses the lips, whichever map drew them
            _soften_pressed_seam(frame, self.landmarks(pose6, expr))
        return frame

    def fold(self, pose6: np.ndarray, expr: np.ndarray) -> tuple[float, float]:
        """(smallest Jacobian determinant of the forward warp, share of pixels where it is <= 0) for one frame, over
        the warped region: positive where the mesh keeps its orientation, zero or below where it folds (tears)."""
        import cv2

        det = self.warp.jacobian(*self.displacements(pose6, expr)[:2])
        # the slits do not count: the lips' inner contour bounds triangles of next to no area in a closed mouth and
        # what the warp puts there is painted over by the mouth; a closing eye's opening collapses to a line by design
        x0, y0, x1, y1 = self.warp.roi
        slits = np.zeros(det.shape, np.uint8)
        for loop in (topo.inner_lip_loop(), *(upper + lower[-2:0:-1] for upper, lower, _ in _EYES)):
            cv2.fillPoly(slits, [np.round(self.portrait.landmarks[loop, :2] - (x0, y0)).astype(np.int32)], 1)
        det = det[cv2.dilate(slits, np.ones((5, 5), np.uint8)) == 0]
        return float(det.min()), float((det <= 0).mean())
