"""Identical pictures in two splits: test data that is also training data.

A test split synthesized with the training split's recipe, seed and sources
repeats its samples byte for byte, and a model evaluated on it is evaluated
on what it learned. Splits are told apart by name: the same split in two
layouts (a conversion kept beside its source) is one split. Every sample is represented by its first picture (an
image, or a clip's first frame). Files are grouped by size first (one stat
each, nothing read), and only files whose size also occurs in another split
are hashed, so a 50,000-image root costs about one stat per sample, and a root
with one split of a kind nothing.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Iterator

from himfmt.errors import HimfmtError
from himfmt.model import Dataset, FileRef
from himfmt.validation.catalog import Finding, finding

CHUNK = 1 << 20


def _first_pictures(ds: Dataset) -> Iterator[tuple[str, str, FileRef]]:
    """(split, sample id, first picture) of every sample whose picture is a file."""
    for sample in ds.samples:
        image = sample.frames[0].image if sample.frames else None
        if isinstance(image, FileRef) and image.frame is None:
            yield sample.split, sample.id, image


def _digest(ref: FileRef) -> str | None:
    h = hashlib.blake2b(digest_size=16)
    try:
        with ref.tree.open(ref.path) as f:
            while chunk := f.read(CHUNK):
                h.update(chunk)
    except (OSError, ValueError, HimfmtError):
        return None  # unreadable: reported by the file checks
    return h.hexdigest()


def shared_pictures(datasets: list[Dataset]) -> list[tuple[Dataset, Finding]]:
    """One finding per sample whose first picture is byte-identical to one in another split (of the same kind)."""
    splits: dict[str, set[str]] = defaultdict(set)
    for ds in datasets:
        splits[ds.kind].update(s.split for s in ds.samples)
    by_size: dict[tuple[str, int], list[tuple[Dataset, str, str, FileRef]]] = defaultdict(list)
    for ds in datasets:
        if len(splits[ds.kind]) < 2:
            continue  # one split of this kind: nothing to compare it with, and no file to stat
        for split, sid, ref in _first_pictures(ds):
            try:
                size = ref.tree.file_size(ref.path)
            except (OSError, ValueError, HimfmtError):
                continue
            by_size[(ds.kind, size)].append((ds, split, sid, ref))
    out = []
    for group in by_size.values():
        if len({split for _, split, _, _ in group}) < 2:
            continue  # every file of this size is in one split: nothing to compare across splits
        first_seen: dict[str, tuple[Dataset, str, str]] = {}
        for ds, split, sid, ref in group:
            digest = _digest(ref)
            if digest is None:
                continue
            other = first_seen.setdefault(digest, (ds, split, ref.path))
            if other[1] != split:
                out.append(
                    (
                        ds,
                        finding(
                            "split.shared_image",
                            ref.path,
                            sid,
                            f"identical to {other[2]} of split {other[1]}: the same picture in two splits",
                        ),
                    )
                )
    return out
