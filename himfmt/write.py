"""Write samples of the common model as a layout's tree.

Layouts only say where each picture goes (:meth:`Layout.plan`); this module
decides how: bytes that need not change are copied or linked, everything else
is encoded once, and every file lands atomically.
"""
from __future__ import annotations

from pathlib import Path
from typing import Iterable

import numpy as np

from .io import images
from .io.files import atomic_write, place, safe_join
from .layouts import OutFile, get_layout
from .model import ArrayRef, FileRef, Sample


def can_place(f: OutFile) -> bool:
    """True when the source file's bytes are already what the target needs."""
    m = f.media
    if not isinstance(m, FileRef) or m.frame is not None or m.channel is not None:
        return False
    target = f.path[f.path.rfind("."):].lower()
    return m.suffix == target or (m.suffix in (".jpg", ".jpeg") and target in (".jpg", ".jpeg"))


def encode_media(f: OutFile, quality: int = 95) -> bytes:
    arr: np.ndarray = f.media.read_gray() if f.gray else f.media.read_rgb()
    return images.encode(arr, f.path[f.path.rfind("."):].lower(), quality)


def write_file(out: Path, f: OutFile, mode: str = "copy", quality: int = 95) -> str:
    """Write one planned file; returns how ('copy', 'hardlink', 'symlink', 'encode')."""
    dst = safe_join(out, f.path)
    if can_place(f):
        m = f.media
        assert isinstance(m, FileRef)
        return place(m.tree.abspath(m.path), dst, mode)
    atomic_write(dst, encode_media(f, quality))
    return "encode"


def write_samples(
    layout: str,
    samples: Iterable[Sample],
    out: str | Path,
    alpha_dir: str | None = None,
    split_paths: dict[str, str] | None = None,
    mode: str = "copy",
) -> int:
    """Write ``samples`` into ``out`` as ``layout``; returns the number of files written."""
    lay = get_layout(layout)
    alpha = alpha_dir or lay.default_alpha_dir or "alphas"
    root = Path(out)
    n = 0
    for sample in samples:
        split_path = (split_paths or {}).get(sample.split, sample.split)
        for f in lay.plan(sample, split_path, alpha):
            write_file(root, f, mode)
            n += 1
    return n


__all__ = ["ArrayRef", "write_file", "write_samples"]
