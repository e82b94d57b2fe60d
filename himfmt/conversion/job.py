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
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Iterator

import numpy as np

from himfmt.conversion.route import Route, route
from himfmt.errors import BadInputError, HimfmtError
from himfmt.feedback import Progress, no_progress
from himfmt.io.archive import open_tree
from himfmt.io.files import MODES, RECORD_DIR, JobLock, OutDir, check_output_dir, remove_tmp_files, write_error
from himfmt.io.pool import parallel_map
from himfmt.io.records import files_intact, read_jsonl, remove_recorded
from himfmt.io.share import shard_slice
from himfmt.io.tree import Tree
from himfmt.layouts import Layout, OutFile, OutStream, OutText, Planned, WriteOptions, get_layout
from himfmt.layouts.detect import detect
from himfmt.layouts.instance_folders import InstanceFolders, renumbered
from himfmt.layouts.writer import can_place, can_place_stream, write_item
from himfmt.model import Dataset, FileRef, Sample, sample_pictures
from himfmt.text import plural

ERROR_SAMPLES = 20  # mattes re-read to measure the error of lossy encodings
DATASET = "<dataset>"  # the plan's key for files of the dataset itself (a pair list), not of a sample


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
    root_id: tuple[int, int] | None = None  # (device, inode) of dst where the job began
    # The record's name: <record>.jsonl (a shard: <record>-shardKofN.jsonl). A repair names one per layout
    # (fix-<layout>), so two datasets sharing a folder keep their copies in one output, each with its record.
    record: str = "convert"

    def records(self, folder: Path) -> list[Path]:
        """This job's records in ``folder`` (its shards' included)."""
        return (
            sorted(p for p in folder.glob(f"{self.record}*.jsonl") if p.stem == self.record or p.stem.startswith(self.record + "-shard"))
            if folder.is_dir()
            else []
        )

    def key(self, plan_digest: str) -> dict[str, Any]:
        """What makes two runs the same conversion: the options that change the output, and the plan.

        The plan's digest covers every output path and the source file it
        comes from, relative to the source root: the same dataset moved
        elsewhere is the same job, another dataset at the same path is not.
        Workers and shards do not change the output.
        """
        return {
            "to": self.to,
            "mode": self.mode,
            "frame_step": self.frame_step,
            "png_alpha": self.png_alpha,
            "trimap": list(self.trimap) if self.trimap else None,
            "plan": plan_digest,
        }


# How each file is (to be) written, as the summary says it.
PLANNED = {"place": "files to copy or link", "encode": "files to encode", "stream": "videos to encode or copy"}
DONE = {"copy": "files copied", "hardlink": "files hard-linked", "symlink": "files symlinked", "encode": "files encoded"}


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
    renamed: int = 0  # samples named <split>_<id> because their splits share one namespace in the target
    replaced: int = 0  # files of a different earlier conversion removed (overwrite=true)
    dry_run: bool = False
    changes: list[str] = field(default_factory=list)  # every step that changed or dropped data, with its count
    plan: Plan | None = None  # the whole write plan (where each output comes from)

    def warnings(self) -> list[str]:
        out = [f"replaced an earlier, different conversion: removed {self.replaced} of its files"] if self.replaced else []
        if self.fallback_to_copy:
            out.append(f"{self.fallback_to_copy} files were copied: hard links cannot cross file systems")
        return out


def planned_paths(job: Job, from_layout: str | None = None) -> tuple[set[str], int]:
    """Every file the conversion writes (all shards), relative to ``dst``: what a complete output holds; and
    how many samples its records say were written from source files that changed since (to convert again)."""
    p = plan(job, pick_dataset(job.src, from_layout))
    made: dict[str, Any] = {}
    folder = Path(job.dst) / RECORD_DIR
    for rec in job.records(folder):
        made.update((e["sample"], e.get("src")) for e in read_record(rec)[1])
    changed = sum(key in made and made[key] != source_stamps(planned) for key, planned in p.samples)
    return p.paths(), changed


