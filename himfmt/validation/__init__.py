"""Validation: JSON Schema over the manifest, then content checks; see ``validate``."""

from __future__ import annotations

from typing import Callable, Iterable

from himfmt.feedback import Progress, no_progress
from himfmt.io.archive import open_tree
from himfmt.io.pool import parallel_map, worker_count
from himfmt.io.share import shard_slice
from himfmt.io.tree import Tree
from himfmt.layouts.detect import detect
from himfmt.model import Dataset, Sample
from himfmt.validation import deep_checks, record_checks, registry, structure_checks
from himfmt.validation.catalog import finding
from himfmt.validation.leakage import shared_pictures
from himfmt.validation.manifest import schema_findings
from himfmt.validation.plugin_checks import plugin_findings
from himfmt.validation.report import DatasetReport, Report

CHECK_MODULES = (structure_checks, record_checks, deep_checks)  # importing each registers its checks
plugin_findings()  # and the himfmt.checks plugins' checks register as they load


def share(ds: Dataset, shard: tuple[int, int]) -> list[Sample]:
    """The samples (and background clips) of ``ds`` that shard (index, count) checks."""
    return shard_slice([*ds.samples, *ds.backgrounds], *shard)


def structure(ds: Dataset, advance: Callable[[int], None], shard: tuple[int, int] = (0, 1)) -> DatasetReport:
    """Schema and structure checks; a shard checks its share of the samples, shard 0 the dataset as a whole."""
    samples = share(ds, shard)
    rep = DatasetReport(ds.path, ds.layout, list(ds.splits), samples=len(shard_slice(ds.samples, *shard)))
    if shard[0] == 0:
        rep.findings += schema_findings(ds)
        rep.findings += registry.run("structure", "dataset", ds)
    cache = structure_checks.HeaderCache()
    for sample in samples:
        view = structure_checks.SampleView(ds, sample, cache)
        for frame in sample.frames:
            rep.findings += registry.run("structure", "frame", view, frame)
        rep.findings += registry.run("structure", "sample", view)
        advance(1)
    rep.files = cache.files
    return rep


def deep(
    checked: list[tuple[Dataset, DatasetReport]], workers: int, advance: Callable[[int], None], shard: tuple[int, int] = (0, 1)
) -> None:
    """Decode every picture of this shard's samples of every dataset, across ``workers`` processes
    (spawned: no inherited state). One pool serves all the datasets: a pool costs a second to start."""
    picked = [(ds, rep, share(ds, shard)) for ds, rep in checked]
    owners = [rep for _, rep, samples in picked for _ in samples]
    jobs: Iterable[tuple[Sample, bool]] = ((s, ds.fg_premultiplied) for ds, _, samples in picked for s in samples)
    seen: set[tuple[str, str]] = {(f.code, f.path) for _, rep in checked for f in rep.findings}
    for rep, found in zip(owners, parallel_map(deep_checks.deep_sample_findings, jobs, len(owners), workers)):
        for f in found:
            if (f.code, f.path) not in seen:  # a corrupt header was already reported
                seen.add((f.code, f.path))
                rep.findings.append(f)
        advance(1)


def validate(
    root: str,
    layout: str | None = None,
    deep_pass: bool = False,
    workers: int = 0,
    progress: Progress = no_progress,
    shard: tuple[int, int] = (0, 1),
) -> Report:
    """Validate every dataset under ``root`` (or ``root`` as ``layout``); ``shard`` = (index, count)
    checks every count-th sample (sorted as listed), so the shards' reports merge into the whole."""
    tree = open_tree(root)
    found = detect(tree, layout=layout)
    report = Report(str(tree.root), deep=deep_pass)
    if not found.matches:
        rep = DatasetReport("", "none", [])
        rep.findings.append(finding("dataset.none_found", ".", None, found.nothing_found()))
        rep.findings += registry.run("structure", "tree", tree)
        report.datasets.append(rep)
        return report
    return validate_datasets(tree, found.datasets(), deep_pass, workers, progress, shard)


def validate_datasets(
    tree: Tree,
    datasets: list[Dataset],
    deep_pass: bool = False,
    workers: int = 0,
    progress: Progress = no_progress,
    shard: tuple[int, int] = (0, 1),
) -> Report:
    """The report of datasets already read from ``tree`` (a caller that goes on to use them reads them once)."""
    report = Report(str(tree.root), deep=deep_pass)
    workers = worker_count(workers)
    totals = [len(share(ds, shard)) for ds in datasets]
    for ds, total in zip(datasets, totals):
        report.datasets.append(structure(ds, progress(total, f"structure {ds.path or '.'} ({ds.layout})"), shard))
    if deep_pass:
        deep(list(zip(datasets, report.datasets)), workers, progress(sum(totals), "decoding every picture"), shard)
    if shard[0] == 0:  # what concerns the tree as a whole: once, by the first shard
        _whole_tree(tree, datasets, report)
    return report


def _whole_tree(tree: Tree, datasets: list[Dataset], report: Report) -> None:
    """Pictures shared across splits and problems met while listing, each given to the dataset that holds it."""
    reports = {id(ds): rep for ds, rep in zip(datasets, report.datasets)}
    for ds, f in shared_pictures(datasets):
        reports[id(ds)].findings.append(f)
    for f in registry.run("structure", "tree", tree):  # symlinks, permissions: to the innermost dataset around
        owner = max(
            (d for d in report.datasets if not d.path or f.path.startswith(d.path + "/")),
            key=lambda d: len(d.path),
            default=report.datasets[0],
        )
        owner.findings.append(f)


__all__ = ["Report", "validate"]
