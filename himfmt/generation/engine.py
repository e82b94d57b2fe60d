"""Filling a dataset: the plan (what is there, what will be made) and the actions that carry it out.

:mod:`himfmt.generation.splits` reads a dataset config into declared splits and inspects
each; here a :class:`FillPlan` is made from those states (a dry run prints
it) and :class:`Filler` carries it out: kit trees, conversions and recipes,
then mask sets and trimaps, each resuming what an earlier run left.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf

from himfmt.composition import compose_config, normalize
from himfmt.conversion.job import Job, convert, planned_paths
from himfmt.demo.build import KIT
from himfmt.derived import sets as derived
from himfmt.derived.masks import MaskParams
from himfmt.derived.sets import spec_from
from himfmt.errors import HimfmtError
from himfmt.feedback import SILENT, Voice
from himfmt.generation.splits import LEAVE, Entry, Expected, State, action, entries, inspect, open_split, preflight, resolve, shared_sources
from himfmt.io.files import remove_tmp_files
from himfmt.io.pool import worker_count
from himfmt.io.records import record_tree
from himfmt.synthesis.inputs import read_as
from himfmt.synthesis.jobs import job_keys, planned_counts, prepare, synthesize
from himfmt.synthesis.recipe import RecipeConfig
from himfmt.synthesis.runner import Plan, Result
from himfmt.synthesis.runner import run as run_plan
from himfmt.text import plural


def dataset_config(cfg: DictConfig) -> DictConfig:
    """The dataset section: ``dataset_file`` (a user YAML) or the ``dataset`` group entry, with ``out`` as its root."""
    if cfg.dataset_file:
        path = Path(str(cfg.dataset_file))
        if not path.is_file():
            raise HimfmtError("no such dataset config file", str(path))
        OmegaConf.set_struct(cfg, False)
        cfg.dataset = OmegaConf.load(path)
    elif cfg.get("dataset") is None:
        raise HimfmtError("dataset= is required: a dataset config (demo, dvm, maggie_him) or a YAML file")
    if cfg.out:
        OmegaConf.set_struct(cfg, False)
        cfg.dataset.root = str(cfg.out)
    if OmegaConf.is_missing(cfg.dataset, "root") or not cfg.dataset.get("root"):
        raise HimfmtError("out= is required: where the dataset lives")
    return cfg.dataset


def missing_sources(ds_cfg: DictConfig) -> dict[str, list[str]]:
    """Each source the config leaves to the user (``???``) and not given, with the splits that read it
    (directly, or through another source that defaults to it)."""
    sources = ds_cfg.get("sources")
    if not isinstance(sources, DictConfig):
        return {}
    raw_sources = {str(k): str(v) for k, v in OmegaConf.to_container(sources, resolve=False).items()}  # type: ignore[union-attr]
    raw_splits = {str(name): str(OmegaConf.to_container(s, resolve=False)) for name, s in (ds_cfg.get("splits") or {}).items()}
    out: dict[str, list[str]] = {}
    for k in raw_sources:
        if not OmegaConf.is_missing(sources, k):
            continue
        aliases = [k, *(a for a, v in raw_sources.items() if v == f"${{.{k}}}")]  # clips_test: ${.clips}
        out[k] = [name for name, text in raw_splits.items() if any(f"sources.{a}}}" in text for a in aliases)]
    return {k: splits for k, splits in out.items() if splits}


def sources_message(missing: dict[str, list[str]]) -> str:
    needs = "; ".join(f"dataset.sources.{k}=DIR (read by {', '.join(splits)})" for k, splits in missing.items())
    return f"this dataset config needs {len(missing)} source(s) you have not given: {needs}"


class Filler:
    """Runs the actions; knows the dataset config, the root and the run options."""

    def __init__(self, cfg: DictConfig, ds_cfg: DictConfig, root: Path, voice: Voice = SILENT) -> None:
        self.cfg, self.ds_cfg, self.root, self.voice = cfg, ds_cfg, root, voice
        self.workers = worker_count(cfg.workers)
        self.shard = (int(cfg.shard.index), int(cfg.shard.count))
        self.seed = int(ds_cfg.get("seed", 0))
        self._presets: dict[str, DictConfig] = {}
        self._synth: dict[str, DictConfig] = {}

    def mask_spec(self, source: str, preset: Any) -> derived.Spec:
        section = self._preset(str(preset)) if not isinstance(preset, dict) else OmegaConf.merge(self._preset("detector"), preset)
        params = OmegaConf.to_object(section)
        assert isinstance(params, MaskParams)
        return spec_from(self.seed, None, source, params)

    def _preset(self, name: str) -> DictConfig:
        if name not in self._presets:
            from hydra.errors import MissingConfigException

            try:
                self._presets[name] = compose_config("masks", [f"mask={name}", "root=."]).mask
            except MissingConfigException as exc:
                raise HimfmtError(f"unknown mask preset {name!r} ({str(exc).splitlines()[0]})") from None
        return self._presets[name]

    def make(self, e: Entry, st: State, act: str, by_name: dict[str, Entry]) -> int:
        """Bring one split to complete; returns the number of failures."""
        redo = frozenset(os.path.relpath(f, e.path) for f in st.bad_files if Path(f).is_relative_to(e.path))
        if redo and e.kind != "existing":
            self.voice.say(f"  {e.name}: {len(redo)} file(s) missing, changed or failing validation; they are made again")
        failed = 0
        if act != "add masks":
            if e.kind != "kit" or self.shard[0] == 0:  # a kit tree is small: shard 0 builds it
                failed += {"kit": self._kit, "convert": self._convert, "recipe": self._recipe}[e.kind](e, by_name, redo)
            if self.shard[1] > 1 and (e.masks or e.trimap):
                # Other shards are still writing samples: masks split by sample wait for the next sweep.
                self.voice.say(f"  {e.name}: masks and trimaps in the next sweep, once every shard's samples are there")
                return failed
        return failed + self._masks(e, frozenset(st.bad_derived))

    def _kit(self, e: Entry, by_name: dict[str, Entry], redo: frozenset[str]) -> int:
        name = str(e.source["kit"])
        if name not in KIT:
            raise HimfmtError(f"split {e.name}: unknown kit tree {name!r}; known: {', '.join(KIT)}")
        if e.samples is None:
            raise HimfmtError(f"split {e.name}: a kit tree needs its count (samples: N)")
        if e.path.is_dir():
            remove_tmp_files(e.path)  # a build killed half way left them
        KIT[name](e.path, self.seed, e.samples)
        record_tree(e.path, {"kit": name, "split": e.split, "seed": self.seed, "samples": e.samples})
        return 0

    def convert_job(self, e: Entry, by_name: dict[str, Entry]) -> Job | None:
        """The conversion that makes split ``e``; None while its source split is not there yet."""
        ref = str(e.source["convert"])
        if ref in by_name:
            ds, _ = open_split(by_name[ref])
            if ds is None:
                return None
            split_dir = Path(ds.tree.abspath(ds.splits[by_name[ref].split]))
            src = (
                split_dir
                if open_split(Entry(ref, ds.layout, split_dir, by_name[ref].split, None, "existing", {}))[0]
                else Path(ds.tree.abspath(ds.path))
            )
        else:
            src = resolve(self.root, ref)
            if not src.exists():
                return None
        return Job(
            str(src),
            str(e.path),
            e.layout,
            str(e.source.get("mode", "copy")),
            workers=self.workers,
            shard_index=self.shard[0],
            shard_count=self.shard[1],
        )

    def expected(self, e: Entry, by_name: dict[str, Entry]) -> Expected:
        """What a complete split holds: a conversion's files (every sample of its source), a recipe's job keys."""
        if e.kind == "recipe":
            return Expected(jobs=[k for k in job_keys(self.synth_config(e)) if k["split"] == e.split])
        job = self.convert_job(e, by_name) if e.kind == "convert" else None
        if job is None:
            return Expected()
        files, changed = planned_paths(job)
        return Expected(files=files, changed=changed)

    def _convert(self, e: Entry, by_name: dict[str, Entry], redo: frozenset[str]) -> int:
        job = self.convert_job(e, by_name)
        if job is None:
            raise HimfmtError(f"split {e.name} converts {e.source['convert']}, which is not there", str(e.path))
        with self.voice.progress(f"convert {e.name}") as bar:
            summary = convert(job, overwrite=True, progress=bar, redo=redo)
        return len(summary.failed)

    def synth_config(self, e: Entry) -> DictConfig:
        """The synth config of a recipe split (composed once): what the plan counts and the run runs."""
        if e.name not in self._synth:
            self._synth[e.name] = self._compose_synth(e)
        return self._synth[e.name]

    def _compose_synth(self, e: Entry) -> DictConfig:
        args = [
            f"recipe={e.source['recipe']}",
            f"out={e.path}",
            f"split={e.split}",
            f"layout={e.layout}",
            f"seed={self.seed}",
            f"workers={self.workers}",
            "overwrite=true",
            f"shard.index={self.shard[0]}",
            f"shard.count={self.shard[1]}",
        ]
        if e.samples is not None:
            args.append(f"n={e.samples}")
        args += [f"{k}={resolve(self.root, v)}" for k, v in (e.source.get("inputs") or {}).items() if v]
        args += [str(o) for o in e.source.get("overrides") or []]
        cfg = compose_config("synth", normalize("synth", args))
        if cfg.n is None and not cfg.runs:  # no count declared: the recipe's published one, said in the plan
            params: RecipeConfig = OmegaConf.to_object(cfg.recipe)  # type: ignore[assignment]
            cfg.n = params.count()
        return cfg

    def planned(self, e: Entry) -> int | None:
        """Samples the split will hold when made (None: its inputs decide)."""
        if e.kind != "recipe":
            return e.samples
        counts = [n for split, n in planned_counts(self.synth_config(e)) if split == e.split]
        return None if not counts or None in counts else sum(n for n in counts if n is not None)

    def _recipe(self, e: Entry, by_name: dict[str, Entry], redo: frozenset[str]) -> int:
        failed = 0
        for plan, result in synthesize(self.synth_config(e), redo, self._announced, protect=self.cfg.overwrite is not True):
            self.voice.say(
                f"  {e.name}: {plan.recipe.name} wrote {result.written}, kept {result.skipped}"
                + (f", rejected {len(result.rejected)}" if result.rejected else "")
            )
            for i, message in result.failed[:5]:
                self.voice.error(f"{e.name} id {i}: {message}")
            failed += len(result.failed)
        return failed

    def _announced(self, plan: Plan) -> Result:
        for line in read_as(plan.recipe):
            self.voice.say(f"  read {line}")
        return run_plan(plan)

    def check_recipe(self, e: Entry) -> None:
        """Build the split's recipe from its inputs as the run will (a dry run's input checks), and say what
        each input was read as."""
        for plan in prepare(self.synth_config(e), protect=self.cfg.overwrite is not True):
            for line in read_as(plan.recipe):
                self.voice.say(f"  {e.name}: read {line}")

    def _masks(self, e: Entry, redo: frozenset[str] = frozenset()) -> int:
        specs = [self.mask_spec(source, preset) for source, preset in e.masks.items()]
        if e.trimap:
            specs.append(derived.Spec("trimap", trimap=e.trimap))
        if not specs:
            return 0
        ds, _ = open_split(e)
        if ds is None:
            raise HimfmtError(f"split {e.name} was not made, so it has no mattes to derive masks from", str(e.path))
        failed = 0
        for spec in specs:
            with self.voice.progress(f"{spec.source or spec.kind} {e.name}") as bar:
                res = derived.write(ds, spec, [e.split], workers=self.workers, progress=bar, shard=self.shard, redo=redo)
            if res.written:
                self.voice.say(f"  {e.name}: {spec.source or spec.kind} wrote {res.written}")
            failed += len(res.failed)
        return failed


@dataclass
class FillPlan:
    """What fill found and will do: a dry run prints it, a run carries out exactly it."""

    name: str
    root: Path
    items: list[Entry]
    states: dict[str, State]
    acts: dict[str, str]
    planned: dict[str, int | None]  # samples each split holds once made (None: its inputs decide)

    @property
    def todo(self) -> list[Entry]:
        return [e for e in self.items if self.acts[e.name] not in ("keep", LEAVE)]

    @property
    def left(self) -> list[Entry]:
        """Splits that hold the user's files and would need work: fill leaves them alone."""
        return [e for e in self.items if self.acts[e.name] == LEAVE]

    def say_foreign(self, voice: Voice, overwrite: bool, dry_run: bool) -> None:
        """Each split holding files no himfmt record names: left alone, or (overwrite=true) replaced, file by
        file in a dry run."""
        for e in self.items:
            foreign = self.states[e.name].foreign
            if not foreign or self.acts[e.name] == "keep":
                continue
            if not overwrite:
                voice.warn(
                    f"{e.name}: {plural(len(foreign), 'file')} not made by himfmt; left alone "
                    f"(e.g. {foreign[0]}; overwrite=true lets fill replace them)"
                )
                continue
            voice.warn(f"{e.name}: {plural(len(foreign), 'file')} not made by himfmt may be replaced (overwrite=true)")
            for rel in foreign if dry_run else []:
                voice.say(f"  may replace: {e.path / rel}")