def pick_dataset(src: str, layout: str | None) -> Dataset:
    tree = open_tree(src)
    found = detect(tree, layout=layout)
    if not found.matches:
        raise HimfmtError(found.explain_nothing())
    if len(found.matches) > 1:
        names = ", ".join(f"{m.layout} at {m.path or '.'}" for m in found.matches)
        raise HimfmtError(f"holds several datasets ({names}); point src= at one of them or set from=", src)
    return found.datasets()[0]


def split_paths(ds: Dataset, lay: Layout) -> dict[str, str]:
    """Where each source split goes in the target; a source without split names is named after its folder."""
    named = get_layout(ds.layout).named_splits
    return {split: lay.split_folder(split if named else Path(ds.tree.abspath(ds.path)).name) for split in ds.splits}


def shared_namespace(ds: Dataset, to: str, paths: dict[str, str]) -> set[str]:
    """Source splits whose samples land in one namespace of the target together with another split's.

    Their samples are written as ``<split>_<id>``, so that ids repeated
    across splits (V-HIM60's comp_easy|medium|hard all hold 00000) never
    meet on one path.
    """
    named = get_layout(to).named_splits
    groups: dict[str, list[str]] = {}
    for split in ds.splits:
        groups.setdefault(paths[split] if named else "", []).append(split)
    return {s for members in groups.values() if len(members) > 1 for s in members}


def describe(media: Any) -> str:
    """Where a planned picture comes from, relative to its tree (for the plan digest)."""
    if isinstance(media, FileRef):
        return f"{media.path}|{media.frame}|{media.channel}"
    inputs = getattr(media, "inputs", None)
    if inputs is not None:
        return f"{getattr(media.fn, '__name__', 'fn')}(" + ",".join(describe(m) for m in inputs) + ")"
    return type(media).__name__


def item_source(item: Planned) -> str:
    if isinstance(item, OutStream):
        return ";".join(describe(m) for m in item.frames)
    if isinstance(item, OutText):
        return hashlib.sha256(item.text.encode("utf-8", "surrogateescape")).hexdigest()
    return describe(item.media) + ("|g3" if item.gray3 else "|g" if item.gray else "")


@dataclass
class Plan:
    """Every output of the whole job (all shards), checked for collisions before anything is written."""

    route: Route
    samples: list[tuple[str, list[Planned]]]  # key ('<split>/<id>') -> its files, in sorted sample order
    shard: list[int]  # which of ``samples`` this shard writes
    digest: str
    renamed: int = 0
    changes: list[str] = field(default_factory=list)  # every step that changes or drops data, with its count

    def paths(self) -> set[str]:
        return {item.path for _, items in self.samples for item in items}

    def mine(self) -> list[tuple[str, list[Planned]]]:
        return [self.samples[i] for i in self.shard]


def unreadable_samples(ds: Dataset) -> dict[str, str]:
    """``split/id`` of each sample an unreadable folder or file of the dataset may hold part of, with that path:
    one whose path names the sample, or, where the path names none (a folder of every sample), all of them.
    A conversion skips them whole rather than write them without what it could not read."""
    inside = [u for u in ds.tree.unreadable if not ds.path or u.startswith(ds.path + "/")]
    out: dict[str, str] = {}
    for rel in inside:
        parts = set(rel.split("/"))
        named = [s for s in ds.samples if s.id in parts]
        for s in named or ds.samples:
            out.setdefault(f"{s.split}/{s.id}", rel)
    return out


def _source_key(key: str) -> str:
    """The source sample's ``split/id`` of a planned key (a clip's frame samples are ``<id>_<frame>``)."""
    split, _, oid = key.partition("/")
    return f"{split}/{oid.rsplit('_', 1)[0]}" if "_" in oid else key


def has_layers(ds: Dataset) -> bool:
    """Whether the samples keep fg/bg layers beside their composites."""
    return any(
        f.bg is not None or f.fg is not None or any(i.fg is not None for i in f.instances) for sample in ds.samples for f in sample.frames
    )


def write_options(job: Job, ds: Dataset, lay: Layout) -> WriteOptions:
    """The source's alpha dir name where the target keeps instance folders too, else the target's own."""
    alpha = ds.alpha_dir if lay.holds.multi and ds.alpha_dir else (lay.default_alpha_dir or "alphas")
    return WriteOptions(alpha_dir=alpha, png_alpha=job.png_alpha, trimap=job.trimap)


