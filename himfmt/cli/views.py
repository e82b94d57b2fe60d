"""How the terminal shows the core's result objects: a conversion's summary, a synth job, a fill plan, a
validation report. The core returns these objects and never draws them."""

from __future__ import annotations

import os
from typing import Iterator

from rich.console import Console, RenderableType
from rich.markup import escape
from rich.table import Table
from rich.text import Text

from himfmt.cli.console import fit, paragraph, safe
from himfmt.conversion.job import DONE, ERROR_SAMPLES, PLANNED, Summary
from himfmt.generation.engine import FillPlan
from himfmt.repair.job import Fixed
from himfmt.synthesis.jobs import Synthesized
from himfmt.text import plural
from himfmt.validation.catalog import catalog
from himfmt.validation.report import SHOW_PATHS, Report, next_step

STYLE = {"error": "bold red", "warning": "yellow", "info": "cyan"}


def conversion(summary: Summary, console: Console) -> Iterator[RenderableType]:
    """The summary table, then what changed on the way: renames, lossy steps, the measured matte error."""
    r = summary.route
    table = Table(title=f"{'plan' if summary.dry_run else 'converted'}: {r.src} -> {r.dst}", show_header=False)
    table.add_column("what")
    table.add_column("value", justify="right")
    table.add_row("samples", str(summary.samples))
    if summary.skipped:
        table.add_row("already done (resumed)", str(summary.skipped))
    for how, n in sorted(summary.files.items()):
        table.add_row((PLANNED if summary.dry_run else DONE).get(how, f"files {how}"), str(n))
    table.add_row("bytes" + (" (known sources)" if summary.dry_run else ""), f"{summary.bytes:,}")
    if summary.failed:
        table.add_row("failed samples", str(len(summary.failed)))
    notes = (
        [f"  renamed: {summary.renamed} samples are written as <split>_<id>: their splits share one namespace in {r.dst}"]
        if summary.renamed
        else []
    )
    notes += [f"  lossy: {step}" for step in summary.changes]
    if summary.matte_error:
        mean, worst = summary.matte_error
        notes.append(f"  measured matte error after encoding: mean {mean:.2f}, max {worst} grey levels (on up to {ERROR_SAMPLES} mattes)")
    yield fit(table, console)
    yield from (paragraph(Text(n), console) for n in notes)


def synthesized(done: Synthesized, console: Console) -> Iterator[RenderableType]:
    layouts = sorted({plan.layout for plan, _ in done.runs})
    table = Table(title=f"himfmt synth -> {done.out} ({', '.join(layouts)})")
    table.add_column("")
    for plan, _ in done.runs:
        table.add_column(plan.recipe.name, justify="right")
    rows: dict[str, list[str]] = {}
    for plan, result in done.runs:
        ids = plan.ids()
        for key, value in (
            ("split", plan.split),
            ("ids", f"{ids[0]:05d}-{ids[-1]:05d}" if ids else "none"),
            ("written", result.written),
            ("done before", result.skipped),
            ("redrawn attempts", result.retries),
            ("rejected", len(result.rejected)),
            ("failed", len(result.failed)),
        ):
            rows.setdefault(key, []).append(str(value))
    for key, values in rows.items():
        table.add_row(key, *values)
    yield fit(table, console)


def fill_plan(plan: FillPlan, console: Console) -> Iterator[RenderableType]:
    table = Table(title=f"himfmt fill {plan.name} in {plan.root}")
    for col in ("split", "layout", "where", "from", "samples", "state", "action"):
        table.add_column(col, no_wrap=col in ("split", "layout", "where", "samples"))
    for e in plan.items:
        st, target = plan.states[e.name], plan.planned[e.name]
        where = os.path.relpath(e.path, plan.root)
        samples = f"{st.have}/{target}" if target is not None else str(st.have)
        table.add_row(e.name, e.layout, where, f"{e.kind} {e.source.get(e.kind)}", samples, st.text, plan.acts[e.name])
    yield fit(table, console)


def report(rep: Report, console: Console) -> Iterator[RenderableType]:
    """The summary table of every dataset, each finding group with its first paths and its fix, the next step."""
    table = Table(title=f"himfmt validate {rep.root}")
    for col in ("path", "layout", "samples", "files", "errors", "warnings", "infos"):
        table.add_column(col, justify="left" if col in ("path", "layout") else "right", no_wrap=col != "path", overflow="fold")
    for d in rep.datasets:
        s = d.summary()
        table.add_row(d.path or ".", d.layout, *(str(s[k]) for k in ("samples", "files", "errors", "warnings", "infos")))
    yield fit(table, console)
    codes = catalog()
    for d in rep.datasets:
        for code, group in d.groups():
            sev = group[0].severity
            where = (
                "the root" if d.layout == "none" else f"dataset {safe(d.path)} ({d.layout})" if d.path else f"the root dataset ({d.layout})"
            )
            yield paragraph(
                f"[{STYLE[sev]}]{sev}[/] [bold]{code}[/]: {plural(len(group), 'finding')} in {where}. {escape(codes[code]['meaning'])}",
                console,
            )
            for f in group[:SHOW_PATHS]:
                yield paragraph(f"    {safe(f.path)}: {safe(f.message)}", console)
            if len(group) > SHOW_PATHS:
                yield Text(f"    ... and {len(group) - SHOW_PATHS} more (all are in report=FILE.json)")
            yield paragraph(f"  [bold]fix:[/] {escape(codes[code]['fix'])}", console)
    yield paragraph(escape(next_step(rep, rep.deep)), console, more=0)


def fixed(done: Fixed, console: Console) -> Iterator[RenderableType]:
    """What fix changed, by finding code; what no rule repairs; then the copy's validation."""
    table = Table(title=f"himfmt fix -> {done.out}" + (" (dry run: nothing written)" if done.dry_run else ""))
    table.add_column("code", no_wrap=True)
    table.add_column("files", justify="right")
    table.add_column("what fix did" if not done.dry_run else "what fix would do")
    for code, (n, action) in done.by_code().items():
        table.add_row(code, str(n), action)
    if not done.changes:
        table.add_row("-", "0", "nothing to repair")
    yield fit(table, console)
    if done.left:
        left = ", ".join(f"{code} ({n})" for code, n in sorted(done.left.items()))
        yield paragraph(Text(f"left for you (no repair rule; himfmt explain CODE says how): {left}"), console)
    if done.report is not None:
        yield Text("the copy:")
        yield from report(done.report, console)


VIEWS = {Summary: conversion, Synthesized: synthesized, FillPlan: fill_plan, Report: report, Fixed: fixed}


def show(result: object, console: Console) -> None:
    """Print ``result`` with its view (an object no view knows is an internal error, never a silent drop)."""
    for renderable in VIEWS[type(result)](result, console):  # type: ignore[operator]
        console.print(renderable)
