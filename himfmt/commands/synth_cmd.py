"""``himfmt synth``: published recipes, deterministic, parallel, sharded, resumable."""
from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig
from rich.table import Table

from .. import console
from ..synth.jobs import synthesize
from ..synth.runner import Plan, Result, run as run_plan

SUMMARY = "make samples with a published recipe: recipe=image_him|video_him|dvm|people_walk out=DIR [n=N] [seed=S]"


def run(cfg: DictConfig) -> int:
    done = synthesize(cfg, run_one=_run_one)
    rows: dict[str, list[str]] = {k: [] for k in ("split", "ids", "written", "done before", "redrawn attempts", "rejected", "failed")}
    for plan, result in done:
        ids = plan.ids()
        for key, value in (("split", plan.split), ("ids", f"{ids[0]:05d}-{ids[-1]:05d}" if ids else "none"),
                           ("written", result.written), ("done before", result.skipped), ("redrawn attempts", result.retries),
                           ("rejected", len(result.rejected)), ("failed", len(result.failed))):
            rows[key].append(str(value))
        for i, message in result.failed[:10]:
            console.error(f"{plan.recipe.name} id {i}: {message}")
    layouts = sorted({plan.layout for plan, _ in done})
    table = Table(title=f"himfmt synth -> {Path(str(cfg.out)).resolve()} ({', '.join(layouts)})")
    table.add_column("")
    for plan, _ in done:
        table.add_column(plan.recipe.name, justify="right")
    for key, values in rows.items():
        table.add_row(key, *values)
    console.out.print(table)
    for note in dict.fromkeys(n for plan, _ in done if plan.route for n in plan.route.lossy):
        console.out.print(f"lossy: {note}")
    empty = [(plan, result) for plan, result in done if plan.ids() and not result.written and not result.skipped]
    for plan, result in empty:
        console.error(f"{plan.recipe.name} made nothing for split {plan.split}: {len(result.rejected)} id(s) rejected after "
                      f"{plan.attempts} draws each" + (f"; e.g. {result.why_rejected}" if result.why_rejected else
                                                     " (are the inputs large enough for the recipe's rules?)"))
    return 1 if empty or any(result.failed for _, result in done) else 0


def _run_one(plan: Plan) -> Result:
    with console.progress(plan.recipe.name) as bar:
        return run_plan(plan, bar)