def plan(job: Job, ds: Dataset) -> Plan:
    """The whole write plan; HimfmtError when there is no route or two outputs would share a path."""
    layers = has_layers(ds)
    r = route(ds.layout, job.to, job.frame_step, has_masks=bool(ds.mask_dirs), has_layers=layers, premultiplied=ds.fg_premultiplied)
    lay = get_layout(job.to)
    opts = write_options(job, ds, lay)
    paths = split_paths(ds, lay)
    prefixed = shared_namespace(ds, job.to, paths)
    ordered = sorted(ds.samples, key=lambda s: (s.split, s.id))
    mine = set(shard_slice(list(range(len(ordered))), job.shard_index, job.shard_count))
    samples: list[tuple[str, list[Planned]]] = []
    shard: list[int] = []
    renamed = 0
    written: list[Sample] = []
    for i, sample in enumerate(ordered):
        for out in r.apply(sample):
            key = f"{sample.split}/{out.id}"  # names the source sample, whatever the target calls it
            if sample.split in prefixed:
                out = replace(out, id=f"{sample.split}_{out.id}")  # a new sample: the dataset stays as read
                renamed += 1
            shard += [len(samples)] if i in mine else []
            samples.append((key, lay.plan(out, paths[out.split], opts)))
            written.append(out)
    # The dataset as the target holds it: its own backgrounds and pair lists only from a tree of its layout.
    target = ds if ds.layout == job.to else replace(ds, layout=job.to, samples=written, backgrounds=[], pair_lists={})
    extra = lay.finish(target, paths)
    if extra:
        shard += [len(samples)] if job.shard_index == 0 else []
        samples.append((DATASET, extra))
    return Plan(r, samples, shard, checked_digest(samples), renamed, changes(ds, r, lay, samples, layers, target))


def source_pictures(ds: Dataset) -> Iterator[tuple[str, Any]]:
    """Every picture of the source with its role, and one picture per background video (DVM's bg/)."""
    for sample in ds.samples:
        yield from ((role, m) for role, m in sample_pictures(sample) if role != "extra")
    for bg in ds.backgrounds:
        yield from (("background videos", f.image) for f in bg.frames[:1])


def _reached(media: Any, into: set[int]) -> None:
    into.add(id(media))
    for m in getattr(media, "inputs", ()):  # a picture computed from others uses them
        _reached(m, into)


def changes(ds: Dataset, r: Route, lay: Layout, samples: list[tuple[str, list[Planned]]], layers: bool, target: Dataset) -> list[str]:
    """What the conversion changes, each once with its count: the route's steps as applied, the source's
    pictures the target has no place for, what is encoded lossily on the way, and what the target's
    dataset-level files (``target``: the samples as written) cannot hold."""
    moved = sum(renumbered(f) for s in target.samples for f in s.frames) if isinstance(lay, InstanceFolders) else 0
    renamed = [f"instance files of {plural(moved, 'picture')} renumbered 00, 01, ... in numeric order (the loaders' sort read 10 before 2)"]
    if ds.layout == lay.name:
        return renamed if moved else []
    items = [item for _, planned in samples for item in planned]
    out = [
        f"{loss.text} ({plural(r.changed[loss.step], 'sample')})" if loss.step else loss.text
        for loss in r.losses
        if not loss.measured and (loss.step is None or r.changed[loss.step])
    ]
    out += get_layout(ds.layout).read_losses(ds)
    out += _dropped(ds, lay, items) + _encoded(items)
    if lay.holds.layers and not layers:  # the source keeps no fg/bg layers
        out.append(f"{lay.name}'s foreground and background layers are not written: the source has none")
    return out + lay.unfinished(target) + (renamed if moved else [])


def _dropped(ds: Dataset, lay: Layout, items: list[Planned]) -> list[str]:
    """The source's pictures that no planned file comes from, by role."""
    used: set[int] = set()
    for item in items:
        for media in item.frames if isinstance(item, OutStream) else [item.media] if isinstance(item, OutFile) else []:
            _reached(media, used)
    dropped = Counter(role for role, media in source_pictures(ds) if media is not None and id(media) not in used)
    return [f"{n} {role} not written: {lay.name} has no place for them" for role, n in sorted(dropped.items())]


