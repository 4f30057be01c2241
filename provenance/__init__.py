"""Provenance: invisible watermark on every frame and a signed C2PA manifest on every file (issue #3).

Not implemented yet: until it lands, generated videos carry no watermark and no manifest.
Knows nothing of faces: it marks and verifies media only.
"""
