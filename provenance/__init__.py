"""Provenance: an invisible watermark on every frame and a signed C2PA manifest on every file.

- `spread`: the robust video watermark (spread spectrum on a resolution-independent luma grid).
- `dwtdct`: the `invisible-watermark` dwtDct scheme, vectorised and interoperable with the library.
- `payload`: the 64-bit payload (CRC-32, Chase list decoding, false-positive bound).
- `detect`: watermark detection over images and videos.
- `keys`, `manifest`: signing identities and C2PA manifests.
- `marker`: what a generator calls (mark frames, sign files); `verify`: what a publisher calls.

Knows nothing of faces: it marks and verifies media only.
"""
