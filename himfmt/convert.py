"""Convert a dataset to another layout through the common model, safely and resumably.

Nothing is written inside the source. Every file lands atomically, and
``<dst>/.himfmt/convert.jsonl`` records the job and, per finished sample,
each output file with its size and sha256: a rerun of the same job skips
finished samples (after checking their files), removes temporary files an
interrupted run left, and writes the rest. The record also lets anyone
verify the output later.
"""
from __future__ import annotations

import hashlib
import json
import signal
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

import numpy as np

from .convert_route import HOLDS, Route, route
from .detect import detect
from .errors import BadInputError, HimfmtError
from .io.files import check_output_dir, files_intact, remove_tmp_files, safe_join, write_error
from .io.memory import tune_malloc
from .io.pool import spawn_pool
from .io.archive import open_tree
from .io.tree import Tree
from .layouts import LAYOUTS, OutFile, OutStream, Planned, WriteOptions, get_layout
from .layouts.dvm_source import PHASES
from .model import Dataset, FileRef, Sample
from .shards import shard_slice
from .write import can_place, write_item_at

RECORD_DIR = ".himfmt"
ERROR_SAMPLES = 20  # mattes re-read to measure the error of lossy encodings


@dataclass
class Job:
    src: str
    dst: str
    to: str
    mode: str = "copy"
    frame_step: int = 1
    png_alpha: bool = False
    trimap: tuple[int, int] | None = None
    workers: int = 1
    shard_index: int = 0  # shard k of K converts the sorted samples i with i % K == k
    shard_count: int = 1

    def key(self) -> dict[str, Any]:
        """What makes two runs the same conversion (workers do not change the output)."""
        return {"src": self.src, "to": self.to, "mode": self.mode, "frame_step": self.frame_step,
                "png_alpha": self.png_alpha, "trimap": list(self.trimap) if self.trimap else None}


@dataclass
class Summary:
    route: Route
    dataset: Dataset
    samples: int = 0
    skipped: int = 0  # already done by an earlier run
    files: Counter = field(default_factory=Counter)  # how: copy/hardlink/symlink/encode
    bytes: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (sample, message)
    matte_error: tuple[float, int] | None = None  # mean and max abs difference
    fallback_to_copy: int = 0


def pick_dataset(src: str, layout: str | None) -> Dataset:
    tree = open_tree(src)
    found = detect(tree, layout=layout)
    if not found.matches:
        raise HimfmtError(found.explain_nothing())
    if len(found.matches) > 1:
        names = ", ".join(f"{m.layout} at {m.path or '.'}" for m in found.matches)
        raise HimfmtError(f"holds several datasets ({names}); point src= at one of them or set from=", src)
    return found.datasets()[0]


def split_paths(ds: Dataset, to: str) -> dict[str, str]:
    """Where each source split goes in the target."""
    out = {}
    for split in ds.splits:
        name = split
        if split == "all":  # dvm_composed has no split names: use the tree's name
            name = Path(ds.tree.abspath(ds.path)).name
        if to == "dvm_source":
            name = split if split in PHASES else "train"
        out[split] = name
    return out


def size_and_sha256(path: str) -> tuple[int, str]:
    """One read gives both (a stat per file cost 3% of a 200,000-file hard-link run)."""
    with open(path, "rb") as f:
        digest = hashlib.file_digest(f, "sha256")
        return f.tell(), digest.hexdigest()


