"""The common model every layout reads into and writes from.

A :class:`Sample` is an image or a clip; a clip is an ordered list of
:class:`Frame` s and an image is one frame. A frame has its composite image,
an ordered list of :class:`Instance` s (one matte each, plus optional masks
per mask source) and optional foreground, background and trimap. Pixels are
never decoded while a tree is read: every picture is a *reference*, either a
:class:`FileRef` (a file, or one frame of a video stream, inside a tree) or an
:class:`ArrayRef` (pixels already in memory, e.g. fresh from a compositor).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterator, NamedTuple, Protocol

import cv2
import numpy as np

from himfmt.io import images

if TYPE_CHECKING:
    from himfmt.io.tree import Tree


class FileRef(NamedTuple):
    """A picture stored in a tree: a file, or frame ``frame`` of a video stream.

    ``channel`` selects one channel when the picture is read as a matte (DVM
    stores alpha as 3-channel JPEG; RGBA frames carry it in channel 3).
    """

    tree: "Tree"
    path: str
    frame: int | None = None
    channel: int | None = None

    @property
    def name(self) -> str:
        return self.path.rsplit("/", 1)[-1]

    @property
    def suffix(self) -> str:
        path = self.path
        dot = path.rfind(".")
        return path[dot:].lower() if dot > path.rfind("/") + 1 else ""  # a dot that starts the name is no suffix

    @property
    def where(self) -> str:
        """Path for messages (with the frame index of a stream)."""
        p = self.tree.display(self.path)
        return p if self.frame is None else f"{p}#frame{self.frame}"

    def info(self) -> images.ImageInfo:
        """Header information only (size, mode); never decodes pixels."""
        if self.frame is not None:
            from himfmt.io import video

            return video.frame_info(self)
        info = images.info_from_head(self.tree.read_head(self.path, images.HEAD_BYTES))
        if info is not None:
            return info
        with self.tree.open(self.path) as f:  # a header past the first bytes, or a problem: the full reader names it
            return images.read_info(f, self.where)

    def size(self) -> tuple[int, int]:
        return self.info().size

    def read_rgb(self) -> np.ndarray:
        if self.frame is not None:
            from himfmt.io import video

            return video.read_frame(self, gray=False)
        return images.decode_rgb(self.tree.read_image(self.path), self.where)

    def read_gray(self) -> np.ndarray:
        if self.frame is not None:
            from himfmt.io import video

            return video.read_frame(self, gray=True)
        return images.decode_gray(self.tree.read_image(self.path), self.where, self.channel)


class ArrayRef(NamedTuple):
    """A picture already in memory (HxW or HxWx3 uint8)."""

    array: np.ndarray

    @property
    def suffix(self) -> str:
        return ""

    @property
    def where(self) -> str:
        return "<in memory>"

    def size(self) -> tuple[int, int]:
        return (self.array.shape[1], self.array.shape[0])

    def read_rgb(self) -> np.ndarray:
        a = self.array
        return cv2.cvtColor(a, cv2.COLOR_GRAY2RGB) if a.ndim == 2 else a

    def read_gray(self) -> np.ndarray:
        a = self.array
        return a if a.ndim == 2 else np.ascontiguousarray(a[:, :, 0])


class DerivedRef(NamedTuple):
    """A picture computed on demand from others (a trimap from a matte, a
    premultiplied fg from fg and matte), so writers can plan it without work."""

    fn: Callable[..., np.ndarray]
    inputs: tuple["Media", ...]
    gray_inputs: tuple[bool, ...]

    @property
    def suffix(self) -> str:
        return ""

    @property
    def where(self) -> str:
        return self.inputs[0].where

    def size(self) -> tuple[int, int]:
        return self.inputs[0].size()

    def _compute(self) -> np.ndarray:
        return self.fn(*(m.read_gray() if g else m.read_rgb() for m, g in zip(self.inputs, self.gray_inputs)))

    def read_rgb(self) -> np.ndarray:
        return ArrayRef(self._compute()).read_rgb()

    def read_gray(self) -> np.ndarray:
        return ArrayRef(self._compute()).read_gray()


class Media(Protocol):
    """What every picture reference offers: a name suffix, a place for messages, its size, its pixels.

    :class:`FileRef`, :class:`ArrayRef`, :class:`DerivedRef` and the frames a
    synthesizer renders on demand all are one.
    """

    @property
    def suffix(self) -> str: ...

    @property
    def where(self) -> str: ...

    def size(self) -> tuple[int, int]: ...

    def read_rgb(self) -> np.ndarray: ...

    def read_gray(self) -> np.ndarray: ...


def need(media: Media | None, what: str, where: str) -> Media:
    """``media``, or one BadInputError naming what is missing where (a sample without its image or matte)."""
    if media is None:
        from himfmt.errors import BadInputError

        raise BadInputError(f"no {what}", where)
    return media


class Note(NamedTuple):
    """Something a reader noticed in the listing (a missing pair file, frame counts
    that differ); validation turns notes into findings with their severity."""

    code: str
    path: str
    message: str


@dataclass(slots=True)
class Instance:
    """One person in one frame: its matte and optional guidance masks by source name."""

    name: str  # the stem on disk ('00', or '0' in MaGGIe's synthesizer output)
    matte: Media | None
    masks: dict[str, Media] = field(default_factory=dict)
    fg: Media | None = None  # this person's foreground layer, when a layout keeps one
    trimap: Media | None = None  # this person's trimap (``trimap/`` beside the alpha dir)


@dataclass(slots=True)
class Frame:
    name: str  # the frame's stem ('00000'); for an image sample, the image stem
    image: Media | None
    instances: list[Instance] = field(default_factory=list)
    fg: Media | None = None
    bg: Media | None = None
    trimap: Media | None = None
    # Files of this frame a loader reads that the model does not use otherwise (DVM's JPEG a/ when the
    # lossless a_png/ is the matte): deep validation decodes them too.
    extra: list[Media] = field(default_factory=list)


@dataclass(slots=True)
class Sample:
    id: str
    split: str
    frames: list[Frame]
    is_clip: bool = False

    @property
    def n_instances(self) -> int:
        return max((len(f.instances) for f in self.frames), default=0)


@dataclass
class Dataset:
    """One dataset found in a tree: its layout, where it is, and its samples."""

    layout: str
    tree: "Tree"
    path: str  # relative to the tree root ('' = the root itself)
    splits: dict[str, str]  # split name -> path of the split relative to the tree root
    samples: list[Sample] = field(default_factory=list)
    alpha_dir: str | None = None
    mask_dirs: list[str] = field(default_factory=list)
    # True when foregrounds are stored multiplied by alpha (DVM's f/ stream).
    fg_premultiplied: bool = False
    # Files inside the dataset that belong to no sample (e.g. .DS_Store), relative paths.
    stray: list[str] = field(default_factory=list)
    # Background clips or images a source layout holds besides its samples (DVM bg/).
    backgrounds: list[Sample] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    kind: str = "image"  # 'image' or 'video', as its layout declares
    # File names of samples the source itself says to leave out (HHM's invalid_him.txt).
    skip: list[str] = field(default_factory=list)
    # Lists that pair the dataset's pictures, by file name (DVM's fg/bg pair lists, ``dvm_pairs.Pair`` items).
    pair_lists: dict[str, list[Any]] = field(default_factory=dict)

    @property
    def n_instances(self) -> int:
        return sum(s.n_instances for s in self.samples)

    @property
    def n_frames(self) -> int:
        return sum(len(s.frames) for s in self.samples)


def sample_pictures(sample: Sample) -> Iterator[tuple[str, Media | None]]:
    """Every picture of a sample with its role (absent ones as None): what a loader of its tree reads."""
    for f in sample.frames:
        yield from (("images", f.image), ("foreground layers", f.fg), ("background layers", f.bg), ("trimaps", f.trimap))
        for i in f.instances:
            yield from (("mattes", i.matte), ("trimaps", i.trimap), ("foreground layers", i.fg))
            yield from (("guidance masks", m) for m in i.masks.values())
        yield from (("extra", m) for m in f.extra)


def sample_files(sample: Sample) -> set[str]:
    """The files a sample is read from (a video stream once), relative to its tree's root."""
    return {m.path for _, m in sample_pictures(sample) if isinstance(m, FileRef)}
