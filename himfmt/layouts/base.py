"""What every layout module provides, and helpers they share.

A layout knows three things about its trees: how to recognise one
(:meth:`Layout.detect`, by declared requirements with a score), how to read one
into the common model without decoding (:meth:`Layout.read`), and where each
piece of a sample goes when writing one (:meth:`Layout.plan`).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any, Callable, ClassVar, NamedTuple, Union

from ..io.images import is_image_name
from ..io.tree import Tree, join
from ..model import Dataset, Frame, Instance, Media, Sample

# Names MaGGIe and its users give the matte folder; the first one present wins.
ALPHA_DIR_NAMES = ("alphas", "pha", "alpha", "mattes", "matte")
# Folders beside the alpha dir that are not mask dirs: the layers MaGGIe's image
# synthesizer writes, and per-instance trimaps (``himfmt masks kind=trimap``).
TRIMAP_DIR = "trimap"
LAYER_DIRS = ("fg", "bg", TRIMAP_DIR)


@dataclass
class Probe:
    """How well one directory meets a layout's requirements."""

    met: int
    total: int
    missing: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def score(self) -> float:
        return self.met / self.total if self.total else 0.0


@dataclass
class Match:
    """A layout recognised (fully or in part) at ``path`` of a tree."""

    layout: str
    path: str
    splits: dict[str, str]  # split name -> its path relative to the tree root
    score: float
    missing: list[str] = field(default_factory=list)
    claims: list[str] = field(default_factory=list)  # dirs that belong to this dataset
    details: dict[str, Any] = field(default_factory=dict)  # per split: alpha_dir, mask_dirs...

    @property
    def complete(self) -> bool:
        return not self.missing


class OutFile(NamedTuple):
    """One file a writer must produce: where, from what, read as colour or grey.

    ``gray3`` writes a grey picture as 3 equal channels (DVM's alpha JPEGs).
    """

    path: str
    media: Media
    gray: bool
    gray3: bool = False


class OutStream(NamedTuple):
    """One video file made of many pictures, encoded frame by frame."""

    path: str
    frames: list[Media]
    gray: bool
    fps: float = 25.0


class OutText(NamedTuple):
    """A small text file (a pair list)."""

    path: str
    text: str


Planned = Union[OutFile, OutStream, OutText]


@dataclass
class WriteOptions:
    """How a layout writes: folder names and optional extras."""

    alpha_dir: str = "alphas"
    png_alpha: bool = False  # dvm_composed: keep a lossless PNG copy of the JPEG alpha
    trimap: tuple[int, int] | None = None  # (kernel, iterations) of DVM's trimap recipe


class Layout(ABC):
    name: ClassVar[str]
    kind: ClassVar[str]  # 'image' or 'video'
    description: ClassVar[str]
    # Lower runs later and loses ties (bg_images matches almost any image folder).
    priority: ClassVar[int] = 10
    # Default folder names used when writing.
    default_alpha_dir: ClassVar[str | None] = "alphas"
    # False when every split's samples share one namespace on disk (a split name is not part of the path).
    named_splits: ClassVar[bool] = True

    @abstractmethod
    def detect(self, tree: Tree, rel: str) -> Match | None:
        """Match ``rel`` (fully, or in part with what is missing), or None if unrelated."""

    @abstractmethod
    def read(self, tree: Tree, match: Match) -> Dataset:
        """The matched dataset as the common model, from listings only."""

    @abstractmethod
    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        """Files to write for one sample, paths relative to the output root."""

    def plan_extra(self, dataset: Dataset, split_paths: dict[str, str]) -> list[Planned]:
        """Files that belong to the dataset rather than to one sample (none by default)."""
        return []


def split_name(tree: Tree, rel: str) -> str:
    """A split's name: its folder's, or the tree's (an archive's without ``.zip``) when it is the root."""
    if rel:
        return rel.rsplit("/", 1)[-1]
    name = tree.root.name
    return name[:-4] if tree.is_archive and name.lower().endswith(".zip") else name


def detect_split_container(
    layout: str, tree: Tree, rel: str, probe: Callable[[Tree, str], Probe | None]
) -> Match | None:
    """Match ``rel`` as one split (it meets ``probe`` itself) or as a root of splits.

    MaGGIe's loaders take ``root_dir`` plus ``split``; users point himfmt at
    either level, so both are accepted. Returns the best partial match when no
    level is complete, so detection can say what was missing.
    """
    own = probe(tree, rel)
    if own is not None and own.complete:
        name = split_name(tree, rel)
        return Match(layout, rel, {name: rel}, 1.0, claims=[rel], details={name: own.details})
    splits: dict[str, str] = {}
    details: dict[str, Any] = {}
    best_partial: tuple[Probe, str] | None = (own, rel) if own is not None else None
    for child in tree.dirs(rel):
        if is_hidden(child):  # .git, .himfmt, a demo's .previews: never a split
            continue
        crel = join(rel, child)
        p = probe(tree, crel)
        if p is None:
            continue
        if p.complete:
            splits[child] = crel
            details[child] = p.details
        elif best_partial is None or p.score > best_partial[0].score:
            best_partial = (p, crel)
    if splits:
        return Match(layout, rel, splits, 1.0, claims=list(splits.values()), details=details)
    if best_partial is not None:
        p, where = best_partial
        return Match(layout, where, {}, p.score, missing=p.missing, claims=[where])
    return None


