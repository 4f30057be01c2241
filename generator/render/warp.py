"""Dense backward warp driven by sparse vertex displacements over a fixed triangulation."""
from __future__ import annotations

import numpy as np


class MeshWarp:
    """Piecewise-linear displacement field over a Delaunay triangulation of the source vertices.

    Set-up precomputes, for each pixel of the region of interest, its three vertices and barycentric
    weights (a sparse matrix), so each frame costs one sparse product, a few remaps and no Python loops.
    The backward map is the fixed point of x = y - D(x), where D is the forward displacement of source x.
    """

    def __init__(self, src: np.ndarray, size: int, roi: tuple[int, int, int, int] | None = None, iters: int = 3,
                 smooth_px: float = 8.0, n_static: int = 0):
        import scipy.sparse as sp
        from scipy.spatial import Delaunay

        x0, y0, x1, y1 = roi or (0, 0, size, size)
        self.size, self.roi, self.iters, self.smooth_px = size, (x0, y0, x1, y1), iters, smooth_px
        tri = Delaunay(src)
        ys, xs = np.mgrid[y0:y1, x0:x1]
        pts = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
        simplex = tri.find_simplex(pts)
        inside = simplex >= 0
        t = tri.transform[simplex[inside]]
        b = np.einsum("ijk,ik->ij", t[:, :2], pts[inside] - t[:, 2])
        bary = np.c_[b, 1 - b.sum(1)]
        rows = np.repeat(np.flatnonzero(inside), 3)
        self._w = sp.csr_matrix((bary.ravel(), (rows, tri.simplices[simplex[inside]].ravel())),
                                shape=(len(pts), len(src)), dtype=np.float32)
        self._grid = np.dstack([xs, ys]).astype(np.float32)
        self.shape = (y1 - y0, x1 - x0)
        # How much each pixel belongs to moving vertices (the last n_static never move): gates the smoothed field.
        moving = np.r_[np.ones(len(src) - n_static), np.zeros(n_static)].astype(np.float32)
        self._moving = (self._w @ moving).reshape(*self.shape, 1)

    def field(self, disp: np.ndarray, smooth_disp: np.ndarray | None = None) -> np.ndarray:
        """Forward displacement (h, w, 2) of every source pixel in the ROI.

        `smooth_disp` is a second displacement (head pose) whose field is low-passed before adding, so
        that rigid rotations cannot fold thin triangles (eyelids, lips, the occluded cheek).
        """
        import cv2

        if smooth_disp is None:
            return (self._w @ disp.astype(np.float32)).reshape(*self.shape, 2)
        both = (self._w @ np.c_[disp, smooth_disp].astype(np.float32)).reshape(*self.shape, 4)
        h, w = self.shape
        small = cv2.resize(both[..., 2:], (max(w // 4, 1), max(h // 4, 1)), interpolation=cv2.INTER_AREA)
        small = cv2.GaussianBlur(small, (0, 0), self.smooth_px / 4)
        return both[..., :2] + cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) * self._moving

    def backward_map(self, disp: np.ndarray, smooth_disp: np.ndarray | None = None) -> np.ndarray:
        """(h, w, 2) float32 map of source coordinates for each output pixel of the ROI (for cv2.remap)."""
        import cv2

        d = self.field(disp, smooth_disp)
        origin = np.array(self.roi[:2], np.float32)
        m = self._grid - d
        for _ in range(self.iters - 1):
            m = self._grid - cv2.remap(d, m - origin, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return m
