"""``himfmt fill``: make whatever a dataset config declares and the disk lacks."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from omegaconf import DictConfig, OmegaConf
from rich.table import Table

from .. import console, derived
from ..cli import normalize
from ..convert import Job, convert
from ..demo.build import KIT
from ..errors import HimfmtError
from ..fill import Entry, State, action, entries, inspect, open_split, preflight, remove_bad_files, resolve
from .masks_cmd import spec_from
from .synth_cmd import synthesize

SUMMARY = "make what a dataset config declares and the disk lacks: dataset=NAME|FILE.yaml [out=DIR] [dry_run=true]"


def dataset_config(cfg: DictConfig) -> DictConfig:
    """The dataset section: ``dataset_file`` (a user YAML) or the ``dataset`` group entry, with ``out`` as its root."""
    if cfg.dataset_file:
        path = Path(str(cfg.dataset_file))
        if not path.is_file():
            raise HimfmtError("no such dataset config file", str(path))
        OmegaConf.set_struct(cfg, False)
        cfg.dataset = OmegaConf.load(path)
    if cfg.out:
        OmegaConf.set_struct(cfg, False)
        cfg.dataset.root = str(cfg.out)
    if OmegaConf.is_missing(cfg.dataset, "root") or not cfg.dataset.get("root"):
        raise HimfmtError("out= is required: where the dataset lives")
    return cfg.dataset


class Filler:
    """Runs the actions; knows the dataset config, the root and the run options."""

    def __init__(self, cfg: DictConfig, ds_cfg: DictConfig, root: Path) -> None:
        self.cfg, self.ds_cfg, self.root = cfg, ds_cfg, root
        self.workers = int(cfg.workers) or (os.cpu_count() or 1)
        self.shard = (int(cfg.shard.index), int(cfg.shard.count))
        self.seed = int(ds_cfg.get("seed", 0))
        self._presets: dict[str, DictConfig] = {}

    def mask_spec(self, source: str, preset: Any) -> derived.Spec:
        if isinstance(preset, dict):
            section = OmegaConf.merge(self._preset("detector"), preset)
        else:
            section = self._preset(str(preset))
        return spec_from(OmegaConf.create({"seed": self.seed}), source, section)

    def _preset(self, name: str) -> DictConfig:
        if name not in self._presets:
            from hydra import compose
            from hydra.errors import MissingConfigException

            try:
                self._presets[name] = compose("masks", [f"mask={name}", "root=."]).mask
            except MissingConfigException as exc:
                raise HimfmtError(f"unknown mask preset {name!r} ({str(exc).splitlines()[0]})") from None
        return self._presets[name]

    def make(self, e: Entry, st: State, by_name: dict[str, Entry]) -> int:
        """Bring one split to complete; returns the number of failures."""
        act = action(e, st)
        if st.bad_files and e.kind != "existing":
            removed = remove_bad_files(e, st.bad_files)
            console.out.print(f"  {e.name}: removed {removed} file(s) that failed validation; they are made again")
        failed = 0
        if act != "add masks":
            if e.kind != "kit" or self.shard[0] == 0:  # a kit tree is small: shard 0 builds it
                failed += {"kit": self._kit, "convert": self._convert, "recipe": self._recipe}[e.kind](e, by_name)
            if self.shard[1] > 1 and (e.masks or e.trimap):
                # Other shards are still writing samples: masks split by sample wait for the next sweep.
                console.out.print(f"  {e.name}: masks and trimaps in the next sweep, once every shard's samples are there")
                return failed
        return failed + self._masks(e)

    def _kit(self, e: Entry, by_name: dict[str, Entry]) -> int:
        name = str(e.source["kit"])
        if name not in KIT:
            raise HimfmtError(f"split {e.name}: unknown kit tree {name!r}; known: {', '.join(KIT)}")
        KIT[name](e.path, self.seed)
        return 0

    def _convert(self, e: Entry, by_name: dict[str, Entry]) -> int:
        ref = str(e.source["convert"])
        if ref in by_name:
            ds, _ = open_split(by_name[ref])
            if ds is None:
                raise HimfmtError(f"split {e.name} converts split {ref}, which is not there", str(by_name[ref].path))
            split_dir = Path(ds.tree.abspath(ds.splits[by_name[ref].split]))
            src = split_dir if open_split(Entry(ref, ds.layout, split_dir, by_name[ref].split, None, "existing", {}))[0] else Path(ds.tree.abspath(ds.path))
        else:
            src = resolve(self.root, ref)
        with console.progress(f"convert {e.name}") as bar:
            summary = convert(Job(str(src), str(e.path), e.layout, str(e.source.get("mode", "copy")), workers=self.workers,
                                  shard_index=self.shard[0], shard_count=self.shard[1]), overwrite=True, progress=bar)
        return len(summary.failed)

    def _recipe(self, e: Entry, by_name: dict[str, Entry]) -> int:
        from hydra import compose

        args = [f"recipe={e.source['recipe']}", f"out={e.path}", f"split={e.split}", f"layout={e.layout}",
                f"seed={self.seed}", f"workers={self.workers}", "overwrite=true",
                f"shard.index={self.shard[0]}", f"shard.count={self.shard[1]}"]
        if e.samples is not None:
            args.append(f"n={e.samples}")
        args += [f"{k}={resolve(self.root, v)}" for k, v in (e.source.get("inputs") or {}).items() if v]
        args += [str(o) for o in e.source.get("overrides") or []]
        failed = 0
        for plan, result in synthesize(compose("synth", normalize("synth", args))):
            console.out.print(f"  {e.name}: {plan.recipe.name} wrote {result.written}, kept {result.skipped}"
                              + (f", rejected {len(result.rejected)}" if result.rejected else ""))
            for i, message in result.failed[:5]:
                console.error(f"{e.name} id {i}: {message}")
            failed += len(result.failed)
        return failed

    def _masks(self, e: Entry) -> int:
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
            with console.progress(f"{spec.source or spec.kind} {e.name}") as bar:
                res = derived.write(ds, spec, [e.split], workers=self.workers, progress=bar, shard=self.shard)
            if res.written:
                console.out.print(f"  {e.name}: {spec.source or spec.kind} wrote {res.written}")
            failed += len(res.failed)
        return failed


def plan_table(title: str, root: Path, items: list[Entry], states: dict[str, State], acts: dict[str, str]) -> Table:
    table = Table(title=title)
    for col in ("split", "layout", "where", "from", "samples", "state", "action"):
        table.add_column(col, overflow="fold")
    for e in items:
        st = states[e.name]
        where = os.path.relpath(e.path, root)
        samples = f"{st.have}/{e.samples}" if e.samples is not None else str(st.have)
        table.add_row(e.name, e.layout, where, f"{e.kind} {e.source.get(e.kind)}", samples, st.text, acts[e.name])
    return table


def fill(cfg: DictConfig) -> tuple[int, int]:
    """Fill the configured dataset; returns (splits made, or to make in a dry run; failures)."""
    ds_cfg = dataset_config(cfg)
    root = Path(str(ds_cfg.root)).expanduser().resolve()
    items = entries(ds_cfg, root)
    by_name = {e.name: e for e in items}
    filler = Filler(cfg, ds_cfg, root)
    deep, workers = bool(cfg.deep), filler.workers
    with console.err.status("inspecting the declared splits"):
        states = {e.name: inspect(e, deep, workers, filler.mask_spec) for e in items}
    acts = {e.name: action(e, states[e.name]) for e in items}
    name = ds_cfg.get("name", "dataset")
    console.out.print(plan_table(f"himfmt fill {name} in {root}", root, items, states, acts))
    todo = [e for e in items if acts[e.name] != "keep"]
    if not todo:
        console.out.print(f"nothing to do: all {len(items)} splits are complete")
        return 0, 0
    preflight(items, states, root)
    if cfg.dry_run:
        console.out.print(f"dry run: {len(todo)} split(s) would be made; nothing written")
        return len(todo), 0
    sharded = filler.shard[1] > 1
    if sharded:  # shards cannot wait for each other: a split whose inputs are still being made waits for the next sweep
        waiting = [e for e in todo if any(states[n].state != "complete" for n in e.needs)]
        for e in waiting:
            console.out.print(f"waits: {e.name} reads {', '.join(e.needs)}, not complete yet; run the sweep again once it is")
        todo = [e for e in todo if e not in waiting]
    failed = 0
    for e in todo:
        console.out.print(f"{acts[e.name]}: {e.name}" + (f" (shard {filler.shard[0]} of {filler.shard[1]})" if sharded else ""))
        failed += filler.make(e, states[e.name], by_name)
    if sharded:  # the other shards' parts are not there yet: the sweep's end checks the whole
        return len(todo), failed
    after = {e.name: inspect(e, deep, workers, filler.mask_spec) for e in todo}
    incomplete = [e.name for e in todo if after[e.name].state != "complete"]
    for n in incomplete:
        console.error(f"split {n} is still {after[n].text}")
    console.out.print(f"made {len(todo) - len(incomplete)} of {len(todo)} split(s)"
                      + (f"; {failed} sample(s) failed" if failed else ""))
    return len(todo), failed + len(incomplete)


def run(cfg: DictConfig) -> int:
    _, failed = fill(cfg)
    return 1 if failed else 0
