"""Synthesis jobs from a ``synth`` config: each recipe built from its inputs, schedules expanded, plans checked, run.

Everything ``himfmt synth`` does except printing, so the command, ``himfmt
fill`` and the Python API run the same jobs: the recipe built by its
registered entry, ``n=`` and schedules turned into plans, namespace and id
overlap checks before any write, then each plan run by the runner.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

from himfmt.conversion.route import route
from himfmt.errors import HimfmtError
from himfmt.io.files import RECORD_DIR, check_output_dir
from himfmt.io.pool import worker_count
from himfmt.io.records import fingerprint
from himfmt.layouts import WriteOptions, get_layout
from himfmt.synthesis.recipe import Recipe
from himfmt.synthesis.registry import get_recipe
from himfmt.synthesis.runner import Plan, Result
from himfmt.synthesis.runner import run as run_plan


def _params(cfg: DictConfig) -> Any:
    """The recipe's config object (its dataclass, checked) from the ``recipe`` section."""
    return OmegaConf.to_object(cfg.recipe)


def _count(cfg: DictConfig, recipe: Recipe) -> int:
    """n=, else the recipe's default (per difficulty for video_him; every pair for dvm)."""
    if cfg.n is not None:
        return int(cfg.n)
    n = _params(cfg).count()
    return int(n) if n is not None else len(getattr(recipe, "jobs", []))


def _split(cfg: DictConfig) -> str:
    return str(cfg.split or _params(cfg).default_split() or cfg.phase)


def _plan(cfg: DictConfig, out: Path) -> Plan:
    name = str(cfg.recipe.name)
    recipe = get_recipe(name).build(cfg, _params(cfg))
    native = str(cfg.recipe.layout)
    layout = str(cfg.layout or native)
    lay = get_layout(layout)
    try:
        steps = route(native, layout) if layout != native else None
    except HimfmtError as exc:
        raise HimfmtError(f"recipe {name} makes {native} samples; {exc}") from None
    trimap = cfg.recipe.get("trimap")
    opts = WriteOptions(
        alpha_dir=lay.default_alpha_dir or "alphas",
        png_alpha=cfg.recipe.get("png_alpha", False) is True,
        trimap=tuple(trimap) if trimap else None,
    )
    return Plan(
        recipe,
        out,
        layout,
        _split(cfg),
        _count(cfg, recipe),
        int(cfg.first),
        int(cfg.seed),
        _attempts(cfg),
        int(cfg.shard.index),
        int(cfg.shard.count),
        worker_count(cfg.workers),
        opts,
        steps,
        jpeg_quality=int(cfg.recipe.jpeg_quality),
        key=job_key(cfg),
        overwrite=cfg.overwrite is True,
    )


def _attempts(cfg: DictConfig) -> int:
    return int(cfg.attempts if cfg.attempts is not None else cfg.recipe.attempts)


def input_paths(cfg: DictConfig) -> list[str]:
    """Every input the run reads (folders, archives, lists), resolved."""
    return [str(Path(str(p)).resolve()) for p in (cfg.hhm, cfg.bg, cfg.clips, cfg.source, cfg.skip_list, cfg.pairs) if p]


def job_key(cfg: DictConfig) -> dict[str, Any]:
    """What makes two synth runs the same job: everything that changes a sample's bytes, not n, first,
    workers or shards (a larger n later extends the same job)."""
    return {
        "recipe": OmegaConf.to_container(cfg.recipe, resolve=True, enum_to_str=True),
        "seed": int(cfg.seed),
        "layout": str(cfg.layout or cfg.recipe.layout),
        "split": _split(cfg),
        "attempts": _attempts(cfg),
        "phase": str(cfg.phase),
        "inputs": fingerprint(input_paths(cfg)),
    }


def job_keys(cfg: DictConfig) -> list[dict[str, Any]]:
    """The job key of every run of ``cfg`` (without reading the inputs' pictures): what its records must say."""
    return [job_key(one) for one in _runs(cfg)]


def _runs(cfg: DictConfig) -> list[DictConfig]:
    """The config itself, or one config per entry of ``runs`` (a schedule).

    ``n=`` given with a schedule is the count per split: the runs that write
    one split take their ids in order (by ``first``) until ``n`` are
    planned, the last one taking the rest; a run left with none is dropped.
    """
    if not cfg.runs:
        return [cfg]
    out = []
    for entry in cfg.runs:
        one = OmegaConf.masked_copy(cfg, [str(k) for k in cfg if k != "runs"])
        for key, value in entry.items():
            OmegaConf.update(one, str(key), value, merge=False)
        out.append(one)
    if cfg.n is None:
        return out
    by_split: dict[str, list[DictConfig]] = {}
    for one in out:
        by_split.setdefault(_split(one), []).append(one)
    kept = []
    for members in by_split.values():
        left = int(cfg.n)
        members.sort(key=lambda one: int(one.first))
        for k, one in enumerate(members):
            own = one.n if one.n is not None else left
            take = left if k == len(members) - 1 else min(int(own), left)
            if take > 0:
                one.n = take
                kept.append(one)
            left -= take
    return kept


