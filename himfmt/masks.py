"""Derived guidance data: trimaps (DVM's recipe) and masks from mattes."""
from __future__ import annotations

import cv2
import numpy as np


def trimap(alpha: np.ndarray, kernel: int = 3, iterations: int = 5) -> np.ndarray:
    """DVM's trimap: elliptic kernel, dilate and erode the alpha.

    255 where the eroded alpha is 255, 0 where the dilated alpha is 0, 128 elsewhere.
    """
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel))
    dilated = cv2.dilate(alpha, k, iterations=iterations)
    eroded = cv2.erode(alpha, k, iterations=iterations)
    out = np.full(alpha.shape, 128, np.uint8)
    out[eroded >= 255] = 255
    out[dilated <= 0] = 0
    return out
