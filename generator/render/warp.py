"""Dense backward warp driven by sparse vertex displacements over a fixed triangulation."""
from __future__ import annotations

import numpy as np

MAX_EXTRAPOLATION_PX = 1.5  # how far beyond its triangle (source px) a rasterised pixel may be mapped by it
RASTER_SLACK_PX = 1.0       # how far outside a triangle the centre of a pixel that cv2.fillPoly draws for it can lie


class MeshWarp:
    """Piecewise-linear displacement field over a Delaunay triangulation of the source vertices.

    Set-up precomputes, for each pixel of the region of interest, its three vertices and barycentric
    weights (a sparse matrix), so each frame costs one sparse product, a few remaps and no Python loops.
    The backward map is the fixed point of x = y - D(x), where D is the forward displacement of source x.
    """

    def __init__(self, src: np.ndarray, size: int, roi: tuple[int, int, int, int] | None = None, iters: int = 3,
                 smooth_px: float = 8.0, n_static: int = 0, slit: list[int] | None = None,
                 layout: np.ndarray | None = None):
        """`layout`: vertex positions to triangulate instead of `src` (the same mesh with its lips parted, so that
        no triangle spans the slit); source pixels are then located by drawing the triangles at `src`."""
        import scipy.sparse as sp
        from scipy.spatial import Delaunay

        x0, y0, x1, y1 = roi or (0, 0, size, size)
        self.size, self.roi, self.iters, self.smooth_px = size, (x0, y0, x1, y1), iters, smooth_px
        self.layout = np.asarray(src if layout is None else layout, np.float64)
        tri = Delaunay(self.layout)
        self.src, self.simplices = np.asarray(src, np.float64), tri.simplices
        area0 = _signed_areas(self.src, tri.simplices)
        self._solid = np.abs(area0) > 0.02    # a triangle of no area (a closed lip line) has no side to flip to
        if slit:  # nor does one spanning the lips' slit (two of its corners on the slit): the mouth is painted over it
            self._solid &= np.isin(tri.simplices, slit).sum(1) < 2
        self._sign0 = np.sign(area0)
        edges = np.r_[tri.simplices[:, [0, 1]], tri.simplices[:, [1, 2]], tri.simplices[:, [2, 0]]]
        adj = sp.coo_matrix((np.ones(len(edges)), (edges[:, 0], edges[:, 1])), shape=(len(src), len(src)))
        adj = ((adj + adj.T) > 0).astype(np.float64).tocsr()
        self._neighbour_mean = sp.diags(1 / np.maximum(np.asarray(adj.sum(1)).ravel(), 1)) @ adj
        self.n_static = n_static
        ys, xs = np.mgrid[y0:y1, x0:x1]
        pts = np.stack([xs.ravel(), ys.ravel()], 1).astype(np.float64)
        if layout is None:
            simplex = tri.find_simplex(pts)
        else:
            simplex = _locate(self.src, tri.simplices, self.roi, np.argsort(np.abs(area0)))
        inside = simplex >= 0
        bary = _barycentric(self.src, tri.simplices[simplex[inside]], pts[inside])[0]
        rows = np.repeat(np.flatnonzero(inside), 3)
        self._w = sp.csr_matrix((bary.ravel(), (rows, tri.simplices[simplex[inside]].ravel())),
                                shape=(len(pts), len(src)), dtype=np.float32)
        self._grid = np.dstack([xs, ys]).astype(np.float32)
        self._local_grid = self._grid - np.array([x0, y0], np.float32)
        self.shape = (y1 - y0, x1 - x0)
        # How much each pixel belongs to moving vertices (the last n_static never move): gates the smoothed field.
        moving = np.r_[np.ones(len(src) - n_static), np.zeros(n_static)].astype(np.float32)
        self._moving = np.repeat((self._w @ moving).reshape(*self.shape, 1), 2, axis=2)
        # the pose field is low-passed at a quarter of the size: the same sparse product, area-averaged beforehand
        h, w = self.shape
        self._small = (max(h // 4, 1), max(w // 4, 1))
        self._w_small = (sp.kron(_area_matrix(h, self._small[0]), _area_matrix(w, self._small[1])) @ self._w).tocsr()

    def flipped(self, disp: np.ndarray) -> np.ndarray:
        """Boolean per triangle: does moving the vertices by `disp` turn it over?"""
        return self._solid & (np.sign(_signed_areas(self.src + disp, self.simplices)) != self._sign0)

    def unfold(self, disp: np.ndarray, other: np.ndarray | None = None, iters: int = 12) -> np.ndarray:
        """`disp` with the vertices of the triangles it turns over relaxed toward their neighbours' mean displacement
        until none is (or `iters` rounds pass): where the requested motion would fold the mesh (tearing), it is
        smoothed locally instead. `other` (the head pose) is added on top; triangles it turns over by itself (the
        silhouette of a turned head) are left to the warp's low-passed pose field."""
        disp = np.array(disp, np.float64)
        if other is None:
            other = np.zeros_like(disp)
        moving = np.arange(len(disp)) < len(disp) - self.n_static
        moving_tri = moving[self.simplices].all(1)   # by a static anchor the head pose is low-passed and gated:
        own = moving_tri & ~self.flipped(other)      # there only `disp` must keep its triangles upright
        for _ in range(iters):
            bad = (self.flipped(disp + other) & own) | (self.flipped(disp) & ~moving_tri)
            if not bad.any():
                break
            verts = np.zeros(len(disp), bool)
            verts[self.simplices[bad].ravel()] = True
            disp[verts] = 0.5 * disp[verts] + 0.5 * (self._neighbour_mean @ disp)[verts]
        return disp

    def field(self, disp: np.ndarray, smooth_disp: np.ndarray | None = None) -> np.ndarray:
        """Forward displacement (h, w, 2) of every source pixel in the ROI.

        `smooth_disp` is a second displacement (head pose) whose field is low-passed before adding, so
        that rigid rotations cannot fold thin triangles (eyelids, lips, the occluded cheek).
        """
        sharp, smooth = self._fields(disp, smooth_disp)
        return sharp if smooth is None else sharp + smooth

    def _fields(self, disp: np.ndarray, smooth_disp: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
        """The sharp field of `disp` and the low-passed, gated field of `smooth_disp` (None without one)."""
        import cv2

        sharp = (self._w @ disp.astype(np.float32)).reshape(*self.shape, 2)
        if smooth_disp is None:
            return sharp, None
        small = (self._w_small @ smooth_disp.astype(np.float32)).reshape(*self._small, 2)
        small = cv2.GaussianBlur(small, (0, 0), self.smooth_px / 4)
        h, w = self.shape
        return sharp, cv2.multiply(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR), self._moving)

    def backward_map(self, disp: np.ndarray, smooth_disp: np.ndarray | None = None,
                     at: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
        """(h, w, 2) float32 map of source coordinates for each output pixel of the ROI (for cv2.remap), and where
        the vertices `at` (indices) move to under the same field (None without `at`): their own `disp` plus the
        low-passed `smooth_disp` there, so what is drawn at them (the exact inverse, the mouth) lands where the
        map puts their neighbourhood."""
        import cv2

        sharp, smooth = self._fields(disp, smooth_disp)
        d = sharp if smooth is None else cv2.add(sharp, smooth)
        origin = np.array(self.roi[:2], np.float32)
        at_m = d  # the field where the map samples the source, iterated in ROI coordinates (all arrays (h, w, 2))
        for _ in range(self.iters - 1):
            at_m = cv2.remap(d, self._local_grid - at_m, None, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        m = self._grid - at_m
        if at is None:
            return m, None
        moved = self.src[at] + disp[at]
        if smooth is not None:
            q = (self.src[at] - origin).astype(np.float32)[None]
            moved += cv2.remap(smooth, q[..., 0], q[..., 1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)[0]
        return m, moved

    def exact_inverse(self, moved: np.ndarray, tris: np.ndarray, m: np.ndarray, feather_px: float = 3.0,
                      strength: float = 1.0) -> None:
        """In place: over the triangles `tris` (indices into `simplices`) at their `moved` vertex positions, write the
        exact inverse of the piecewise-affine warp into the backward map `m` (h, w, 2), blended in by `strength`
        (0..1). Where a sliver of the mesh opens wide (the lips parting) the fixed-point inverse oscillates and leaves
        a sawtooth; this does not."""
        import cv2

        if strength <= 0:
            return

        # a triangle the motion turns over has no inverse to take (a thin lip triangle under a strongly pitched head): it
        # keeps the fixed point, whose low-passed pose field does not fold, instead of drawing a spike across the face
        tris = tris[np.sign(_signed_areas(moved, self.simplices[tris])) == self._sign0[tris]]
        dst, src = moved[self.simplices[tris]], self.src[self.simplices[tris]]
        h, w = self.shape
        x0, y0 = np.maximum(np.floor(dst.reshape(-1, 2).min(0)).astype(int), self.roi[:2])  # their box, in the ROI
        x1, y1 = np.minimum(np.ceil(dst.reshape(-1, 2).max(0)).astype(int) + 1, (self.roi[0] + w, self.roi[1] + h))
        if x1 <= x0 or y1 <= y0:
            return
        ids = np.full((y1 - y0, x1 - x0), -1, np.int32)
        polys = np.round((dst - (x0, y0)) * 16).astype(np.int32)
        for t in range(len(polys)):
            cv2.fillPoly(ids, polys[t: t + 1], t, cv2.LINE_8, 4)
        drawn = ids >= 0
        # each triangle's barycentric weights and source point as affine functions of the output pixel (x, y, 1); the
        # last, all zero, stands for the box's undrawn pixels. A triangle collapsed to a line (doubled signed area
        # near 0) has no inverse: its pixels keep the fixed point.
        corners = np.concatenate([dst, np.ones((len(tris), 3, 1))], 2).transpose(0, 2, 1)  # a vertex per column
        ok = np.abs(np.linalg.det(corners)) > 1e-6
        to_bary = np.zeros((len(tris) + 1, 3, 3))
        to_bary[:-1][ok] = np.linalg.inv(corners[ok])
        to_src = np.einsum("tvi,tvj->tij", np.concatenate([src, np.zeros((1, 3, 2))]), to_bary)
        ys, xs = (v[..., None] for v in np.mgrid[y0:y1, x0:x1].astype(np.float64))
        k = np.where(drawn, ids, len(tris))
        coef = np.concatenate([to_bary.reshape(-1, 9), to_src.reshape(-1, 6)], 1)[k]  # five rows of (x, y, 1)
        lin = coef[..., 0::3] * xs + coef[..., 1::3] * ys + coef[..., 2::3]
        bary, s = lin[..., :3], lin[..., 3:]
        # a pixel the rasteriser counts in whose centre lies just outside a sliver would extrapolate far beyond it (a
        # stray dot of the slit or the chin): where that lands more than MAX_EXTRAPOLATION_PX from what the
        # triangle's nearest point maps to, the nearest point is sampled instead (zero motion stays exact)
        # the few pixels drawn outside their triangle (within RASTER_SLACK_PX of it), of triangles whose inverse
        # stretches that far by more than the limit (the Frobenius norm bounds the stretch): only slivers
        risky = np.sqrt((to_src[:, :, :2] ** 2).sum((1, 2))) * RASTER_SLACK_PX > MAX_EXTRAPOLATION_PX
        oy, ox = np.nonzero(drawn & risky[k] & (np.minimum(np.minimum(bary[..., 0], bary[..., 1]), bary[..., 2]) < 0))
        kk = k[oy, ox]
        q = _nearest_on_triangles(np.c_[ox + x0, oy + y0].astype(np.float64), dst[kk])
        s_near = np.einsum("nij,nj->ni", to_src[kk, :, :2], q) + to_src[kk, :, 2]
        far = np.linalg.norm(s[oy, ox] - s_near, axis=1) > MAX_EXTRAPOLATION_PX
        s[oy[far], ox[far]] = s_near[far]
        # the exact inverse takes over from the fixed point gradually, over `feather_px` inside the outline of its
        # triangles' union, so the seam where the two meet is not a step in the map (a jagged line around the lips)
        wgt = strength * np.clip(cv2.distanceTransform(drawn.astype(np.uint8), cv2.DIST_L2, 3) / feather_px, 0.0, 1.0)
        wgt *= np.r_[ok, False][k]
        box = m[y0 - self.roi[1]: y1 - self.roi[1], x0 - self.roi[0]: x1 - self.roi[0]]
        box += wgt[..., None] * (s - box)

    def jacobian(self, disp: np.ndarray, smooth_disp: np.ndarray | None = None) -> np.ndarray:
        """(h, w) determinant of the forward map x -> x + D(x) at each ROI pixel; <= 0 where the warp folds."""
        d = self.field(disp, smooth_disp).astype(np.float64)
        dxx, dxy = np.gradient(d[..., 0], axis=1), np.gradient(d[..., 0], axis=0)
        dyx, dyy = np.gradient(d[..., 1], axis=1), np.gradient(d[..., 1], axis=0)
        return (1 + dxx) * (1 + dyy) - dxy * dyx


def _area_matrix(n: int, m: int):
    """(m, n) sparse matrix that resizes a line of `n` samples to `m` by area averaging, as cv2.INTER_AREA does."""
    import scipy.sparse as sp

    edges = np.arange(m + 1) * (n / m)
    rows, cols, vals = [], [], []
    for i in range(m):
        j = np.arange(int(np.floor(edges[i])), min(int(np.ceil(edges[i + 1])), n))
        overlap = np.minimum(j + 1, edges[i + 1]) - np.maximum(j, edges[i])
        rows += [i] * len(j)
        cols += list(j)
        vals += list(overlap / (n / m))
    return sp.csr_matrix((vals, (rows, cols)), shape=(m, n), dtype=np.float32)


def _nearest_on_triangles(p: np.ndarray, tri: np.ndarray) -> np.ndarray:
    """(n, 2) point of each triangle `tri` (n, 3, 2) nearest each point `p` (n, 2): `p` itself when inside, else the
    nearest point of its nearest edge."""
    bary = _barycentric(tri.reshape(-1, 2), np.arange(3 * len(tri)).reshape(-1, 3), p)[0]
    best, out = np.full(len(p), np.inf), p.copy()
    for i, j in ((0, 1), (1, 2), (2, 0)):
        a, e = tri[:, i], tri[:, j] - tri[:, i]
        t = np.clip(((p - a) * e).sum(1) / np.maximum((e * e).sum(1), 1e-12), 0.0, 1.0)
        q = a + t[:, None] * e
        d = np.linalg.norm(p - q, axis=1)
        closer = d < best
        best[closer], out[closer] = d[closer], q[closer]
    inside = (bary >= 0).all(1)
    out[inside] = p[inside]
    return out


def _signed_areas(p: np.ndarray, tris: np.ndarray) -> np.ndarray:
    a, b, c = p[tris[:, 0]], p[tris[:, 1]], p[tris[:, 2]]
    return 0.5 * ((b[:, 0] - a[:, 0]) * (c[:, 1] - a[:, 1]) - (b[:, 1] - a[:, 1]) * (c[:, 0] - a[:, 0]))


def _barycentric(p: np.ndarray, tris: np.ndarray, pts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(n, 3) barycentric weights of points `pts` in triangles `tris` of vertices `p` (extrapolated outside), and
    each triangle's doubled signed area (near 0: no inverse)."""
    a = p[tris[:, 0]]
    e1, e2, d = p[tris[:, 1]] - a, p[tris[:, 2]] - a, pts - a
    det = e1[:, 0] * e2[:, 1] - e1[:, 1] * e2[:, 0]
    safe = np.where(np.abs(det) < 1e-12, 1e-12, det)
    u = (d[:, 0] * e2[:, 1] - d[:, 1] * e2[:, 0]) / safe
    v = (e1[:, 0] * d[:, 1] - e1[:, 1] * d[:, 0]) / safe
    return np.c_[1 - u - v, u, v], det


def _locate(p: np.ndarray, tris: np.ndarray, roi: tuple[int, int, int, int], order: np.ndarray) -> np.ndarray:
    """Index into `tris` of the triangle each ROI pixel lies in (flattened; -1 outside the vertices' convex hull),
    for a triangulation that need not be Delaunay at `p`: triangles are drawn in `order` (thinnest first, so a
    sliver turned over at `p` never hides its neighbours), and a pixel no triangle covers takes its nearest covered
    neighbour's."""
    import cv2
    from scipy import ndimage

    x0, y0, x1, y1 = roi
    polys = np.round((p[tris] - (x0, y0)) * 16).astype(np.int32)
    ids = np.full((y1 - y0, x1 - x0), -1, np.int32)
    for k in order:
        cv2.fillPoly(ids, polys[k: k + 1], int(k), cv2.LINE_8, 4)
    gap = ids < 0
    if gap.any() and not gap.all():
        iy, ix = ndimage.distance_transform_edt(gap, return_distances=False, return_indices=True)
        ids = ids[iy, ix]
    hull = np.zeros_like(ids, np.uint8)
    outline = cv2.convexHull(p.astype(np.float32)).reshape(-1, 2) - (x0, y0)
    cv2.fillConvexPoly(hull, np.round(outline).astype(np.int32), 1)
    return np.where(hull > 0, ids, -1).ravel()