def planned_counts(cfg: DictConfig) -> list[tuple[str, int | None]]:
    """(split, samples) of every run, without reading the inputs (None: the inputs decide, as dvm's pair list)."""
    out = []
    for one in _runs(cfg):
        n = one.n if one.n is not None else _params(one).count()
        out.append((_split(one), None if n is None else int(n)))
    return out


def check_namespaces(plans: list[Plan]) -> None:
    """Name samples <split>_<id> where runs of several splits share one namespace, and refuse
    runs whose ids would meet on one path, before anything is written."""
    for plan in plans:
        shared = {p.split for p in plans if p.layout == plan.layout}
        plan.prefix_split = not get_layout(plan.layout).named_splits and len(shared) > 1
    owner: dict[tuple[str, str, int], Plan] = {}
    for plan in plans:
        space = plan.split if get_layout(plan.layout).named_splits or plan.prefix_split else ""
        for i in range(plan.first, plan.first + plan.n):
            other = owner.setdefault((plan.layout, space, i), plan)
            if other is not plan:
                raise HimfmtError(
                    f"two runs write id {i:05d} of {plan.layout} {space or 'samples'}: "
                    f"{other.recipe.name} (ids {other.first}-{other.first + other.n - 1}) and "
                    f"{plan.recipe.name} (ids {plan.first}-{plan.first + plan.n - 1}); nothing was written"
                )


def synthesize(
    cfg: DictConfig, redo: frozenset[str] = frozenset(), run_one: Callable[[Plan], Result] = run_plan, protect: bool | None = None
) -> list[tuple[Plan, Result]]:
    """Every run of ``cfg`` (one, or a schedule's), inputs all checked before any work.

    ``redo``: output files (relative to ``out``) to make again although their ids are recorded as done.
    ``protect``: replace only files himfmt made (default: unless overwrite=true).
    ``run_one``: how one plan is run (the command wraps it in a progress bar).
    """
    return [(plan, run_one(plan)) for plan in prepare(cfg, redo, protect)]


def prepare(cfg: DictConfig, redo: frozenset[str] = frozenset(), protect: bool | None = None) -> list[Plan]:
    """The plans of every run, each recipe built from its inputs (every input check a run makes), the output
    checked; nothing is written (what a dry run shows)."""
    if cfg.n is None and not cfg.runs and (published := _params(cfg).count()) is not None:
        raise HimfmtError(
            f"n= is required: how many samples to make (recipe {cfg.recipe.name}'s published run made {published:,}: n={published})"
        )
    out = Path(str(cfg.out)).resolve()
    guard = cfg.overwrite is not True if protect is None else protect
    plans = [replace(_plan(one, out), redo=redo, protect=guard) for one in _runs(cfg)]
    check_namespaces(plans)
    inputs = [str(Path(str(p)).resolve()) for p in (cfg.hhm, cfg.bg, cfg.clips, cfg.source) if p]
    # An output himfmt wrote into before may take another job: each file is then checked as it is written
    # (the runner never replaces one that no record names), and another job's record of this split is refused.
    made_here = (out / RECORD_DIR).is_dir()
    check_output_dir(out, cfg.overwrite or made_here, inputs)
    return plans


@dataclass
class Synthesized:
    """What a synth job made, run by run (the CLI draws it as the summary table)."""

    out: Path
    runs: list[tuple[Plan, Result]]

    def lossy(self) -> list[str]:
        """Each step that changed the recipe's samples on the way to another layout, once."""
        return list(dict.fromkeys(n for plan, _ in self.runs if plan.route for n in plan.route.lossy))

    def problems(self) -> list[str]:
        """Failed ids (the first ten of each run) and runs that made nothing, each as one line."""
        out = [f"{plan.recipe.name} id {i}: {message}" for plan, result in self.runs for i, message in result.failed[:10]]
        for plan, result in self.runs:
            if plan.ids() and not result.written and not result.skipped:
                why = f"; e.g. {result.why_rejected}" if result.why_rejected else " (are the inputs large enough for the recipe's rules?)"
                out.append(
                    f"{plan.recipe.name} made nothing for split {plan.split}: {len(result.rejected)} id(s) rejected "
                    f"after {plan.attempts} draws each" + why
                )
        return out
