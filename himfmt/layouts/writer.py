"""Write samples of the common model as a layout's tree.

Layouts only say where each picture goes (:meth:`Layout.plan`); this module
decides how: bytes that need not change are copied or linked, everything else
is encoded once, video streams are encoded frame by frame, and every file
lands atomically.
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

import cv2
import numpy as np

from himfmt.io import images
from himfmt.io.files import OutDir
from himfmt.io.video import StreamInfo, VideoWriter
from himfmt.layouts import OutFile, OutStream, OutText, Planned, WriteOptions, get_layout
from himfmt.model import Dataset, FileRef, Sample


def _suffix(path: str) -> str:
    return path[path.rfind(".") :].lower()


def can_place(f: OutFile) -> bool:
    """True when the source file's bytes are already what the target needs."""
    m = f.media
    if not isinstance(m, FileRef) or m.frame is not None or m.channel is not None or f.gray3:
        return False
    target = _suffix(f.path)
    return m.suffix == target or (m.suffix in (".jpg", ".jpeg") and target in (".jpg", ".jpeg"))


def can_place_stream(s: OutStream) -> bool:
    """True when the frames are exactly one whole source video, in order."""
    refs = s.frames
    if not refs or not all(isinstance(m, FileRef) for m in refs):
        return False
    first = refs[0]
    assert isinstance(first, FileRef)
    if first.suffix != _suffix(s.path) or any(
        not isinstance(m, FileRef) or m.path != first.path or m.frame != i or m.channel not in (None, 0) for i, m in enumerate(refs)
    ):
        return False
    return StreamInfo(first.tree.abspath(first.path)).frames == len(refs)


def encode_media(f: OutFile, quality: int = 95) -> bytes:
    arr: np.ndarray = f.media.read_gray() if f.gray else f.media.read_rgb()
    if f.gray3:
        arr = cv2.cvtColor(arr, cv2.COLOR_GRAY2RGB)
    return images.encode(arr, _suffix(f.path), quality)


def write_stream(out: OutDir, s: OutStream, mode: str) -> str:
    if can_place_stream(s):
        first = s.frames[0]
        assert isinstance(first, FileRef)
        return first.tree.copy_to(first.path, out, s.path, mode)
    writer: VideoWriter | None = None
    try:
        for m in s.frames:
            arr = m.read_gray() if s.gray else m.read_rgb()
            if writer is None:
                writer = VideoWriter(out, s.path, arr.shape[1], arr.shape[0], s.fps, alpha=s.gray)
            writer.write(arr)
    except BaseException:
        if writer is not None:
            writer.abort()
        raise
    if writer is not None:
        writer.close()
    return "encode"


def bounded(m: FileRef) -> None:
    """Refuse to copy a picture larger than its header can need (a sparse 8 GB "matte"): the rule
    validation applies before it reads one, applied before a copy too."""
    limit = images.max_file_bytes(m.info())
    size = m.tree.file_size(m.path)
    if size > limit:
        raise images.TooLargeError(f"is {size:,} bytes, more than the {limit:,} its header's picture can need; not copied", m.where)


def write_item(out: OutDir, item: Planned, mode: str = "copy", quality: int = 95) -> str:
    """Write one planned file or stream below ``out``; returns how ('copy', 'hardlink', 'symlink', 'encode')."""
    if isinstance(item, OutStream):
        return write_stream(out, item, mode)
    if isinstance(item, OutText):
        out.write_bytes(item.path, item.text.encode())
        return "encode"
    if can_place(item):
        m = item.media
        assert isinstance(m, FileRef)
        bounded(m)
        return m.tree.copy_to(m.path, out, item.path, mode)
    encoded = getattr(item.media, "encoded", None)  # a picture whose new file bytes are given (a repaired file)
    data = encoded() if callable(encoded) else None
    out.write_bytes(item.path, data if isinstance(data, bytes) else encode_media(item, quality))
    return "encode"


def write_samples(
    layout: str,
    samples: Iterable[Sample],
    out: str | Path,
    opts: WriteOptions | None = None,
    split_paths: dict[str, str] | None = None,
    mode: str = "copy",
) -> int:
    """Write ``samples`` into ``out`` as ``layout``; returns the number of files written."""
    lay = get_layout(layout)
    opts = opts or WriteOptions(alpha_dir=lay.default_alpha_dir or "alphas")
    root = OutDir.at(out)
    n = 0
    for sample in samples:
        split_path = (split_paths or {}).get(sample.split, sample.split)
        for item in lay.plan(sample, split_path, opts):
            write_item(root, item, mode)
            n += 1
    return n


def write_dataset(
    dataset: Dataset,
    layout: str,
    out: str | Path,
    opts: WriteOptions | None = None,
    split_paths: dict[str, str] | None = None,
    mode: str = "copy",
) -> int:
    """Write a whole dataset: its samples, then what belongs to the dataset itself."""
    n = write_samples(layout, dataset.samples, out, opts, split_paths, mode)
    for item in get_layout(layout).finish(dataset, split_paths or {}):
        write_item(OutDir.at(out), item, mode)
        n += 1
    return n
