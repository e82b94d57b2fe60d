"""``himfmt fix``: validate a tree, then write a mended copy of each dataset in it, every change listed.

The copy is a conversion of the dataset into its own layout (:mod:`himfmt.conversion.job`), so it has
everything a conversion has: the source is never written, bytes that need not change are hard-linked
(copied across file systems), the whole plan is checked before the first write, a killed run resumes,
and a file the copy did not make is never replaced. Before the copy is planned, the dataset read from
the source is mended in memory: a picture a rule repairs is replaced by its repaired version
(:mod:`himfmt.repair.rules`), a sample that cannot be mended is left out; what the layout's writer does
anyway (instance files renumbered in numeric order, stray files not copied) is listed. Then the copy is
validated, and what is left is said.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from himfmt.conversion.job import Job, Summary, convert, plan
from himfmt.errors import HimfmtError
from himfmt.feedback import SILENT, Voice
from himfmt.io.files import RECORD_DIR, atomic_write
from himfmt.io.pool import worker_count
from himfmt.layouts.base import OutFile
from himfmt.layouts.detect import open_datasets
from himfmt.model import Dataset, FileRef, Instance, Media, Sample, sample_files
from himfmt.options import FixOptions
from himfmt.repair.rules import REWRITE, RULES, FromFile, is_zero_one
from himfmt.validation import validate
from himfmt.validation.catalog import Finding
from himfmt.validation.report import Report

RECORD = "fix.jsonl"


@dataclass
class Change:
    """One file fix changed, renamed or left out (a line of ``<out>/.himfmt/fix.jsonl``)."""

    code: str
    src: str  # relative to the dataset's source root
    dst: str | None  # relative to its output root; None: left out of the copy
    action: str
    before: str | None = None  # sha256 of the source file
    after: str | None = None  # sha256 of the written file


@dataclass
class Fixed:
    """What a fix did, dataset by dataset, and what validating the copy found."""

    out: Path
    dry_run: bool
    copies: list[tuple[Dataset, Path, Summary]] = field(default_factory=list)  # each dataset, its copy's root
    changes: list[Change] = field(default_factory=list)
    left: dict[str, int] = field(default_factory=dict)  # codes no rule repairs: findings in the source
    report: Report | None = None  # the copy's validation (None in a dry run)
    logs: dict[Path, list[Change]] = field(default_factory=dict)  # each output folder's changes (two datasets may share one)

    def by_code(self) -> dict[str, tuple[int, str]]:
        """code -> (files, what was done), in code order."""
        counts: dict[str, list[Any]] = {}
        for c in self.changes:
            counts.setdefault(c.code, [0, c.action])[0] += 1
        return {code: (n, action) for code, (n, action) in sorted(counts.items())}


def fix(opts: FixOptions, voice: Voice = SILENT) -> Fixed:
    """Validate ``opts.root``, then write each dataset's mended copy below ``opts.out`` (see the module)."""
    root, out = Path(opts.root).resolve(), Path(opts.out).resolve()
    if out == root or out.is_relative_to(root) or root.is_relative_to(out):
        raise HimfmtError("out= must be outside root= (fix never writes into a source, nor a source into its copy)", str(out))
    found = open_datasets(str(root))
    if not found:
        raise HimfmtError("no dataset found", str(root))
    done = Fixed(out, opts.dry_run)
    for ds in found:
        _fix_dataset(root / ds.path if ds.path else root, out / ds.path if ds.path else out, ds.layout, opts, voice, done)
    if not opts.dry_run:
        for dst, changes in done.logs.items():
            lines = [json.dumps(dataclasses.asdict(c), sort_keys=True) for c in changes]
            atomic_write(dst / RECORD_DIR / RECORD, ("\n".join(lines) + "\n" if lines else "").encode())
        with voice.progress("validating the copy", elapsed=True) as bar:
            done.report = validate(str(out), deep_pass=opts.deep, workers=opts.workers, progress=bar)
    return done