def make_plan(cfg: DictConfig, filler: Filler, ds_cfg: DictConfig, root: Path) -> FillPlan:
    items = entries(ds_cfg, root)
    by_name = {e.name: e for e in items}
    with filler.voice.status("inspecting the declared splits"):
        states = {e.name: inspect(e, cfg.deep, filler.workers, filler.mask_spec, filler.expected(e, by_name)) for e in items}
    planned = {e.name: filler.planned(e) for e in items}
    for e in items:
        if e.samples is not None and planned[e.name] is not None and planned[e.name] != e.samples:
            raise HimfmtError(f"split {e.name} declares {e.samples} samples, but its recipe would make {planned[e.name]}")
    return FillPlan(
        str(ds_cfg.get("name", "dataset")), root, items, states, {e.name: action(e, states[e.name], cfg.overwrite) for e in items}, planned
    )


def fill(cfg: DictConfig, voice: Voice = SILENT) -> tuple[int, int]:
    """Fill the configured dataset; returns (splits made, or to make in a dry run; failures). ``voice`` says
    the plan, the steps and the outcome (nothing is printed by default)."""
    ds_cfg = dataset_config(cfg)
    missing = missing_sources(ds_cfg)
    if missing and not cfg.dry_run:
        raise HimfmtError(sources_message(missing) + "; dry_run=true shows the plan without them")
    for k in missing:  # a dry run still shows the plan: these splits read a folder that is not there
        ds_cfg.sources[k] = f"/(not given) dataset.sources.{k}"
    root = Path(str(ds_cfg.root)).resolve()
    filler = Filler(cfg, ds_cfg, root, voice)
    plan = _shown_plan(cfg, filler, ds_cfg, root, bool(missing))
    todo, left = plan.todo, len(plan.left)
    if not todo:
        filler.voice.say(
            f"nothing to do: all {len(plan.items)} splits are complete"
            if not left
            else f"nothing done: {plural(left, 'split')} left alone, the others are complete"
        )
        return 0, left
    if missing:
        raise HimfmtError(sources_message(missing))
    preflight(plan.items, plan.states, plan.acts, root)
    if cfg.dry_run:
        for e in todo:  # every input check the run makes, where the input is there already
            if e.kind == "recipe" and not any(plan.acts[n] != "keep" for n in e.needs):
                filler.check_recipe(e)
        filler.voice.say(f"dry run: {len(todo)} split(s) would be made; nothing written")
        return len(todo), left
    return _carry_out(cfg, filler, plan, todo, left)