def _encoded(items: list[Planned]) -> list[str]:
    """Pictures and videos the plan encodes lossily (JPEG, H.264) rather than placing their bytes."""
    out = []
    jpeg = Counter("grey" if i.gray else "colour" for i in items if isinstance(i, OutFile) and i.path.endswith(".jpg") and not can_place(i))
    if jpeg:
        out.append(
            f"{sum(jpeg.values())} pictures encoded as JPEG (lossy): {jpeg['colour']} colour, {jpeg['grey']} grey (mattes, masks, trimaps)"
        )
    videos = sum(1 for i in items if isinstance(i, OutStream) and not i.gray and not can_place_stream(i))
    if videos:
        out.append(f"{videos} colour videos encoded as H.264 CRF 18 (lossy); alpha videos are lossless")
    return out


def checked_digest(samples: list[tuple[str, list[Planned]]]) -> str:
    """The plan's digest (every output path and what it comes from); HimfmtError when two outputs share a path."""
    digest = hashlib.sha256()
    owner: dict[str, str] = {}
    for key, items in samples:
        for item in items:
            other = owner.setdefault(item.path, key)
            if other != key:
                raise HimfmtError(f"two outputs map to one path, {item.path}: from {other} and from {key}; nothing was written")
            digest.update(f"{item.path}<{item_source(item)}\n".encode("utf-8", "surrogateescape"))
    return digest.hexdigest()


class Record:
    """The job line plus one line per finished sample; appended, flushed, never rewritten.

    Each shard appends to its own file (``convert-shardKofN.jsonl``; one
    unsharded run: ``convert.jsonl``) and reads every shard's, so shards share
    an output and a rerun with any shard split resumes from all of them.
    A record of a different conversion is refused, or with ``overwrite``
    replaced: its files that the new plan does not write are removed (only
    files it recorded, with their recorded size), then its record.
    """

    def __init__(self, out: OutDir, job: Job, plan: Plan, overwrite: bool, summary: Summary) -> None:
        dst = Path(out.root)
        folder = dst / RECORD_DIR
        name = f"{job.record}.jsonl" if job.shard_count == 1 else f"{job.record}-shard{job.shard_index}of{job.shard_count}.jsonl"
        self.rel = f"{RECORD_DIR}/{name}"
        self.done: dict[str, list[list[Any]]] = {}
        self.sources: dict[str, Any] = {}  # sample -> [path, size, mtime or CRC] of each source file it read
        key = job.key(plan.digest)
        for rec in job.records(folder):
            first, entries = read_record(rec)
            if first != key:
                if not overwrite:
                    why = "is damaged (its first line is not a job)" if first is None else "is of a different conversion"
                    raise HimfmtError(
                        f"holds another job's files: {RECORD_DIR}/{rec.name} {why}; "
                        "choose another dst= or pass overwrite=true to replace it",
                        str(dst),
                    )
                summary.replaced += remove_recorded(out, entries, plan.paths())
                rec.unlink()
                continue
            for entry in entries:
                self.done[entry["sample"]] = entry["files"]
                self.sources[entry["sample"]] = entry.get("src")
        self.file = out.open_append(self.rel, json.dumps({"job": key, "src": str(Path(job.src).resolve())}) + "\n")
        # What this run was to make, for the merge of a sharded run to name what no shard made.
        self.file.write(
            json.dumps(
                {"plan": {"samples": sorted(k for k, _ in plan.samples if k != DATASET), "shard": [job.shard_index, job.shard_count]}}
            )
            + "\n"
        )
        self.file.flush()

    def complete(self, dst: Path, key: str, sources: list[list[Any]], planned: list[Planned]) -> bool:
        """The sample was written from these very source files, to the very paths planned, and its files are
        all there under ``dst``."""
        files = self.done.get(key)
        return (
            files is not None
            and self.sources.get(key) == sources
            and {f[0] for f in files} == {i.path for i in planned}
            and files_intact(str(dst), files)
        )

    def add(self, key: str, files: list[list[Any]], sources: list[list[Any]]) -> None:
        self.file.write(json.dumps({"sample": key, "files": files, "src": sources}) + "\n")
        self.file.flush()

    def close(self) -> None:
        self.file.close()


