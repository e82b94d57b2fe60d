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
from functools import partial
from pathlib import Path
from typing import Any

from himfmt.conversion.job import Job, Plan, Summary, convert
from himfmt.derived.sets import Spec, write
from himfmt.errors import HimfmtError
from himfmt.feedback import SILENT, Voice
from himfmt.io.files import RECORD_DIR, atomic_write
from himfmt.io.pool import worker_count
from himfmt.io.records import size_and_sha256
from himfmt.io.tree import Tree
from himfmt.layouts.base import OutFile
from himfmt.layouts.detect import open_datasets
from himfmt.model import Dataset, DerivedRef, FileRef, Frame, Instance, Media, sample_files
from himfmt.options import MASK_PRESETS, FixOptions
from himfmt.repair.rules import RESIZE, REWRITE, RULES, FromFile, is_zero_one, premultiplied, resized_to
from himfmt.validation import validate, validate_datasets
from himfmt.validation.catalog import Finding
from himfmt.validation.report import Report

RECORD = "fix.jsonl"


@dataclass
class Change:
    """One file fix changed, renamed or left out (a line of ``<out>/.himfmt/fix.jsonl``)."""

    code: str
    src: str | None  # relative to the dataset's source root; None: made in the copy (a synthesized mask)
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
    found = open_datasets(str(root))  # a folder or an archive: paths below are relative to it, as the findings'
    with voice.progress("validating", elapsed=True) as bar:
        report = validate_datasets(found[0].tree, found, opts.deep, opts.workers, bar)
    done = Fixed(out, opts.dry_run)
    for ds in found:
        findings = [f for d in report.datasets if (d.path, d.layout) == (ds.path, ds.layout) for f in d.findings]
        _fix_dataset(ds, str(root), out / ds.path if ds.path else out, findings, opts, voice, done)
    if not opts.dry_run:
        for dst, changes in done.logs.items():
            lines = [json.dumps(dataclasses.asdict(c), sort_keys=True) for c in changes]
            atomic_write(dst / RECORD_DIR / RECORD, ("\n".join(lines) + "\n" if lines else "").encode())
        with voice.progress("validating the copy", elapsed=True) as bar:
            done.report = validate(str(out), deep_pass=opts.deep, workers=opts.workers, progress=bar)
    return done


def _fix_dataset(ds: Dataset, src: str, dst: Path, report: list[Finding], opts: FixOptions, voice: Voice, done: Fixed) -> None:
    findings = [f for f in report if _chosen(f.code, opts)]
    for f in report:
        if f.code not in RULES and f.severity != "info":
            done.left[f.code] = done.left.get(f.code, 0) + 1
    mended, changes = mend(ds, findings, opts.exclude, opts.resize_mattes)
    mode = "copy" if ds.tree.is_archive else "hardlink"
    job = Job(src, str(dst), ds.layout, mode, workers=worker_count(opts.workers), record=f"fix-{ds.layout}")
    with voice.progress(f"writing the copy of {ds.path or ds.layout}") as bar:
        summary = convert(job, overwrite=opts.overwrite, dry_run=opts.dry_run, progress=bar, afresh=opts.overwrite, source=mended)
    assert summary.plan is not None
    _place(changes, summary.plan, mended.tree, dst, opts.dry_run)
    if not opts.dry_run and not summary.failed:
        changes += synthesize_masks(dst, ds.layout, findings)
    done.copies.append((ds, dst, summary))
    done.changes += changes
    done.logs.setdefault(dst, []).extend(changes)


def _chosen(code: str, opts: FixOptions) -> bool:
    return (not opts.only or code in opts.only) and code not in opts.skip


def mend(ds: Dataset, findings: list[Finding], exclude: bool, resize: bool = False) -> tuple[Dataset, list[Change]]:
    """``ds`` with every repairable picture replaced by its repair and (``exclude``) the samples that cannot
    be mended left out; and the changes, destinations still unknown. ``resize``: mattes, masks and trimaps
    of another size than their image are resized to it."""
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
        samples.append(dataclasses.replace(sample, frames=[Mender(by_path, changes, resize).frame(f) for f in sample.frames]))
    for f in findings:
        kind = RULES[f.code].kind if f.code in RULES else None
        if kind in ("omit", "rename"):  # a renumbered folder keeps its place in a copy of the same layout
            changes.append(Change(f.code, f.path, f.path if kind == "rename" else None, RULES[f.code].action))
    return dataclasses.replace(ds, samples=samples), changes


