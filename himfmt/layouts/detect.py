"""Find every dataset under a root by the layouts' declared requirements.

Each layout scores each directory; complete matches win (higher layout
priority first), the directories they claim are not searched further, and
the rest of the tree is searched down to ``max_depth``. When nothing matches,
the closest partial matches say what they were missing. Two complete matches
of equal priority claiming the same directory are reported as ambiguous.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from himfmt.errors import HimfmtError
from himfmt.io.archive import open_tree
from himfmt.io.tree import Tree, join
from himfmt.layouts import LAYOUTS, Layout, Match, detect_safely, get_layout
from himfmt.layouts.base import BROKEN_TREE, is_hidden
from himfmt.model import Dataset


@dataclass
class Detection:
    tree: Tree
    matches: list[Match] = field(default_factory=list)
    near: list[Match] = field(default_factory=list)
    ambiguous: list[tuple[Match, Match]] = field(default_factory=list)

    def datasets(self) -> list[Dataset]:
        return [get_layout(m.layout).read(self.tree, m) for m in self.matches]

    def explain_nothing(self) -> str:
        return f"{self.tree.display('')}: {self.nothing_found()}"

    def nothing_found(self) -> str:
        """Why no dataset was found, and the closest layouts (without the root's path)."""
        if not self.near:
            return "no dataset found (no layout's requirements are met anywhere below it)"
        lines = ["no dataset found; closest:"]
        for m in sorted(self.near, key=lambda m: -m.score)[:5]:
            lines.append(f"  {m.layout} at {self.tree.display(m.path)}: {'; '.join(m.missing)}")
        return "\n".join(lines)


def _overlaps(a: str, b: str) -> bool:
    return a == b or a.startswith(b + "/") or b.startswith(a + "/") or a == "" or b == ""


def detect(tree: Tree, max_depth: int = 4, layout: str | None = None) -> Detection:
    """Detect datasets in ``tree``; with ``layout`` only that layout, at the root."""
    found = Detection(tree)
    if layout is not None:
        m = get_layout(layout).detect(tree, "")
        if m is None or not m.complete:
            why = "; ".join(m.missing) if m else "none of its requirements are met"
            raise HimfmtError(f"not a {layout} tree: {why}", tree.display(""))
        found.matches.append(m)
        return found
    order = sorted(LAYOUTS.values(), key=lambda lay: -lay.priority)
    _visit(tree, "", 0, max_depth, order, found)
    return found


def _matches_here(tree: Tree, rel: str, order: list[Layout], found: Detection) -> tuple[list[Match], list[Match]]:
    """Complete matches at ``rel`` (a later layout's that clashes with an earlier one's is dropped, or
    ambiguous at equal priority) and partial ones."""
    here: list[Match] = []
    partial: list[Match] = []
    for lay in order:
        if lay.name not in LAYOUTS:
            continue  # a plugin disabled since the order was made
        m = detect_safely(lay, tree, rel)
        if m is None or not m.complete:
            partial += [m] if m is not None else []
            continue
        clash = next((h for h in here if any(_overlaps(a, b) for a in m.claims for b in h.claims)), None)
        if clash is None:
            here.append(m)
        elif get_layout(clash.layout).priority == lay.priority:
            found.ambiguous.append((clash, m))
    return here, partial


def _outranked(here: list[Match], partial: list[Match]) -> list[Match]:
    """A half-met specific layout outranks a generic one (a bare images/ folder next to an empty
    alphas/ is a broken train split, not backgrounds)."""
    broken = [p for p in partial if p.score >= BROKEN_TREE]
    if not broken:
        return here
    top = max(get_layout(p.layout).priority for p in broken)
    return [m for m in here if get_layout(m.layout).priority >= top]


def _visit(tree: Tree, rel: str, depth: int, max_depth: int, order: list[Layout], found: Detection) -> None:
    here, partial = _matches_here(tree, rel, order, found)
    here = _outranked(here, partial)
    found.matches.extend(here)
    if not here and partial:
        found.near.extend(partial)
        if any(p.score >= BROKEN_TREE for p in partial):
            return  # a broken dataset: its parts are not datasets of their own
    claimed = [c for m in here for c in m.claims]
    if rel in claimed or depth >= max_depth:
        return
    for child in tree.dirs(rel):
        crel = join(rel, child)
        if not is_hidden(child) and not any(_overlaps(crel, c) for c in claimed):
            _visit(tree, crel, depth + 1, max_depth, order, found)


def open_datasets(root: str, layout: str | None = None) -> list[Dataset]:
    """Every dataset under ``root`` read into the common model (no pixels decoded)."""
    tree = open_tree(root)
    found = detect(tree, layout=layout)
    if not found.matches:
        raise HimfmtError(found.explain_nothing())
    return found.datasets()
