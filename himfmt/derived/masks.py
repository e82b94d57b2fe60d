"""Guidance masks degraded from mattes (the trimap recipe is the layouts': :func:`himfmt.layouts.base.trimap`).

No detector runs here (no model is downloaded). A mask set stands in for one
detector's output: each instance's matte is thresholded at a drawn level,
dilated or eroded with a drawn elliptic kernel, coarsened by a drawn
down/up-sampling factor, and optionally stripped of small parts, the kind of
degradation MaGGie's trainer applies on the fly. Every draw comes from
``(seed, source, sample, instance)``, so a set is reproducible and sets of
different names differ. A temporal set (V-HIM60's ``xmem``) draws once per
instance and clip and lets the parameters drift slowly from frame to frame,
as a propagated mask does, instead of independent noise per frame.
Masks are binary {0, 255}, the size of their matte, and never mark a pixel
farther from the matte than the drawn dilation.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from typing import NamedTuple

import cv2
import numpy as np


@dataclass
class MaskParams:
    """Ranges the degradations are drawn from; the defaults are the ``detector`` preset."""

    threshold: tuple[float, float] = (0.1, 0.95)  # mask = alpha > t * 255
    kernel: tuple[int, int] = (1, 29)  # elliptic dilation/erosion kernel size
    ops: tuple[str, ...] = ("dilate", "erode")
    coarse: tuple[float, float] = (1.0, 4.0)  # down/up-sampling factor (1 = none)
    drop_small: float = 0.0  # drop connected parts smaller than this share of the mask
    temporal: bool = False  # clips: one draw per instance, drifting slowly along the clip
    drift: float = 0.03  # temporal: largest per-frame step, as a share of each range

    @classmethod
    def xmem(cls) -> "MaskParams":
        """The ``xmem`` preset: a propagated mask, closer to the matte and drifting along the clip."""
        return cls(threshold=(0.3, 0.7), kernel=(1, 9), coarse=(1.0, 2.0), temporal=True)


class Degradation(NamedTuple):
    threshold: float
    op: str
    kernel: float
    coarse: float


def mask_rng(seed: int, source: str, sample: str, instance: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(source.encode()), zlib.crc32(sample.encode()), int(instance)])


def draw(rng: np.random.Generator, p: MaskParams) -> Degradation:
    return Degradation(
        float(rng.uniform(*p.threshold)),
        str(p.ops[int(rng.integers(len(p.ops)))]) if p.ops else "none",
        float(rng.uniform(p.kernel[0], p.kernel[1] + 1)),
        float(rng.uniform(*p.coarse)),
    )


def series(rng: np.random.Generator, p: MaskParams, n: int) -> list[Degradation]:
    """Degradations of ``n`` frames of one instance: independent, or drifting slowly (temporal)."""
    if not p.temporal:
        return [draw(rng, p) for _ in range(n)]
    d = draw(rng, p)
    out = [d]
    for _ in range(n - 1):

        def step(v: float, lo: float, hi: float) -> float:
            return min(max(v + rng.uniform(-p.drift, p.drift) * (hi - lo), lo), hi)

        d = d._replace(
            threshold=step(d.threshold, *p.threshold),
            kernel=step(d.kernel, p.kernel[0], p.kernel[1] + 0.999),
            coarse=step(d.coarse, *p.coarse),
        )
        out.append(d)
    return out


def _ellipse(k: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))


def degrade(matte: np.ndarray, d: Degradation, drop_small: float = 0.0) -> np.ndarray:
    """One binary {0, 255} mask from a matte."""
    m: np.ndarray = (matte > d.threshold * 255).astype(np.uint8) * 255
    k = max(1, int(d.kernel))
    support = (matte > 0).astype(np.uint8)
    if k > 1 and d.op == "dilate":
        m = cv2.dilate(m, _ellipse(k))
        allowed = cv2.dilate(support, _ellipse(k))
    else:
        if k > 1 and d.op == "erode":
            m = cv2.erode(m, _ellipse(k))
        allowed = support
    if d.coarse > 1.0:
        h, w = m.shape
        small = cv2.resize(m, (max(1, round(w / d.coarse)), max(1, round(h / d.coarse))), interpolation=cv2.INTER_AREA)
        m = np.where(cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR) > 127, 255, 0).astype(np.uint8)
    if drop_small > 0:
        n, labels, stats, _ = cv2.connectedComponentsWithStats(m, connectivity=8)
        total = stats[1:, cv2.CC_STAT_AREA].sum()
        small_parts = [i for i in range(1, n) if stats[i, cv2.CC_STAT_AREA] < drop_small * total]
        if small_parts:
            m[np.isin(labels, small_parts)] = 0
    m[allowed == 0] = 0  # never farther from the matte than the drawn dilation
    return m