def image_stems(tree: Tree, rel: str) -> dict[str, str]:
    """Image files of a folder by stem (stem -> file name); non-images are skipped."""
    out: dict[str, str] = {}
    for name in tree.files(rel):
        if is_image_name(name) and not name.startswith("._"):  # macOS AppleDouble files are metadata, not images
            out.setdefault(name.rsplit(".", 1)[0], name)
    return out


def stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name[1:] else name


def is_hidden(name: str) -> bool:
    return name.startswith(".")


def instance_dirs(tree: Tree, split_rel: str, stems: set[str], exclude: tuple[str, ...]) -> list[str]:
    """Folders of ``split_rel`` whose sub-folders are named after images (alpha or mask dirs)."""
    found = []
    for d in tree.dirs(split_rel):
        if d in exclude or is_hidden(d):
            continue
        sub = tree.dirs(join(split_rel, d))
        if any(s in stems for s in sub):
            found.append(d)
    return found


def pick_alpha_dir(candidates: list[str]) -> tuple[str | None, list[str]]:
    """Split candidate instance folders into (alpha dir, mask dirs) by name."""
    if not candidates:
        return None, []
    alpha = next((n for n in ALPHA_DIR_NAMES if n in candidates), None)
    if alpha is None:
        plain = [c for c in candidates if "mask" not in c.lower() and c.lower() != "xmem"]
        alpha = plain[0] if plain else None
    masks = [c for c in candidates if c != alpha]
    return alpha, masks


def mask_path(matte_path: str, alpha_dir: str, source: str) -> str:
    """Where MaGGIe looks for a matte's mask: the (last) alpha dir component replaced by the source.

    Masks and trimaps are written there too, so each is named like its matte.
    """
    parts = matte_path.split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == alpha_dir:
            parts[i] = source
            return "/".join(parts)
    return matte_path


def instance_names(names: list[str]) -> tuple[list[str], list[str]]:
    """Split a listing of an instance folder into (.png instance files, stray names).

    Order is the loaders' ``sorted(glob('*.png'))``: plain lexicographic order.
    """
    pngs = [n for n in names if n.endswith(".png") and not is_hidden(n)]
    stray = [n for n in names if not (n.endswith(".png") and not is_hidden(n))]
    return pngs, stray


def canonical_instance_name(k: int) -> str:
    return f"{k:02d}"


def read_instances(
    tree: Tree,
    alpha_rel: str,
    mask_rels: dict[str, str],
    dataset: Dataset,
) -> list[Instance]:
    """Instances of one image or frame from its alpha folder, masks paired by file name.

    ``mask_rels`` maps mask source name -> the matching folder. Non-PNG files go
    to ``dataset.stray``; masks without a same-named matte go to
    ``dataset.meta['unpaired_masks']`` (MaGGIe's val loader would crash on them).
    """
    from ..model import FileRef

    pngs, bad = instance_names(tree.names(alpha_rel))
    if bad:
        dataset.stray.extend(join(alpha_rel, b) for b in bad)
    instances = [Instance(stem(n), FileRef(tree, join(alpha_rel, n))) for n in pngs]
    for source, mrel in mask_rels.items():
        mnames = tree.names(mrel)
        if not mnames:
            continue
        mpngs, mbad = instance_names(mnames)
        if mbad:
            dataset.stray.extend(join(mrel, b) for b in mbad)
        have = set(mpngs)
        for inst, n in zip(instances, pngs):
            if n in have:
                inst.masks[source] = FileRef(tree, join(mrel, n))
        extra = have.difference(pngs)
        if extra:
            dataset.meta.setdefault("unpaired_masks", []).extend(join(mrel, n) for n in sorted(extra))
    for inst in instances:  # the trimap dir is read like a mask dir, then moved to its own field
        inst.trimap = inst.masks.pop(TRIMAP_DIR, None)
    return instances


def with_trimaps(mask_dirs: list[str], tree: Tree, rel: str) -> list[str]:
    """The mask dirs to read, plus the trimap dir when ``rel`` has one."""
    return [*mask_dirs, TRIMAP_DIR] if TRIMAP_DIR in tree.dirs(rel) else list(mask_dirs)


def plan_instances(sample_frame: Frame, alpha_dir: str, inst_path: Callable[[str], str]) -> list[OutFile]:
    """Mattes, masks and per-instance fg layers of one frame, renamed ``NN.png``.

    ``inst_path(folder)`` gives the frame's instance folder inside ``folder``
    (the alpha dir, a mask dir, or ``fg``).
    """
    out: list[OutFile] = []
    for k, inst in enumerate(sample_frame.instances):
        nn = canonical_instance_name(k)
        if inst.matte is not None:
            out.append(OutFile(join(inst_path(alpha_dir), nn + ".png"), inst.matte, True))
        for source, mask in inst.masks.items():
            out.append(OutFile(join(inst_path(source), nn + ".png"), mask, True))
        if inst.fg is not None:
            out.append(OutFile(join(inst_path("fg"), nn + ".jpg"), inst.fg, False))
        if inst.trimap is not None:
            out.append(OutFile(join(inst_path(TRIMAP_DIR), nn + ".png"), inst.trimap, True))
    return out