def _carry_out(cfg: DictConfig, filler: Filler, plan: FillPlan, todo: list[Entry], left: int) -> tuple[int, int]:
    """Make each split of the plan that is not complete, in order; a complete split that reads one made
    now is inspected again first (its source changed under it). Then inspect what was made."""
    sharded = filler.shard[1] > 1
    todo = _ready(plan, todo, filler.voice) if sharded else todo
    by_name = {e.name: e for e in plan.items}
    failed, made = 0, list[Entry]()
    for e in plan.items:
        if e not in todo and (sharded or not _recheck(cfg, filler, plan, e, {m.name for m in made}, by_name)):
            continue
        filler.voice.say(f"{plan.acts[e.name]}: {e.name}" + (f" (shard {filler.shard[0]} of {filler.shard[1]})" if sharded else ""))
        failed += filler.make(e, plan.states[e.name], plan.acts[e.name], by_name)
        made.append(e)
    if sharded:  # the other shards' parts are not there yet: the sweep's end checks the whole
        return len(made), left + failed
    return len(made), left + failed + _still_incomplete(cfg, filler, made, by_name, failed)


def _recheck(cfg: DictConfig, filler: Filler, plan: FillPlan, e: Entry, made: set[str], by_name: dict[str, Entry]) -> bool:
    """Whether a split planned as kept must be made after all: it reads a split made in this run, and
    inspected again it is no longer complete (the plan is updated)."""
    if plan.acts[e.name] != "keep" or not made & set(e.needs):
        return False
    st = inspect(e, cfg.deep, filler.workers, filler.mask_spec, filler.expected(e, by_name))
    act = action(e, st, cfg.overwrite)
    if act in ("keep", LEAVE) or act.startswith("stop"):
        return False
    plan.states[e.name], plan.acts[e.name] = st, act
    return True


