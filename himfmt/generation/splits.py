"""``fill``: a dataset config says what a dataset must contain; make whatever is missing.

A dataset config (``conf/dataset/<name>.yaml`` or any YAML file) names the
dataset root and its splits. Each split has a layout, a place (``path``, the
layout's tree inside the root, and ``split``, its name there), a sample count,
where it comes from (``from``: a ``kit`` tree of the demo, an ``existing``
tree, a ``convert`` of another split or folder, or a ``recipe`` with inputs
and overrides) and the derived data it needs (``masks``: mask dir -> preset,
``trimap``).

Filling is plan, then actions. Each split is inspected with the validator
(missing; incomplete: fewer samples than declared, a file of a converted
source missing, errors, or a mask set not complete; or complete), splits are
ordered so that a split comes after the splits it reads, and only what is not
complete is made: a recipe or a conversion resumes from its record and makes
again the files that failed validation (each replaced by its new version; a
repair deletes nothing first), a kit tree is rebuilt, masks are added where
they are missing. Existing trees are never written to, except for the mask
sets declared on them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable

from omegaconf import DictConfig, OmegaConf

from himfmt.derived import sets as derived
from himfmt.errors import HimfmtError
from himfmt.io.tree import Tree
from himfmt.layouts import get_layout
from himfmt.layouts.detect import detect
from himfmt.model import Dataset
from himfmt.text import plural
from himfmt.validation import deep as deep_pass
from himfmt.validation import structure
from himfmt.validation.ownership import Ownership, of_split

KINDS = ("kit", "existing", "convert", "recipe")


@dataclass
class Entry:
    """One declared split."""

    name: str
    layout: str
    path: Path  # the layout's tree (absolute)
    split: str
    samples: int | None
    kind: str
    source: dict[str, Any]  # the ``from`` section
    masks: dict[str, Any] = field(default_factory=dict)  # mask dir -> preset name or parameters
    trimap: tuple[int, int] | None = None
    needs: list[str] = field(default_factory=list)  # names of the splits this one reads
    role: str | None = None  # train | test: test splits must not be made from training splits' sources

    def inputs(self, root: Path) -> list[Path]:
        """Folders this split reads from (the recipe's inputs, a conversion's source path)."""
        if self.kind == "recipe":
            return [resolve(root, v) for v in (self.source.get("inputs") or {}).values() if v]
        if self.kind == "convert" and ("/" in str(self.source["convert"]) or os.sep in str(self.source["convert"])):
            return [resolve(root, self.source["convert"])]
        return []


@dataclass
class Expected:
    """What the config says a complete split holds, where it can be known without making it."""

    files: set[str] | None = None  # a conversion's output files (relative to the split's path)
    jobs: list[dict[str, Any]] | None = None  # a recipe's job keys now: a record of another job is stale
    changed: int = 0  # samples a conversion wrote from source files that changed since


@dataclass
class State:
    state: str  # missing | incomplete | complete
    have: int = 0
    reasons: list[str] = field(default_factory=list)
    bad_files: list[str] = field(default_factory=list)  # absolute paths of files with errors
    missing_files: int = 0  # files its source holds that are not there
    masks_missing: dict[str, int] = field(default_factory=dict)
    foreign: list[str] = field(default_factory=list)  # its files that no himfmt record names (the user's)
    bad_derived: list[str] = field(default_factory=list)  # mask or trimap files made by himfmt, missing or changed
    stale: bool = False  # made again whole: another recipe job than the config's now, a kit build cut short

    @property
    def text(self) -> str:
        return self.state + (f": {'; '.join(self.reasons)}" if self.reasons else "")


def resolve(root: Path, value: Any) -> Path:
    p = Path(str(value))
    return p if p.is_absolute() else root / p


def _plain(node: Any) -> dict[str, Any]:
    return OmegaConf.to_container(node, resolve=True) if isinstance(node, DictConfig) else {}  # type: ignore[return-value]


def entry(name: str, s: DictConfig, root: Path) -> Entry:
    """One declared split, checked."""
    src = _plain(s.get("from"))
    kinds = [k for k in KINDS if k in src]
    if len(kinds) != 1:
        raise HimfmtError(f"split {name}: 'from' must have exactly one of {', '.join(KINDS)}, has {sorted(src) or 'nothing'}")
    get_layout(str(s.layout))
    path = resolve(root, s.get("path", ""))
    if path.resolve() != root and root not in path.resolve().parents:
        raise HimfmtError(
            f"split {name}: path {s.get('path')!r} leaves the dataset root {root}; fill writes only "
            "under out= (inputs may lie anywhere: they are only read)",
            str(path),
        )
    trimap = s.get("trimap")
    role = s.get("role")
    if role not in (None, "train", "test"):
        raise HimfmtError(f"split {name}: role must be train or test, not {role!r}")
    return Entry(
        name,
        str(s.layout),
        path,
        str(s.get("split") or name),
        None if s.get("samples") is None else int(s.samples),
        kinds[0],
        src,
        _plain(s.get("masks")),
        tuple(trimap) if trimap else None,
        role=role,
    )


def _reads(e: Entry, others: list[Entry], root: Path) -> list[str]:
    """Names of the splits ``e`` reads: the one it converts, and those its inputs lie in (or around)."""
    needs = [str(e.source["convert"])] if e.kind == "convert" and str(e.source["convert"]) in {o.name for o in others} else []
    for p in e.inputs(root):
        needs += [
            o.name for o in others if o is not e and (p == o.path or o.path in p.parents or p in o.path.parents) and o.name not in needs
        ]
    return needs


def entries(cfg: DictConfig, root: Path) -> list[Entry]:
    """The declared splits, checked, in dependency order."""
    if not cfg.get("splits"):
        raise HimfmtError(f"dataset config {cfg.get('name', '?')!r} declares no splits")
    out = [entry(str(name), s, root) for name, s in cfg.splits.items()]
    for e in out:
        e.needs = _reads(e, out, root)
    return _ordered(out)


def _ordered(items: list[Entry]) -> list[Entry]:
    """Declared order, moved only where a split must come after one it reads."""
    done: list[Entry] = []
    names: set[str] = set()
    pending = list(items)
    while pending:
        ready = next((e for e in pending if set(e.needs) <= names), None)
        if ready is None:
            raise HimfmtError("the splits read each other in a cycle: " + ", ".join(e.name for e in pending))
        pending.remove(ready)
        done.append(ready)
        names.add(ready.name)
    return done


def shared_sources(items: list[Entry], root: Path) -> list[str]:
    """Warnings for test splits made from a training split's sources (their samples would share people)."""
    out = []
    for test in (e for e in items if e.role == "test" and e.kind == "recipe"):
        for train in (e for e in items if e.role == "train" and e.kind == "recipe"):
            shared = sorted(str(p) for p in set(test.inputs(root)) & set(train.inputs(root)))
            if shared:
                out.append(
                    f"test split {test.name} is made from the sources of training split {train.name} "
                    f"({', '.join(shared)}): its people are in the training data; give it its own sources"
                )
    return out