def _fix_dataset(src: Path, dst: Path, layout: str, opts: FixOptions, voice: Voice, done: Fixed) -> None:
    with voice.progress(f"validating {src.name}", elapsed=True) as bar:
        report = validate(str(src), layout, opts.deep, opts.workers, bar)
    ds = open_datasets(str(src), layout=layout)[0]
    findings = [f for f in report.findings if _chosen(f.code, opts)]
    for f in report.findings:
        if f.code not in RULES and f.severity != "info":
            done.left[f.code] = done.left.get(f.code, 0) + 1
    mended, changes = mend(ds, findings, opts.exclude)
    mode = "copy" if ds.tree.is_archive else "hardlink"
    job = Job(str(src), str(dst), layout, mode, workers=worker_count(opts.workers), record=f"fix-{layout}")
    with voice.progress(f"writing the copy of {src.name}") as bar:
        summary = convert(job, overwrite=opts.overwrite, dry_run=opts.dry_run, progress=bar, afresh=opts.overwrite, source=mended)
    _place(changes, job, mended, dst, opts.dry_run)
    done.copies.append((ds, dst, summary))
    done.changes += changes
    done.logs.setdefault(dst, []).extend(changes)


def _chosen(code: str, opts: FixOptions) -> bool:
    return (not opts.only or code in opts.only) and code not in opts.skip


def mend(ds: Dataset, findings: list[Finding], exclude: bool) -> tuple[Dataset, list[Change]]:
    """``ds`` with every repairable picture replaced by its repair and (``exclude``) the samples that cannot
    be mended left out; and the changes, destinations still unknown."""
    by_path: dict[str, list[Finding]] = {}
    for f in findings:
        by_path.setdefault(f.path, []).append(f)
    changes: list[Change] = []
    samples = []
    unmendable = [f for f in findings if f.code in RULES and RULES[f.code].kind == "exclude"] if exclude else []
    for sample in ds.samples:
        files = sample_files(sample)
        why = next((f.code for f in unmendable if f.path in files or any(p.startswith(f.path + "/") for p in files)), None)
        if why:  # a finding on one of its files, or on its folder (mattes that overlap)
            changes += [Change(why, p, None, "left out of the copy: the sample cannot be mended") for p in sorted(files)]
            continue
        samples.append(_mended_sample(sample, by_path, changes))
    for f in findings:
        kind = RULES[f.code].kind if f.code in RULES else None
        if kind in ("omit", "rename"):  # a renumbered folder keeps its place in a copy of the same layout
            changes.append(Change(f.code, f.path, f.path if kind == "rename" else None, RULES[f.code].action))
    return dataclasses.replace(ds, samples=samples), changes


def _mended_sample(sample: Sample, by_path: dict[str, list[Finding]], changes: list[Change]) -> Sample:
    def mended(m: Media | None) -> Media | None:
        return repaired(m) if isinstance(m, FileRef) else m

    def repaired(m: FileRef) -> Media:
        for f in by_path.get(m.path, []) if m.frame is None else []:
            fn = REWRITE.get(f.code)
            if fn is not None and (f.code != "matte.tiny" or is_zero_one(m)):
                changes.append(Change(f.code, m.path, None, RULES[f.code].action))
                return FromFile(fn, (m,))
        return m

    def instance(i: Instance) -> Instance:
        return dataclasses.replace(
            i,
            matte=mended(i.matte),
            trimap=mended(i.trimap),
            masks={k: repaired(v) if isinstance(v, FileRef) else v for k, v in i.masks.items()},
        )

    frames = [
        dataclasses.replace(f, image=mended(f.image), trimap=mended(f.trimap), instances=[instance(i) for i in f.instances])
        for f in sample.frames
    ]
    return dataclasses.replace(sample, frames=frames)


def _place(changes: list[Change], job: Job, mended: Dataset, dst: Path, dry_run: bool) -> None:
    """Fill in where each repaired file went (from the write plan), with its digests before and after."""
    written: dict[str, str] = {}
    for _, items in plan(job, mended).samples:
        for item in items:
            if isinstance(item, OutFile) and isinstance(item.media, FromFile):
                written[item.media.inputs[0].path] = item.path
    src_tree = mended.tree
    for c in changes:
        if c.dst is None and c.src in written:
            c.dst = written[c.src]
            c.before = hashlib.sha256(src_tree.read_image(c.src)).hexdigest()
            c.after = None if dry_run else _sha256(dst / c.dst)


def _sha256(path: Path) -> str | None:
    """The written file's digest, read in blocks (None if it is not there: a sample that failed)."""
    try:
        with open(path, "rb") as f:
            return hashlib.file_digest(f, "sha256").hexdigest()
    except OSError:
        return None
