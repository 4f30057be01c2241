"""Where the person is: mediapipe's selfie segmentation (shipped inside the mediapipe wheel), person against
background. The renderer uses it to move the hair with the head and stretch the background instead."""
from __future__ import annotations

import threading
import warnings
from functools import lru_cache

import numpy as np

_LOCK = threading.Lock()  # one graph, run by one thread at a time (the web app renders from several)


@lru_cache(maxsize=1)
def _segmenter():
    from .analysis import mediapipe_solution

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return mediapipe_solution("selfie_segmentation").SelfieSegmentation(model_selection=0)


def person_mask(rgb: np.ndarray) -> np.ndarray:
    """(H, W) float32 in 0..1: how surely each pixel belongs to a person (face, hair, neck, clothes), not the
    background. Works on paintings and drawings as on photos."""
    with _LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore")
        mask = _segmenter().process(np.ascontiguousarray(rgb)).segmentation_mask
    return np.clip(np.asarray(mask, np.float32), 0.0, 1.0)