def open_split(e: Entry) -> tuple[Dataset | None, list[Any]]:
    """The dataset holding the split, and the split's samples (None while there is none: never made,
    or cut short by a kill before a tree of its layout stood there)."""
    if not e.path.is_dir():
        return None, []
    try:
        found = detect(Tree(e.path), layout=e.layout)
    except HimfmtError:
        return None, []
    for ds in found.datasets():
        if e.split in ds.splits:
            return ds, [s for s in ds.samples if s.split == e.split]
    return None, []


def inspect(e: Entry, deep: bool, workers: int, mask_spec: Callable[[str, Any], derived.Spec], expected: Expected | None = None) -> State:
    """The split's state; ``expected``: what a complete split holds, where known."""
    ds, samples = open_split(e)
    own = of_split(e.path, e.split)
    damaged = own.damaged(e.path, deep)
    if ds is None:
        return State("missing", bad_files=[str(e.path / p) for p in damaged])
    st = State("complete", have=len(samples), foreign=own.foreign(samples) if e.kind != "existing" else [])
    _made_files(st, e, own, damaged, expected or Expected())
    _check_files(st, replace(ds, samples=samples, splits={e.split: ds.splits[e.split]}), deep, workers)
    if e.samples is not None and len(samples) < e.samples:
        st.reasons.append(f"{len(samples)} of {e.samples} samples")
    st.masks_missing = _derived_missing(e, ds, mask_spec)
    if st.masks_missing:
        st.reasons.append("missing " + ", ".join(f"{k} for {n} matte(s)" for k, n in st.masks_missing.items()))
    if st.reasons:
        st.state = "incomplete"
    if st.foreign:
        st.reasons.insert(0, f"{plural(len(st.foreign), 'file')} not made by himfmt")
    return st