class Record:
    """The job line plus one line per finished sample; appended, flushed, never rewritten.

    Each shard appends to its own file (``convert-shardKofN.jsonl``; one
    unsharded run: ``convert.jsonl``) and reads every shard's, so shards share
    an output and a rerun with any shard split resumes from all of them.
    """

    def __init__(self, dst: Path, job: Job) -> None:
        folder = dst / RECORD_DIR
        name = "convert.jsonl" if job.shard_count == 1 else f"convert-shard{job.shard_index}of{job.shard_count}.jsonl"
        self.path = folder / name
        self.done: dict[str, list[list[Any]]] = {}
        header = {"job": job.key()}
        for rec in sorted(folder.glob("convert*.jsonl")):
            lines = rec.read_text().splitlines()
            first = json.loads(lines[0]) if lines else None
            if first is not None and first != header:
                raise HimfmtError(f"holds a different conversion ({rec.name} says {first}); choose another dst= or overwrite=true", str(dst))
            for line in lines[1:]:
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    continue  # a line cut by a kill: that sample is redone
                self.done[entry["sample"]] = entry["files"]
        if not self.path.exists() or not self.path.read_text():
            folder.mkdir(parents=True, exist_ok=True)
            self.path.write_text(json.dumps(header) + "\n")
        self.file = open(self.path, "a")

    def complete(self, dst: Path, key: str) -> bool:
        files = self.done.get(key)
        return files is not None and files_intact(str(dst), files)

    def add(self, key: str, files: list[list[Any]]) -> None:
        self.file.write(json.dumps({"sample": key, "files": files}) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def _write_sample(args: tuple[Path, list[Planned], str]) -> tuple[list[list[Any]], Counter, str | None]:
    """Write one sample's files (worker entry point); returns their record entries."""
    dst, items, mode = args
    how: Counter = Counter()
    files: list[list[Any]] = []
    try:
        root = str(dst)
        for item in items:
            out = safe_join(root, item.path)
            used = write_item_at(out, item, mode)
            how[used] += 1
            files.append([item.path, *size_and_sha256(out)])
            if mode == "hardlink" and used == "copy" and isinstance(item, OutFile) and can_place(item):
                how["fallback"] += 1
    except BadInputError as exc:
        return files, how, str(exc)
    return files, how, None


def plan(job: Job, ds: Dataset) -> tuple[Route, Iterator[tuple[str, list[Planned]]]]:
    r = route(ds.layout, job.to, job.frame_step, has_masks=bool(ds.mask_dirs))
    lay = get_layout(job.to)
    opts = WriteOptions(alpha_dir=ds.alpha_dir if HOLDS[job.to].multi and ds.alpha_dir else (lay.default_alpha_dir or "alphas"),
                        png_alpha=job.png_alpha, trimap=job.trimap)
    paths = split_paths(ds, job.to)

    def items() -> Iterator[tuple[str, list[Planned]]]:
        for sample in shard_samples(ds, job):
            for out in r.apply(sample):
                yield f"{out.split}/{out.id}", lay.plan(out, paths[out.split], opts)
        extra = lay.plan_extra(ds, paths) if ds.layout == job.to and job.shard_index == 0 else []
        if extra:
            yield "<dataset>", extra

    return r, items()


def shard_samples(ds: Dataset, job: Job) -> list[Sample]:
    """This shard's samples: every ``shard_count``-th of the samples sorted by split and id."""
    return shard_slice(sorted(ds.samples, key=lambda s: (s.split, s.id)), job.shard_index, job.shard_count)


def _bytes_of(item: Planned) -> int:
    if isinstance(item, OutFile) and isinstance(item.media, FileRef) and item.media.frame is None:
        return item.media.tree.file_size(item.media.path)
    return 0


def measure_matte_error(summary: Summary, dst: Path, written: list[tuple[Any, str]]) -> None:
    """Mean and max absolute difference of re-read mattes where they were re-encoded."""
    diffs = []
    tree = Tree(dst)
    for media, path in written[:ERROR_SAMPLES]:
        try:
            truth = media.read_gray()
            ref = FileRef(tree, path, channel=0)
            got = ref.read_gray()
        except (BadInputError, OSError):
            continue  # its sample failed and was not written
        if got.shape == truth.shape:
            diffs.append(np.abs(got.astype(np.int16) - truth))
    if diffs:
        summary.matte_error = (float(np.mean([d.mean() for d in diffs])), int(max(d.max() for d in diffs)))


def convert(job: Job, from_layout: str | None = None, overwrite: bool = False, dry_run: bool = False,
            progress: Callable[[int], Callable[[int], None]] = lambda total: (lambda n: None)) -> Summary:
    """Run (or, with ``dry_run``, only plan) a conversion; see the module docstring."""
    if job.to not in LAYOUTS:
        get_layout(job.to)  # raises the clear 'unknown layout' error
    if job.mode not in ("copy", "hardlink", "symlink"):
        raise HimfmtError(f"mode must be copy, hardlink or symlink, not {job.mode!r}")
    ds = pick_dataset(job.src, from_layout)
    if ds.tree.is_archive and job.mode != "copy":
        raise HimfmtError(f"mode={job.mode} is impossible from an archive (there is no file on disk to link to); use mode=copy", job.src)
    dst = Path(job.dst).resolve()
    src_root = str(Path(job.src).resolve())
    resuming = any((dst / RECORD_DIR).glob("convert*.jsonl"))
    check_output_dir(dst, overwrite or resuming, [src_root])
    r, items = plan(job, ds)  # raises before anything is written when there is no route
    summary = Summary(r, ds)
    if dry_run:
        for _, planned in items:
            summary.samples += 1
            for item in planned:
                summary.files["stream" if isinstance(item, OutStream) else ("place" if isinstance(item, OutFile) and can_place(item) else "encode")] += 1
                summary.bytes += _bytes_of(item)
        return summary
    try:
        dst.mkdir(parents=True, exist_ok=True)
        remove_tmp_files(dst)
        record = Record(dst, job)
    except OSError as exc:
        raise write_error(exc, dst / RECORD_DIR) from None
    lossy_mattes: list[tuple[Any, str]] = []

    def pending() -> Iterator[tuple[str, list[Planned]]]:
        """Samples still to write, planned lazily so workers start while planning goes on."""
        for key, planned in items:
            summary.samples += 1
            if record.complete(dst, key):
                summary.skipped += 1
                continue
            if len(lossy_mattes) < ERROR_SAMPLES:
                lossy_mattes.extend((i.media, i.path) for i in planned
                                    if isinstance(i, OutFile) and i.gray and not can_place(i) and i.path.endswith(".jpg"))
            yield key, planned

    todo = pending()
    total = len(shard_samples(ds, job))
    advance = progress(total)
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        tune_malloc()
        results = _run(todo, dst, job, total)
        for key, (files, how, error) in results:
            summary.files.update(how)
            summary.bytes += sum(f[1] for f in files)
            if error:
                summary.failed.append((key, error))
            else:
                record.add(key, files)
            advance(1)
    finally:
        signal.signal(signal.SIGTERM, previous)
        record.close()
    summary.fallback_to_copy = summary.files.pop("fallback", 0)
    if lossy_mattes:
        measure_matte_error(summary, dst, lossy_mattes)
    return summary


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwinds through atomic writes, which remove their temporary files


def _keyed(args: tuple[str, Path, list[Planned], str]) -> tuple[str, tuple[list, Counter, str | None]]:
    key, dst, planned, mode = args
    return key, _write_sample((dst, planned, mode))


def _run(
    todo: Iterator[tuple[str, list[Planned]]], dst: Path, job: Job, n: int
) -> Iterator[tuple[str, tuple[list, Counter, str | None]]]:
    """Write samples as they are planned; results come back in order, with their keys."""
    jobs = ((key, dst, planned, job.mode) for key, planned in todo)
    if job.workers <= 1 or n < 2:
        return map(_keyed, jobs)
    pool = spawn_pool(job.workers)
    chunk = max(1, min(32, n // (job.workers * 8)))

    def results() -> Iterator[tuple[str, tuple[list, Counter, str | None]]]:
        with pool:
            yield from pool.map(_keyed, jobs, chunksize=chunk)

    return results()
