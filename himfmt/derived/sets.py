"""Add derived data to a dataset tree: a guidance mask set, or trimaps.

Each mask or trimap is named like its matte (MaGGIe's rule: the alpha dir
component of the path replaced by the set's name), so a new set is only new
files beside the existing ones: nothing existing is rewritten unless asked.
Used by ``himfmt masks`` and by ``himfmt fill``.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, NamedTuple

import cv2

from himfmt.derived.masks import Degradation, MaskParams, degrade, mask_rng, series
from himfmt.errors import BadInputError, HimfmtError
from himfmt.feedback import Progress, no_progress
from himfmt.io import images
from himfmt.io.files import RECORD_DIR, OutDir
from himfmt.io.pool import parallel_map
from himfmt.io.share import shard_slice
from himfmt.layouts import Layout, get_layout
from himfmt.layouts.base import trimap
from himfmt.model import Dataset, FileRef

SOURCE_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*$")
# Folder names a mask set must not take: the ones layouts keep pictures in.
RESERVED = ("trimap", "images", "fgr", "fg", "bg")


class Item(NamedTuple):
    dst: str  # relative to the tree root
    matte: FileRef
    degradation: Degradation | None  # None: a trimap
    gray3_jpeg: bool = False  # DVM's t/ stream: 3-channel grey JPEG
    split: str = ""


@dataclass
class Result:
    written: int = 0
    kept: int = 0  # already there (not overwritten)
    no_place: int = 0  # mattes the layout has no place for a derived picture beside
    failed: list[tuple[str, str]] = field(default_factory=list)
    files: list[list[Any]] = field(default_factory=list)  # [path, size, sha256] of each file written


@dataclass
class Spec:
    """What to derive: ``kind`` 'mask' (a set named ``source``) or 'trimap'."""

    kind: str = "mask"
    source: str = ""
    params: MaskParams = field(default_factory=MaskParams)
    seed: int = 0
    drop_small: float = 0.0
    trimap: tuple[int, int] = (3, 5)  # DVM's test-time kernel and iterations


def check_spec(ds: Dataset, spec: Spec) -> None:
    if ds.tree.is_archive:
        raise HimfmtError("cannot add files inside an archive: unpack it first (himfmt unpack)", str(ds.tree.root))
    if spec.kind == "mask":
        if not get_layout(ds.layout).holds.masks:
            raise HimfmtError(f"{ds.layout} has no place for guidance masks (only the MaGGIe layouts do)")
        if not SOURCE_NAME.match(spec.source) or spec.source in (ds.alpha_dir, *RESERVED):
            raise HimfmtError(
                f"source={spec.source!r} cannot name a mask dir: use letters, digits, '_', '-', '.', "
                "and not the alpha dir or a layout folder"
            )
    elif spec.kind != "trimap":
        raise HimfmtError(f"kind must be mask or trimap, not {spec.kind!r}")


def plan(ds: Dataset, spec: Spec, splits: list[str] | None = None) -> tuple[list[list[Item]], int]:
    """Items to make, one list per sample, and how many mattes have no place for one (the layout says where)."""
    check_spec(ds, spec)
    lay = get_layout(ds.layout)
    jobs, no_place = [], 0
    for sample in ds.samples:
        if splits and sample.split not in splits:
            continue
        items: list[Item] = []
        for k in range(sample.n_instances):
            degs = (
                series(mask_rng(spec.seed, spec.source, f"{sample.split}/{sample.id}", k), spec.params, len(sample.frames))
                if spec.kind == "mask"
                else [None] * len(sample.frames)
            )
            for matte, d in zip((f.instances[k].matte if k < len(f.instances) else None for f in sample.frames), degs):
                if not isinstance(matte, FileRef):
                    continue
                item = _item(ds, lay, spec, matte, d, sample.split)
                no_place += item is None
                items += [item] if item is not None else []
        if items:
            jobs.append(items)
    return jobs, no_place


def _item(ds: Dataset, lay: Layout, spec: Spec, matte: FileRef, degradation: Degradation | None, split: str) -> Item | None:
    """The mask or trimap of one matte where its layout keeps it; None where it has no place.

    A frame of an alpha video (DVM's source clips) has no place for a picture.
    """
    if spec.kind == "mask":
        where = lay.mask_place(ds, matte, spec.source) if matte.frame is None else None
        return Item(where, matte, degradation, split=split) if where else None
    tri = lay.trimap_place(ds, matte) if matte.frame is None else None
    return Item(tri[0], matte, None, tri[1], split) if tri else None


def _make(args: tuple[list[Item], Spec, bool, frozenset[str]]) -> Result:
    items, spec, overwrite, redo = args
    res = Result()
    for item in items:
        dst = item.matte.tree.abspath(item.dst)
        if not overwrite and item.dst not in redo and os.path.exists(dst):
            res.kept += 1
            continue
        try:
            matte = item.matte.read_gray()
            if item.degradation is not None:
                data = images.encode_png(degrade(matte, item.degradation, spec.drop_small))
            else:
                t = trimap(matte, *spec.trimap)
                data = images.encode_jpeg(cv2.cvtColor(t, cv2.COLOR_GRAY2RGB)) if item.gray3_jpeg else images.encode_png(t)
            out = OutDir.at(item.matte.tree.root)
            out.write_bytes(item.dst, data)
            res.written += 1
            res.files.append([item.split, out.entry(item.dst)])
        except BadInputError as exc:
            res.failed.append((item.matte.where, str(exc)))
    return res


def write(
    ds: Dataset,
    spec: Spec,
    splits: list[str] | None = None,
    overwrite: bool = False,
    workers: int = 1,
    progress: Progress = no_progress,
    shard: tuple[int, int] = (0, 1),
    redo: frozenset[str] = frozenset(),
) -> Result:
    """Make the planned masks or trimaps (of this shard's samples), across ``workers`` spawned processes.

    Every file written is recorded in ``.himfmt/derived-<set>-shardKofN.jsonl`` of the tree (path, size,
    sha256, split), so ``fill`` knows them for its own and finds one that changed since. ``redo``: files
    (relative to the tree root) to make again although they are there.
    """
    jobs, no_place = plan(ds, spec, splits)
    jobs = shard_slice(jobs, *shard)
    total = Result(no_place=no_place)
    advance = progress(len(jobs), spec.source or spec.kind)
    out = OutDir.at(ds.tree.root)
    name = f"{RECORD_DIR}/derived-{spec.source or spec.kind}-shard{shard[0]}of{shard[1]}.jsonl"
    with out.open_append(name, json.dumps({"job": {"derived": spec.source or spec.kind}}) + "\n") as rec:
        for r in parallel_map(_make, ((items, spec, overwrite, redo) for items in jobs), len(jobs), workers):
            total.written += r.written
            total.kept += r.kept
            total.failed += r.failed
            for split, entry in r.files:
                rec.write(json.dumps({"split": split, "files": [entry]}) + "\n")
                total.files.append(entry)
            rec.flush()
            advance(1)
    return total


def missing(ds: Dataset, spec: Spec, splits: list[str] | None = None) -> int:
    """How many of the set's files are not there yet."""
    jobs, _ = plan(ds, spec, splits)
    return sum(not os.path.exists(item.matte.tree.abspath(item.dst)) for items in jobs for item in items)


def spec_from(seed: int, trimap: tuple[int, int] | None, source: str | None, params: MaskParams, kind: str = "mask") -> Spec:
    """A derived-data spec from a mask preset and the run's seed and trimap (``himfmt masks`` and ``fill``)."""
    return Spec(kind, source or "", params, seed, params.drop_small, trimap or (3, 5))
