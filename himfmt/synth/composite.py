"""Exact integer alpha compositing inside bounding boxes.

``out = round((a*F + (255-a)*B) / 255)`` with 8-bit ``a``, computed in uint16
(the largest intermediate is 255*255 + 382 < 65536) and divided by 255 with
exact rounding. Each pasted instance occludes the earlier ones: their visible
mattes are multiplied by ``(255 - a_new) / 255``, rounded, so the written
mattes are what is actually visible and their sum stays within 255 (plus at
most one grey level of rounding per instance).
"""
from __future__ import annotations

import numpy as np


def div255(x: np.ndarray) -> np.ndarray:
    """round(x / 255) for integer arrays with 0 <= x <= 65025 (no ties exist)."""
    x = x + 128
    return (x + (x >> 8)) >> 8


def blend(fg: np.ndarray, bg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite same-shaped uint8 ``fg`` over ``bg`` with uint8 ``alpha`` (HxW)."""
    a = alpha.astype(np.uint16)
    if fg.ndim == 3:
        a = a[:, :, None]
    mixed = fg.astype(np.uint16) * a + bg.astype(np.uint16) * (255 - a)
    return div255(mixed).astype(np.uint8)


def clip_box(x: int, y: int, w: int, h: int, width: int, height: int) -> tuple[slice, slice, slice, slice] | None:
    """Slices (canvas rows, canvas cols, layer rows, layer cols) of a w x h layer at (x, y)."""
    x0, y0 = max(x, 0), max(y, 0)
    x1, y1 = min(x + w, width), min(y + h, height)
    if x0 >= x1 or y0 >= y1:
        return None
    return slice(y0, y1), slice(x0, x1), slice(y0 - y, y1 - y), slice(x0 - x, x1 - x)


class Canvas:
    """A background with people pasted one by one, keeping each one's visible matte."""

    def __init__(self, background: np.ndarray) -> None:
        self.image = np.array(background, dtype=np.uint8, copy=True)
        self.height, self.width = self.image.shape[:2]
        self.mattes: list[np.ndarray] = []
        self.boxes: list[tuple[int, int, int, int]] = []  # x0, y0, x1, y1 of each instance

    def paste(self, fg: np.ndarray, alpha: np.ndarray, x: int, y: int) -> int:
        """Paste ``fg`` (hxwx3) with ``alpha`` (hxw) at (x, y), clipped; returns its index."""
        h, w = alpha.shape
        matte = np.zeros((self.height, self.width), np.uint8)
        box = clip_box(x, y, w, h, self.width, self.height)
        if box is not None:
            ry, rx, ly, lx = box
            a = alpha[ly, lx]
            self.image[ry, rx] = blend(fg[ly, lx], self.image[ry, rx], a)
            inv = (255 - a).astype(np.uint16)
            for m in self.mattes:
                region = m[ry, rx]
                m[ry, rx] = div255(region.astype(np.uint16) * inv).astype(np.uint8)
            matte[ry, rx] = a
            self.boxes.append((rx.start, ry.start, rx.stop, ry.stop))
        else:
            self.boxes.append((0, 0, 0, 0))
        self.mattes.append(matte)
        return len(self.mattes) - 1
