"""``himfmt synth``: published recipes, deterministic, parallel, sharded, resumable."""
from __future__ import annotations

import os
from pathlib import Path

from omegaconf import DictConfig
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn
from rich.table import Table

from .. import console
from ..detect import open_datasets
from ..errors import HimfmtError
from ..io.files import check_output_dir
from ..layouts import WriteOptions, get_layout
from ..model import FileRef
from ..synth import image_him
from ..synth.runner import RECORD_DIR, Plan, run as run_plan

SUMMARY = "make samples with a published recipe: recipe=image_him hhm=DIR bg=DIR out=DIR [n=N] [seed=S]"


def _one(path: str | None, layout: str, what: str):
    if not path:
        raise HimfmtError(f"{what}= is required for this recipe")
    found = [d for d in open_datasets(str(path)) if d.layout == layout]
    if not found:
        raise HimfmtError(f"no {layout} tree found", str(path))
    return found[0]


def image_him_recipe(cfg: DictConfig) -> image_him.ImageHim:
    hhm = _one(cfg.hhm, "hhm", "hhm")
    skip = {n for names in hhm.meta.get("skip", {}).values() for n in names}
    if cfg.skip_list:
        skip |= {ln.strip() for ln in Path(str(cfg.skip_list)).read_text().splitlines() if ln.strip()}
    people = []
    for s in sorted(hhm.samples, key=lambda s: (s.split, s.id)):
        f = s.frames[0]
        if f.image is None or not f.instances or not isinstance(f.image, FileRef):
            continue
        if f.image.name in skip or s.id in skip:
            continue
        people.append((f.image, f.instances[0].matte))
    bgs = _one(cfg.bg, "bg_images", "bg")
    backgrounds = [f.image for s in sorted(bgs.samples, key=lambda s: (s.split, s.id)) for f in s.frames if f.image is not None]
    r = cfg.recipe
    params = image_him.Params(r.people_min, r.people_max, r.height_min, r.height_max, r.tries, r.min_visible, r.layers)
    return image_him.ImageHim(people, backgrounds, params)


RECIPES = {"image_him": image_him_recipe}


def run(cfg: DictConfig) -> int:
    name = str(cfg.recipe.name)
    if name not in RECIPES:
        raise HimfmtError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}")
    recipe = RECIPES[name](cfg)
    layout = str(cfg.layout or cfg.recipe.layout)
    lay = get_layout(layout)
    out = Path(str(cfg.out)).resolve()
    inputs = [str(Path(str(p)).resolve()) for p in (cfg.hhm, cfg.bg) if p]
    resuming = (out / RECORD_DIR).is_dir()
    check_output_dir(out, bool(cfg.overwrite) or resuming, inputs)
    plan = Plan(recipe, out, layout, str(cfg.split or cfg.recipe.split), int(cfg.n), int(cfg.seed), int(cfg.attempts),
                int(cfg.shard.index), int(cfg.shard.count), int(cfg.workers) or (os.cpu_count() or 1),
                WriteOptions(alpha_dir=lay.default_alpha_dir or "alphas"))
    with Progress(TextColumn(f"{name}"), BarColumn(), MofNCompleteColumn(), TimeRemainingColumn(),
                  console=console.err, transient=True) as bars:
        def progress(total: int):
            task = bars.add_task(name, total=total)
            return lambda k: bars.advance(task, k)
        result = run_plan(plan, progress)
    table = Table(title=f"himfmt synth {name} -> {layout} in {out}", show_header=False)
    for label, value in (("ids in this shard", len(plan.ids())), ("written", result.written), ("already done", result.skipped),
                         ("redrawn attempts", result.retries), ("rejected (all attempts)", len(result.rejected)),
                         ("failed", len(result.failed))):
        table.add_row(label, str(value))
    console.out.print(table)
    for i, message in result.failed[:10]:
        console.error(f"id {i}: {message}")
    return 1 if result.failed else 0