def _shown_plan(cfg: DictConfig, filler: Filler, ds_cfg: DictConfig, root: Path, missing: bool) -> FillPlan:
    """The plan, printed with its warnings: test splits sharing training sources, the user's files."""
    plan = make_plan(cfg, filler, ds_cfg, root)
    filler.voice.show(plan)
    if not ds_cfg.get("allow_shared_sources", False) and not missing:  # placeholders would all look shared
        for warning in shared_sources(plan.items, root):
            filler.voice.warn(warning)
    plan.say_foreign(filler.voice, cfg.overwrite, cfg.dry_run)
    return plan


def _ready(plan: FillPlan, todo: list[Entry], voice: Voice) -> list[Entry]:
    """Shards cannot wait for each other: a split whose inputs are still being made waits for the next sweep."""
    waiting = [e for e in todo if any(plan.states[n].state != "complete" for n in e.needs)]
    for e in waiting:
        voice.say(f"waits: {e.name} reads {', '.join(e.needs)}, not complete yet; run the sweep again once it is")
    return [e for e in todo if e not in waiting]


def _still_incomplete(cfg: DictConfig, filler: Filler, made: list[Entry], by_name: dict[str, Entry], failed: int) -> int:
    """Inspect what was made again; say which splits are still not complete, and return how many."""
    after = {e.name: inspect(e, cfg.deep, filler.workers, filler.mask_spec, filler.expected(e, by_name)) for e in made}
    incomplete = [e.name for e in made if after[e.name].state != "complete"]
    for n in incomplete:
        filler.voice.error(f"split {n} is still {after[n].text}")
    filler.voice.say(f"made {len(made) - len(incomplete)} of {len(made)} split(s)" + (f"; {failed} sample(s) failed" if failed else ""))
    return len(incomplete)