def _made_files(st: State, e: Entry, own: Ownership, damaged: list[str], expected: Expected) -> None:
    """What the records say: files himfmt made that are missing or changed, a recipe job other than the
    config's now, a kit tree cut short, files a conversion's source holds that are not there."""
    _stale(st, own, expected)
    if damaged:
        st.reasons.append(f"{plural(len(damaged), 'file')} himfmt made missing or changed since, e.g. {damaged[0]}")
        st.bad_derived = [p for p in damaged if p in own.derived]
        st.bad_files = [str(e.path / p) for p in damaged if p not in own.derived]
    if e.kind == "kit" and not own.made:
        st.stale = True  # a kit tree's record is written once it is whole: built again
        st.reasons.append("its build did not finish")
    missing = sorted(p for p in expected.files or () if not (e.path / p).is_file())
    if missing:
        st.reasons.append(f"{len(missing)} file(s) of its source missing, e.g. {missing[0]}")
        st.missing_files = len(missing)


def _stale(st: State, own: Ownership, expected: Expected) -> None:
    """A recipe split recorded by another job than the config's now, or samples converted from changed files."""
    if expected.jobs is not None and any(job not in expected.jobs for job in own.jobs):
        st.stale = True
        st.reasons.append("made from inputs or settings that changed since (made again)")
    if expected.changed:
        st.stale = True
        st.reasons.append(f"{plural(expected.changed, 'sample')} converted from source files that changed since")


def _check_files(st: State, own: Dataset, deep: bool, workers: int) -> None:
    """Validate the split's own samples (ids repeat across splits); errors make it incomplete."""
    rep = structure(own, lambda n: None)
    if deep:
        deep_pass([(own, rep)], workers, lambda n: None)
    errors = [f for f in rep.findings if f.severity == "error"]
    if errors:
        st.reasons.append(f"{len(errors)} error(s), e.g. {errors[0].code} at {errors[0].path}")
        st.bad_files = sorted(set(st.bad_files) | {str(own.tree.root / f.path) for f in errors if (own.tree.root / f.path).is_file()})


def _derived_missing(e: Entry, ds: Dataset, mask_spec: Callable[[str, Any], derived.Spec]) -> dict[str, int]:
    """Mattes without their mask of each declared set (and without a trimap, when trimaps are declared)."""
    specs = {source: mask_spec(source, preset) for source, preset in e.masks.items()}
    if e.trimap:
        specs["trimap"] = derived.Spec("trimap", trimap=e.trimap)
    counts = {name: derived.missing(ds, spec, [e.split]) for name, spec in specs.items()}
    return {name: n for name, n in counts.items() if n}


LEAVE = "leave alone: not made by himfmt"


def action(e: Entry, st: State, overwrite: bool = False) -> str:
    """What fill does with a split in this state; a split holding files no himfmt record names is the
    user's, and fill touches nothing in it unless ``overwrite``."""
    act = _action(e, st)
    if act != "keep" and st.foreign and not overwrite:
        return LEAVE
    return act


def _action(e: Entry, st: State) -> str:
    if st.state == "complete":
        return "keep"
    sound = not st.bad_files and not st.missing_files and not st.stale and (e.samples is None or st.have >= e.samples)
    if e.kind == "existing":
        return "add masks" if st.state == "incomplete" and st.masks_missing and sound else "stop: fix it by hand"
    if st.state == "incomplete" and sound:
        return "add masks"
    how = {"kit": "build", "convert": "convert", "recipe": "synthesize"}[e.kind]
    return how if st.state == "missing" else f"repair ({how})"


def preflight(items: list[Entry], states: dict[str, State], acts: dict[str, str], root: Path) -> None:
    """Stop before anything is written when a split cannot be made: name the path."""
    for e in items:
        act = acts[e.name]
        if act.startswith("stop"):
            raise HimfmtError(
                f"split {e.name} comes from an existing tree that is {states[e.name].text}; fill never writes it", str(e.path)
            )
        if act not in ("keep", LEAVE):
            _check_inputs(e, items, root)


def _check_inputs(e: Entry, items: list[Entry], root: Path) -> None:
    """Every folder the split reads exists, or is made first by a split it reads."""
    made = [o.path for o in items if o.name in e.needs]
    for p in e.inputs(root):
        if not p.exists() and not any(p == d or d in p.parents or p in d.parents for d in made):
            raise HimfmtError(f"split {e.name} reads a folder that does not exist", str(p))
    if e.kind == "convert" and str(e.source["convert"]) not in {o.name for o in items} and not e.inputs(root):
        raise HimfmtError(f"split {e.name}: convert names {e.source['convert']!r}, which is neither a split of this config nor a folder")
