"""Add derived data to a dataset tree: a guidance mask set, or trimaps.

Each mask or trimap is named like its matte (MaGGIe's rule: the alpha dir
component of the path replaced by the set's name), so a new set is only new
files beside the existing ones: nothing existing is rewritten unless asked.
Used by ``himfmt masks`` and by ``himfmt fill``.
"""
from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from typing import Callable, Iterator, NamedTuple

import cv2

from omegaconf import DictConfig, OmegaConf

from .convert_route import HOLDS
from .errors import BadInputError, HimfmtError
from .io import images
from .io.files import OutDir
from .io.pool import spawn_pool
from .layouts.base import ALPHA_DIR_NAMES, TRIMAP_DIR, mask_path
from .masks import Degradation, MaskParams, degrade, mask_rng, series, trimap
from .model import Dataset, FileRef
from .io.share import shard_slice

SOURCE_NAME = re.compile(r"^[A-Za-z0-9][\w.-]*$")


class Item(NamedTuple):
    dst: str  # relative to the tree root
    matte: FileRef
    degradation: Degradation | None  # None: a trimap
    gray3_jpeg: bool = False  # DVM's t/ stream: 3-channel grey JPEG


@dataclass
class Result:
    written: int = 0
    kept: int = 0  # already there (not overwritten)
    no_place: int = 0  # mattes the layout has no place for a derived picture beside
    failed: list[tuple[str, str]] = field(default_factory=list)


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
        if not HOLDS[ds.layout].masks:
            raise HimfmtError(f"{ds.layout} has no place for guidance masks (only the MaGGIe layouts do)")
        if not SOURCE_NAME.match(spec.source) or spec.source in (ds.alpha_dir, TRIMAP_DIR, "images", "fgr", "fg", "bg"):
            raise HimfmtError(f"source={spec.source!r} cannot name a mask dir: use letters, digits, '_', '-', '.', "
                              "and not the alpha dir or a layout folder")
    elif spec.kind != "trimap":
        raise HimfmtError(f"kind must be mask or trimap, not {spec.kind!r}")


def _alpha_segment(ds: Dataset, path: str) -> str | None:
    parts = path.split("/")[:-1]
    for name in (ds.alpha_dir, *ALPHA_DIR_NAMES):
        if name and name in parts:
            return name
    return None


def _trimap_dst(ds: Dataset, matte: FileRef) -> tuple[str, bool] | None:
    if matte.frame is not None:
        return None  # a frame of an alpha video (dvm_source clips): no place for a picture
    if ds.layout == "dvm_composed":  # a/<seq>/<f>.jpg or a_png/<seq>/<f>.png -> t/<seq>/<f>.jpg
        rel = matte.path[len(ds.path) + 1:] if ds.path else matte.path
        _, seq, name = rel.split("/")[-3:]
        return "/".join(p for p in (ds.path, "t", seq, name.rsplit(".", 1)[0] + ".jpg") if p), True
    seg = _alpha_segment(ds, matte.path)
    if seg is None:
        return None
    return mask_path(matte.path, seg, TRIMAP_DIR).rsplit(".", 1)[0] + ".png", False


def plan(ds: Dataset, spec: Spec, splits: list[str] | None = None) -> tuple[list[list[Item]], int]:
    """Items to make, one list per sample, and how many mattes have no place for one."""
    check_spec(ds, spec)
    jobs, no_place = [], 0
    for sample in ds.samples:
        if splits and sample.split not in splits:
            continue
        items: list[Item] = []
        n_inst = sample.n_instances
        for k in range(n_inst):
            degs = series(mask_rng(spec.seed, spec.source, f"{sample.split}/{sample.id}", k), spec.params, len(sample.frames)) \
                if spec.kind == "mask" else [None] * len(sample.frames)
            for frame, d in zip(sample.frames, degs):
                if k >= len(frame.instances) or not isinstance(frame.instances[k].matte, FileRef):
                    continue
                matte = frame.instances[k].matte
                if spec.kind == "mask":
                    items.append(Item(mask_path(matte.path, ds.alpha_dir or "", spec.source), matte, d))
                    continue
                where = _trimap_dst(ds, matte)
                if where is None:
                    no_place += 1
                else:
                    items.append(Item(where[0], matte, None, where[1]))
        if items:
            jobs.append(items)
    return jobs, no_place


def _make(args: tuple[list[Item], Spec, bool]) -> Result:
    items, spec, overwrite = args
    res = Result()
    for item in items:
        dst = item.matte.tree.abspath(item.dst)
        if not overwrite and os.path.exists(dst):
            res.kept += 1
            continue
        try:
            matte = item.matte.read_gray()
            if item.degradation is not None:
                data = images.encode_png(degrade(matte, item.degradation, spec.drop_small))
            else:
                t = trimap(matte, *spec.trimap)
                data = images.encode_jpeg(cv2.cvtColor(t, cv2.COLOR_GRAY2RGB)) if item.gray3_jpeg else images.encode_png(t)
            OutDir.at(item.matte.tree.root).write_bytes(item.dst, data)
            res.written += 1
        except BadInputError as exc:
            res.failed.append((item.matte.where, str(exc)))
    return res


def write(ds: Dataset, spec: Spec, splits: list[str] | None = None, overwrite: bool = False, workers: int = 1,
          progress: Callable[[int], Callable[[int], None]] = lambda n: (lambda k: None), shard: tuple[int, int] = (0, 1)) -> Result:
    """Make the planned masks or trimaps (of this shard's samples), across ``workers`` spawned processes."""
    jobs, no_place = plan(ds, spec, splits)
    jobs = shard_slice(jobs, *shard)
    total = Result(no_place=no_place)
    advance = progress(len(jobs))

    def results() -> Iterator[Result]:
        args = ((items, spec, overwrite) for items in jobs)
        if workers <= 1 or len(jobs) < 2:
            yield from map(_make, args)
            return
        with spawn_pool(workers) as pool:
            yield from pool.map(_make, args, chunksize=max(1, min(16, len(jobs) // (workers * 8))))

    for r in results():
        total.written += r.written
        total.kept += r.kept
        total.failed += r.failed
        advance(1)
    return total


def missing(ds: Dataset, spec: Spec, splits: list[str] | None = None) -> int:
    """How many of the set's files are not there yet."""
    jobs, _ = plan(ds, spec, splits)
    return sum(not os.path.exists(item.matte.tree.abspath(item.dst)) for items in jobs for item in items)


def spec_from(cfg: DictConfig, source: str | None, mask: DictConfig, kind: str = "mask") -> Spec:
    """A derived-data spec from a ``mask`` preset section and the run's seed and trimap (``himfmt masks`` and ``fill``)."""
    params = OmegaConf.to_object(mask)
    assert isinstance(params, MaskParams)
    return Spec(kind, source or "", params, int(cfg.seed), params.drop_small, tuple(cfg.get("trimap") or (3, 5)))