@dataclass
class Mender:
    """Replaces the pictures of one frame that a finding's rule repairs, noting each change."""

    by_path: dict[str, list[Finding]]
    changes: list[Change]
    resize: bool

    def frame(self, f: Frame) -> Frame:
        size = self._size(f.image)
        fg = f.fg
        matte = f.instances[0].matte if f.instances else None
        code = "dvm.fg_not_premultiplied"
        if isinstance(fg, FileRef) and matte is not None and any(x.code == code for x in self.by_path.get(fg.path, [])):
            self.changes.append(Change(code, fg.path, None, RULES[code].action))
            fg = DerivedRef(premultiplied, (fg, matte), (False, True))
        return dataclasses.replace(
            f,
            image=self.mended(f.image),
            fg=fg,
            trimap=self.mended(f.trimap, size, nearest=True),
            instances=[self.instance(i, size) for i in f.instances],
        )

    def instance(self, i: Instance, size: tuple[int, int] | None) -> Instance:
        masks = {k: self.repaired(v, size, nearest=True) if isinstance(v, FileRef) else v for k, v in i.masks.items()}
        return dataclasses.replace(i, matte=self.mended(i.matte, size), trimap=self.mended(i.trimap, size, nearest=True), masks=masks)

    def mended(self, m: Media | None, size: tuple[int, int] | None = None, nearest: bool = False) -> Media | None:
        return self.repaired(m, size, nearest) if isinstance(m, FileRef) else m

    def repaired(self, m: FileRef, size: tuple[int, int] | None = None, nearest: bool = False) -> Media:
        for f in self.by_path.get(m.path, []) if m.frame is None else []:
            fn = REWRITE.get(f.code)
            if RULES.get(f.code) == RESIZE and self.resize and size is not None:
                fn = partial(resized_to, size=size, nearest=nearest)
            if fn is not None and (f.code != "matte.tiny" or is_zero_one(m)):
                self.changes.append(Change(f.code, m.path, None, RULES[f.code].action))
                return FromFile(fn, (m,), (True,))  # type: ignore[arg-type]  # its input is read as bytes
        return m

    def _size(self, image: Media | None) -> tuple[int, int] | None:
        if not self.resize or image is None:
            return None
        try:
            return image.size()
        except HimfmtError:
            return None


def synthesize_masks(dst: Path, layout: str, findings: list[Finding]) -> list[Change]:
    """The guidance masks the source lacked, made in the copy by ``himfmt masks``' own code (only the
    missing ones: a mask that is there is kept)."""
    if not any(f.code == "mask.missing" for f in findings):
        return []
    copy = open_datasets(str(dst), layout=layout)[0]
    made: list[Change] = []
    for source in copy.mask_dirs:
        params = MASK_PRESETS["xmem" if source == "xmem" else "detector"]
        result = write(copy, Spec("mask", source, params, 0, params.drop_small))
        made += [Change("mask.missing", None, rel, RULES["mask.missing"].action, None, sha) for rel, _, sha, *_ in result.files]
    return made


def _place(changes: list[Change], planned: Plan, src_tree: Tree, dst: Path, dry_run: bool) -> None:
    """Fill in where each repaired file went (from the conversion's write plan), with its digests before and after."""
    written: dict[str, str] = {}
    for _, items in planned.samples:
        for item in items:  # a repaired picture is derived from the source file it replaces
            source = item.media.inputs[0] if isinstance(item, OutFile) and isinstance(item.media, DerivedRef) else None
            if isinstance(source, FileRef):
                written[source.path] = item.path
    for c in changes:
        if c.dst is None and c.src in written:
            c.dst = written[c.src]
            c.before = hashlib.sha256(src_tree.read_image(c.src)).hexdigest()
            c.after = None if dry_run else _digest(dst / c.dst)


def _digest(path: Path) -> str | None:
    """The written file's sha256 (None if it is not there: a sample that failed)."""
    try:
        return size_and_sha256(str(path))[1]
    except OSError:
        return None
