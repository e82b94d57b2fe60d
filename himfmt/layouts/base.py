"""What every layout module provides: recognising, reading and planning a tree, and what it holds.

A layout knows everything about its trees and nothing outside its module
knows its name: how to recognise one (:meth:`Layout.detect`, by declared
requirements with a score), how to read one into the common model without
decoding (:meth:`Layout.read`), where each piece of a sample goes when
writing one (:meth:`Layout.plan`), and what its trees can hold
(:class:`Holds`), from which conversion derives its routes. Layouts outside
himfmt register through the ``himfmt.layouts`` entry-point group.
"""

from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from importlib.resources import files
from typing import Any, Callable, ClassVar, NamedTuple, Union

import cv2
import numpy as np

from himfmt.errors import HimfmtError
from himfmt.io.images import is_image_name
from himfmt.io.tree import Tree, join
from himfmt.model import Dataset, FileRef, Media, Sample


class Holds(NamedTuple):
    """What a layout's trees hold; conversion routes are derived from these facts alone."""

    composites: bool  # images/frames are composites a matting model trains on
    instances: bool  # has mattes at all
    multi: bool  # several instances per sample
    video: bool  # samples are clips (frames over time)
    masks: bool  # can store guidance masks
    either: bool = False  # holds image and video samples alike (DVM's sources)
    layers: bool = False  # keeps foreground/background layers beside the composite (fg/, bg/; DVM's f/, b/)
    foregrounds: bool = False  # its pictures are people on their own (a source of people, not composites)
    backgrounds: bool = False  # keeps background clips of its own (DVM's bg/): a clip's bg layer goes there
    union: bool = False  # one matte per frame: several people become the union of their mattes (not one sample each)
    needs_masks: bool = False  # its loaders need guidance masks beside the mattes


# Which of two layouts that both fully match one folder wins: the one with a higher priority.
SPECIFIC = 10  # a layout with named folders of its own (images/ + alphas/, fgr/ + pha/, ...)
FALLBACK = 0  # a layout almost any folder of pictures meets (a flat folder of backgrounds)
# A folder meeting at least this share of a layout's requirements is a broken tree of that layout: reported
# with what it lacks, and its parts are not searched for other datasets.
BROKEN_TREE = 0.5

# One requirement of a probe: whether the folder meets it, and what is missing when it does not.
Requirement = tuple[bool, str]


@dataclass
class Probe:
    """How well one directory meets a layout's requirements."""

    met: int
    total: int
    missing: list[str] = field(default_factory=list)
    details: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def of(cls, requirements: list[Requirement], details: dict[str, Any] | None = None) -> "Probe":
        """The probe of declared requirements: each counts once, and each unmet one says what is missing."""
        missing = [what for met, what in requirements if not met]
        return cls(len(requirements) - len(missing), len(requirements), missing, details or {})

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


def trimap(alpha: np.ndarray, kernel: int = 3, iterations: int = 5) -> np.ndarray:
    """DVM's trimap: elliptic kernel, dilate and erode the alpha.

    255 where the eroded alpha is 255, 0 where the dilated alpha is 0, 128 elsewhere.
    """
    k = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (kernel, kernel))
    dilated = cv2.dilate(alpha, k, iterations=iterations)
    eroded = cv2.erode(alpha, k, iterations=iterations)
    out = np.full(alpha.shape, 128, np.uint8)
    out[eroded >= 255] = 255
    out[dilated <= 0] = 0
    return out


@dataclass
class WriteOptions:
    """How a layout writes: folder names and optional extras."""

    alpha_dir: str = "alphas"
    png_alpha: bool = False  # dvm_composed: keep a lossless PNG copy of the JPEG alpha
    trimap: tuple[int, int] | None = None  # (kernel, iterations) of DVM's trimap recipe


