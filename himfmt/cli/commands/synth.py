"""``himfmt synth``: published recipes, deterministic, parallel, sharded, resumable."""

from __future__ import annotations

from pathlib import Path

from omegaconf import DictConfig

from himfmt.cli import console, views
from himfmt.cli.console import safe
from himfmt.synthesis.inputs import read_as
from himfmt.synthesis.jobs import Synthesized, synthesize
from himfmt.synthesis.runner import Plan, Result
from himfmt.synthesis.runner import run as run_plan

# The engine reads a config tree (a schedule's runs merge into it; a dataset config declares splits with their
# own overrides): this command gets the composed config, range-checked as every command's options are.
READS_CONFIG_TREE = True

SUMMARY = "make samples with a published recipe: recipe=image_him|video_him|dvm|people_walk out=DIR [n=N] [seed=S]"


def run(cfg: DictConfig) -> int:
    done = Synthesized(Path(str(cfg.out)).resolve(), synthesize(cfg, run_one=_run_one))
    views.show(done, console.out)
    for note in done.lossy():
        console.out.print(console.hang(f"lossy: {note}"), markup=False)
    problems = done.problems()
    for line in problems:
        console.error(line)
    if not problems:
        console.out.print(f"next: himfmt validate {safe(str(done.out))}")
    return 1 if problems else 0


def _run_one(plan: Plan) -> Result:
    console.lines(f"read {line}" for line in read_as(plan.recipe))  # a wrong folder shows here, before any work
    with console.progress(plan.recipe.name) as bar:
        return run_plan(plan, bar)