def read_record(path: Path) -> tuple[dict[str, Any] | None, list[dict[str, Any]]]:
    """The job of a record (None when its first line is damaged) and its sample entries."""
    lines = read_jsonl(path)
    first = lines[0].get("job") if lines and "job" in lines[0] else None
    return first, [e for e in lines if "sample" in e and "files" in e]


def source_stamps(planned: list[Planned]) -> list[list[Any]]:
    """``[path, size, mtime]`` (a zip member: ``[path, size, CRC]``) of every source file a sample's outputs
    come from: a rerun redoes the sample when one of them changed."""
    reached: dict[str, FileRef] = {}
    for item in planned:
        for media in item.frames if isinstance(item, OutStream) else [item.media] if isinstance(item, OutFile) else []:
            _files(media, reached)
    out = []
    for path, ref in sorted(reached.items()):
        try:
            out.append([path, *ref.tree.stamp(path)])
        except OSError:
            out.append([path, None])
    return out


def _files(media: Any, into: dict[str, FileRef]) -> None:
    if isinstance(media, FileRef):
        into[media.path] = media
    for m in getattr(media, "inputs", ()):
        _files(m, into)


def _write_sample(args: tuple[str, list[Planned], str, tuple[int, int] | None]) -> tuple[list[list[Any]], Counter, str | None]:
    """Write one sample's files (worker entry point); returns their record entries."""
    dst, items, mode, root_id = args
    out = OutDir.at(dst, expect=root_id)
    how: Counter = Counter()
    files: list[list[Any]] = []
    try:
        for item in items:
            used = write_item(out, item, mode)
            how[used] += 1
            files.append(out.entry(item.path))
            if mode == "hardlink" and used == "copy" and isinstance(item, OutFile) and can_place(item):
                how["fallback"] += 1
    except BadInputError as exc:
        for rel, *_ in files:  # no half sample: what this call wrote of it goes (a rerun makes it whole)
            out.remove(rel)
        return [], how, str(exc)
    return files, how, None


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


def convert(
    job: Job,
    from_layout: str | None = None,
    overwrite: bool = False,
    dry_run: bool = False,
    progress: Progress = no_progress,
    redo: frozenset[str] = frozenset(),
    afresh: bool = False,
    source: Dataset | None = None,
) -> Summary:
    """Run (or, with ``dry_run``, only plan) a conversion; see the module docstring.

    ``source``: the dataset to write, read from ``job.src`` already (a repair hands over its mended copy).

    ``overwrite``: write into a non-empty ``dst`` and replace another conversion's record there.
    ``afresh``: write every sample again, whatever the record says (the CLI's overwrite=true).
    ``redo``: output files (relative to ``dst``) to write again although the record
    says their sample is done (a repair replaces them; nothing is deleted first).
    """
    ds = _checked_source(job, from_layout) if source is None else source
    dst = Path(job.dst).resolve()
    src_root = str(Path(job.src).resolve())
    family = job.record.split("-")[0]  # a repair's copies of several datasets share one output
    resuming = any((dst / RECORD_DIR).glob(f"{family}*.jsonl")) if (dst / RECORD_DIR).is_dir() else False
    check_output_dir(dst, overwrite or resuming, [src_root])
    p = plan(job, ds)  # raises before anything is written: no route, or two outputs on one path
    summary = Summary(p.route, ds, renamed=p.renamed, dry_run=dry_run, changes=p.changes, plan=p)
    summary.failed += [
        (rel, f"{ds.tree.display(rel)}: not a regular file (a FIFO, socket or device): never read, not converted")
        for rel in ds.tree.special
        if not ds.path or rel.startswith(ds.path + "/")
    ]
    blocked = unreadable_samples(ds)
    summary.failed += [
        (key, f"{ds.tree.display(rel)}: not readable (permissions): sample {key} skipped whole") for key, rel in sorted(blocked.items())
    ]
    todo = [(key, items) for key, items in p.mine() if key not in blocked and _source_key(key) not in blocked]
    if dry_run:
        return _dry_run(summary, todo)
    with JobLock(dst, job.key(p.digest), f"convert to {job.to} from {src_root}") as lock:
        out = lock.out
        assert out is not None
        job = replace(job, root_id=out.identity())  # workers check they write into the folder the job began in
        try:
            remove_tmp_files(dst)
        except OSError as exc:
            raise write_error(exc, dst) from None
        record = Record(out, job, p, overwrite, summary)
        try:
            _write_all(job, dst, todo, record, summary, progress, redo, afresh)
        except BaseException:
            remove_tmp_files(dst)  # the stopped workers' half-written files (their samples are not recorded)
            raise
    summary.fallback_to_copy = summary.files.pop("fallback", 0)
    return summary