class Layout(ABC):
    """(the first line of a layout's docstring is its description in ``himfmt layouts``)"""

    name: ClassVar[str]
    holds: ClassVar[Holds]
    # Lower runs later and loses ties (a flat image folder matches almost any image folder).
    priority: ClassVar[int] = SPECIFIC
    # Default folder names used when writing.
    default_alpha_dir: ClassVar[str | None] = "alphas"
    # False when every split's samples share one namespace on disk (a split name is not part of the path).
    named_splits: ClassVar[bool] = True
    # What writing a tree of this layout from another layout always changes (listed by convert).
    write_losses: ClassVar[tuple[str, ...]] = ()
    # A plugin layout's own finding codes (code -> severity, meaning, breaks, fix), added to the catalog.
    findings: ClassVar[dict[str, dict[str, Any]]] = {}

    @property
    def kind(self) -> str:
        """'video' when its samples are clips, else 'image'."""
        return "video" if self.holds.video else "image"

    @property
    def description(self) -> str:
        return (type(self).__doc__ or self.name).strip().splitlines()[0]

    def detect(self, tree: Tree, rel: str) -> Match | None:
        """Match ``rel`` (fully, or in part with what is missing), or None if unrelated.

        By default ``rel`` is one split (it meets :meth:`probe`) or a root of such splits.
        """
        return detect_split_container(self.name, tree, rel, self.probe)

    def probe(self, tree: Tree, rel: str) -> Probe | None:
        """How well one folder meets this layout's requirements as a split (needed by the default detect)."""
        raise HimfmtError(f"layout {self.name} defines neither detect nor probe: a layout needs one of them")

    @abstractmethod
    def read(self, tree: Tree, match: Match) -> Dataset:
        """The matched dataset as the common model, from listings only."""

    @abstractmethod
    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        """Files to write for one sample, paths relative to the output root.

        ``split_path`` is what :meth:`split_folder` made of the sample's split.
        """

    def finish(self, dataset: Dataset, split_paths: dict[str, str]) -> list[Planned]:
        """Files that belong to the dataset rather than to one sample (none by default), planned once, after
        every sample: ``dataset`` holds the samples as this layout writes them (ids and splits as written,
        whatever layout they were read from), ``split_paths`` where each split went."""
        return []

    def unfinished(self, dataset: Dataset) -> list[str]:
        """What :meth:`finish` cannot write for ``dataset`` (read from another layout), each as one line."""
        return []

    def new_dataset(self, tree: Tree, match: Match, **fields: Any) -> Dataset:
        """An empty dataset of this layout where ``match`` found it."""
        return Dataset(self.name, tree, match.path, dict(match.splits), kind=self.kind, **fields)

    def split_folder(self, split: str) -> str:
        """Where a source split named ``split`` goes in a tree of this layout (its own name by default)."""
        return split

    def read_losses(self, ds: Dataset) -> list[str]:
        """What reading ``ds`` into another layout changes beyond the route's steps (nothing by default)."""
        return []

    def mask_place(self, ds: Dataset, matte: FileRef, source: str) -> str | None:
        """Where guidance mask set ``source`` keeps the mask of ``matte`` (None: this layout has no place)."""
        return None

    def trimap_place(self, ds: Dataset, matte: FileRef) -> tuple[str, bool] | None:
        """Where the trimap of ``matte`` goes and whether it is a 3-channel grey JPEG (None: no place)."""
        return None

    def mask_path_token(self, ds: Dataset) -> str | None:
        """The part of full paths its loaders replace to find a matte's masks (None: no such rule)."""
        return None

    def schema(self) -> dict[str, Any]:
        """This layout's JSON Schema of the manifest (the built-ins keep theirs in ``schemas``)."""
        return load_schema(f"{self.name}.json")


def load_schema(name: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(files("himfmt.schemas").joinpath(name).read_text())
    return data


def split_name(tree: Tree, rel: str) -> str:
    """A split's name: its folder's, or the tree's (an archive's without ``.zip``) when it is the root."""
    if rel:
        return rel.rsplit("/", 1)[-1]
    name = tree.root.name
    return name[:-4] if tree.is_archive and name.lower().endswith(".zip") else name


def detect_split_container(layout: str, tree: Tree, rel: str, probe: Callable[[Tree, str], Probe | None]) -> Match | None:
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


def plan_frames(sample: Sample, folder: str) -> list[Planned]:
    """A clip's composite frames as ``<folder>/<frame>.jpg``."""
    return [OutFile(join(folder, f.name + ".jpg"), f.image, False) for f in sample.frames if f.image is not None]


def is_hidden(name: str) -> bool:
    return name.startswith(".")
