"""Dataset statistics per dataset and split: counts and sizes from listings and headers,
matte figures from a stated number of decoded frames.

Counts (samples, frames, instances per sample, clip lengths) come from the
listing; resolutions from image headers (one per sample: a clip's frames
share a size). Figures that need pixels (matte coverage, soft-edge width,
occlusion between instances) decode ``n`` frames drawn with ``seed`` and say
so.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import cv2
import numpy as np

from himfmt.errors import BadInputError
from himfmt.model import Dataset, Frame, Sample


def _size(sample: Sample) -> tuple[int, int] | None:
    f = sample.frames[0] if sample.frames else None
    media = f.image if f is not None and f.image is not None else (f.instances[0].matte if f and f.instances else None)
    if media is None:
        return None
    try:
        return media.size()
    except BadInputError:
        return None


def matte_figures(mattes: list[np.ndarray]) -> dict[str, float]:
    """Coverage, soft-edge width and occlusion of one frame's instance mattes."""
    out: dict[str, float] = {}
    total = sum(m.size for m in mattes)
    out["opaque"] = sum(int((m == 255).sum()) for m in mattes) / total
    out["soft"] = sum(int(((m > 0) & (m < 255)).sum()) for m in mattes) / total
    out["empty"] = 1.0 - out["opaque"] - out["soft"]
    widths = []
    for m in mattes:
        contours, _ = cv2.findContours((m > 127).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        length = sum(cv2.arcLength(c, True) for c in contours)
        if length > 0:
            widths.append(float(((m > 0) & (m < 255)).sum()) / length)  # soft pixels per pixel of contour
    if widths:
        out["edge_width"] = float(np.mean(widths))
    if len(mattes) > 1:
        support = np.stack([m > 0 for m in mattes])
        count = support.sum(axis=0)
        shares = [float((s & (count > 1)).sum()) / max(1, int(s.sum())) for s in support]
        out["occlusion"] = float(np.mean(shares))  # share of an instance's pixels another instance also covers
    return out


def listing_figures(samples: list[Sample]) -> dict[str, Any]:
    """Counts from the listing, resolutions from one header per sample."""
    inst = Counter(s.n_instances for s in samples)
    sizes = Counter(sz for sz in (_size(s) for s in samples) if sz is not None)
    out: dict[str, Any] = {
        "samples": len(samples),
        "frames": sum(len(s.frames) for s in samples),
        "instances": sum(s.n_instances for s in samples),
        "instances_per_sample": {str(k): v for k, v in sorted(inst.items())},
        "resolutions": [{"width": w, "height": h, "samples": c} for (w, h), c in sizes.most_common(5)],
    }
    lengths = sorted(len(s.frames) for s in samples if s.is_clip)
    if lengths:
        out["clip_frames"] = {"min": lengths[0], "median": lengths[len(lengths) // 2], "max": lengths[-1]}
    return out


def _decoded_mattes(frame: Frame) -> list[np.ndarray] | None:
    """A frame's instance mattes when they all decode to one shape (None otherwise)."""
    try:
        mattes = [inst.matte.read_gray() for inst in frame.instances if inst.matte is not None]
    except BadInputError:
        return None
    return mattes if mattes and len({m.shape for m in mattes}) == 1 else None


def pixel_figures(samples: list[Sample], n: int, seed: int) -> dict[str, Any]:
    """Matte figures averaged over ``n`` frames drawn with ``seed``, saying how many were decoded."""
    frames = [f for s in samples for f in s.frames if f.instances]
    picks: Any = np.random.default_rng(seed).choice(len(frames), size=min(n, len(frames)), replace=False) if frames else []
    figures: dict[str, list[float]] = {}
    decoded = 0
    for i in sorted(int(k) for k in picks):
        mattes = _decoded_mattes(frames[i])
        if mattes is None:
            continue
        decoded += 1
        for key, value in matte_figures(mattes).items():
            figures.setdefault(key, []).append(value)
    return {
        "frames_decoded": decoded,
        "of_frames": len(frames),
        "seed": seed,
        **{k: round(float(np.mean(v)), 4) for k, v in figures.items()},
    }


def split_stats(ds: Dataset, split: str, n: int, seed: int) -> dict[str, Any]:
    samples = [s for s in ds.samples if s.split == split]
    return {"split": split, **listing_figures(samples), "pixels": pixel_figures(samples, n, seed)}


def stats(datasets: list[Dataset], n: int = 64, seed: int = 0) -> list[dict[str, Any]]:
    """Per dataset, per split: counts from the listing and headers, matte figures from ``n`` decoded frames."""
    return [{"path": ds.path, "layout": ds.layout, "splits": [split_stats(ds, sp, n, seed) for sp in ds.splits]} for ds in datasets]