def _write_all(
    job: Job,
    dst: Path,
    todo: list[tuple[str, list[Planned]]],
    record: Record,
    summary: Summary,
    progress: Progress,
    redo: frozenset[str],
    afresh: bool,
) -> None:
    """Write every sample the record does not show done from the same source files; measure lossy mattes."""
    lossy_mattes: list[tuple[Any, str]] = []
    stamps: dict[str, list[list[Any]]] = {}

    def pending() -> Iterator[tuple[str, list[Planned]]]:
        for key, planned in todo:
            summary.samples += key != DATASET
            stamps[key] = source_stamps(planned)
            if not afresh and record.complete(dst, key, stamps[key], planned) and not any(i.path in redo for i in planned):
                summary.skipped += key != DATASET
                continue
            if len(lossy_mattes) < ERROR_SAMPLES:
                lossy_mattes.extend(
                    (i.media, i.path) for i in planned if isinstance(i, OutFile) and i.gray and not can_place(i) and i.path.endswith(".jpg")
                )
            yield key, planned

    advance = progress(len(todo), f"convert to {job.to}")
    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        for key, (files, how, error) in _run(pending(), str(dst), job, len(todo)):
            summary.files.update(how)
            summary.bytes += sum(f[1] for f in files)
            if error:
                summary.failed.append((key, error))
            else:
                record.add(key, files, stamps.pop(key))
            advance(1)
    finally:
        signal.signal(signal.SIGTERM, previous)
        record.close()
    if lossy_mattes:
        measure_matte_error(summary, dst, lossy_mattes)


def _checked_source(job: Job, from_layout: str | None) -> Dataset:
    get_layout(job.to)  # raises the clear 'unknown layout' error
    if job.mode not in MODES:
        raise HimfmtError(f"mode must be copy, hardlink or symlink, not {job.mode!r}")
    ds = pick_dataset(job.src, from_layout)
    if ds.tree.is_archive and job.mode != "copy":
        raise HimfmtError(f"mode={job.mode} is impossible from an archive (there is no file on disk to link to); use mode=copy", job.src)
    return ds


def _dry_run(summary: Summary, todo: list[tuple[str, list[Planned]]]) -> Summary:
    """The summary of what the run would do: samples, files by how they would be written, bytes placed."""
    for key, planned in todo:
        summary.samples += key != DATASET
        for item in planned:
            placed = isinstance(item, OutFile) and can_place(item)
            summary.files["stream" if isinstance(item, OutStream) else ("place" if placed else "encode")] += 1
            summary.bytes += _bytes_of(item)
    return summary


def _terminate(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt  # unwinds through atomic writes, which remove their temporary files


def _keyed(args: tuple[str, str, list[Planned], str, tuple[int, int] | None]) -> tuple[str, tuple[list, Counter, str | None]]:
    key, dst, planned, mode, root_id = args
    return key, _write_sample((dst, planned, mode, root_id))


def _run(todo: Iterator[tuple[str, list[Planned]]], dst: str, job: Job, n: int) -> Iterator[tuple[str, tuple[list, Counter, str | None]]]:
    """Write samples as they are planned; results come back in order, with their keys."""
    return parallel_map(_keyed, ((key, dst, planned, job.mode, job.root_id) for key, planned in todo), n, job.workers)
