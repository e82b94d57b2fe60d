"""Structure checks: what names, listings and image headers show, without decoding pixels.

Each check is registered with the codes it emits (see ``registry``). Frame
and sample checks share one :class:`SampleView`, which reads each file's
header once; the header check alone reports a header that cannot be read.
"""

from __future__ import annotations

import os
import re
from typing import Iterator

from himfmt.errors import BadInputError, UnreadableError
from himfmt.io.images import ImageInfo, TooLargeError
from himfmt.io.tree import Tree
from himfmt.layouts import get_layout
from himfmt.model import Dataset, FileRef, Frame, Media, Sample
from himfmt.validation.catalog import Finding, finding
from himfmt.validation.registry import check

MAX_INSTANCES = 10
FORMAT_OF = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}  # what a loader expects from the name


class HeaderCache:
    """Header of each file read once per run (video streams: once per file, not per frame)."""

    def __init__(self) -> None:
        self.infos: dict[tuple[str, str], ImageInfo | BadInputError] = {}
        self.files = 0

    def get(self, ref: FileRef) -> ImageInfo | BadInputError:
        # Only streams are kept across samples (their frames share one header); a file is read once anyway.
        key = (ref.tree.abspath(""), ref.path) if ref.frame is not None else None
        hit = self.infos.get(key) if key else None
        if hit is None:
            self.files += 1
            try:
                hit = ref.info() if ref.frame is None else FileRef(ref.tree, ref.path, 0, ref.channel).info()
            except BadInputError as exc:
                hit = exc
            except OSError as exc:
                hit = UnreadableError(f"cannot read ({exc.strerror})", ref.where)
            if key:
                self.infos[key] = hit
        return hit


class SampleView:
    """One sample as the structure checks see it: its dataset and each file's header, read once."""

    def __init__(self, ds: Dataset, sample: Sample, cache: HeaderCache) -> None:
        self.ds, self.sample, self.cache = ds, sample, cache
        self._seen: dict[int, ImageInfo | BadInputError] = {}  # by id(): each reference lives as long as the view
        self._pictures: dict[int, list[tuple[str, Media]]] = {}

    def pictures(self, frame: Frame) -> list[tuple[str, Media]]:
        """The frame's matte-like pictures (listed once per frame: several checks walk them)."""
        got = self._pictures.get(id(frame))
        if got is None:
            got = self._pictures[id(frame)] = pictures(frame)
        return got

    def header(self, media: Media | None) -> ImageInfo | BadInputError | None:
        """The header of a stored picture, or the error reading it (None: not a stored picture)."""
        if not isinstance(media, FileRef):
            return None
        got = self._seen.get(id(media))
        if got is None:
            got = self._seen[id(media)] = self.cache.get(media)
        return got

    def info(self, media: Media | None) -> ImageInfo | None:
        got = self.header(media)
        return got if isinstance(got, ImageInfo) else None


def pictures(frame: Frame) -> list[tuple[str, Media]]:
    """The frame's matte-like pictures, each with what it is: ``matte``, ``mask`` or ``trimap``."""
    out: list[tuple[str, Media]] = [("trimap", frame.trimap)] if frame.trimap is not None else []
    for inst in frame.instances:
        out += [("matte", inst.matte)] if inst.matte is not None else []
        out += [("mask", m) for m in inst.masks.values()]
        out += [("trimap", inst.trimap)] if inst.trimap is not None else []
    return out


def _natural(name: str) -> list[int | str]:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def _matte_paths(frame: Frame) -> list[str]:
    return [i.matte.path for i in frame.instances if isinstance(i.matte, FileRef)]


# ---- the tree and the dataset -------------------------------------------------------


@check(
    "structure",
    "tree",
    ("archive.unsafe_member", "file.symlink_escape", "file.symlink_loop", "file.unreadable", "file.not_regular", "path.is_folder"),
)
def listing_problems(tree: Tree) -> Iterator[Finding]:
    for name, why in tree.unsafe:
        yield finding("archive.unsafe_member", name, None, f"member {why}; not read")
    for rel in tree.escapes:
        yield finding("file.symlink_escape", rel, None, "symlink to a folder outside the root, or to nothing; not followed")
    for rel in tree.loops:
        yield finding("file.symlink_loop", rel, None, "symlink to one of its own ancestors; not followed")
    for rel in tree.unreadable:
        yield finding("file.unreadable", rel, None, "folder is not readable")
    for rel in tree.special:
        yield finding("file.not_regular", rel, None, "a FIFO, socket or device, not a file; never opened")
    for rel in tree.picture_dirs:
        yield finding("path.is_folder", rel, None, "a folder with a picture's name")


@check("structure", "dataset", ("files.stray",))
def stray_files(ds: Dataset) -> Iterator[Finding]:
    for rel in ds.stray:
        yield finding("files.stray", rel, None, "not part of any sample")


# Codes layouts' readers note while listing (a missing pair file, frame counts that differ).
@check(
    "structure",
    "dataset",
    (
        "mask.unpaired",
        "dvm.pair_missing_file",
        "dvm.pair_bad_line",
        "dvm.frame_count_mismatch",
        "dvm.stream_missing",
        "dvm.alpha_missing",
        "dvm.fg_missing",
        "dvm.stream_mismatch",
        "file.corrupt",
    ),
)
def reader_notes(ds: Dataset) -> Iterator[Finding]:
    for note in ds.notes:
        yield finding(note.code, note.path, None, note.message)


@check("structure", "dataset", ("root.contains_alpha_dir",))
def root_contains_mask_token(ds: Dataset) -> Iterator[Finding]:
    """Loaders find masks by string replacement on the full path: the dataset's own path must not hold the token."""
    token = get_layout(ds.layout).mask_path_token(ds)
    above = ds.tree.abspath(ds.path)
    if token and token in above.replace(os.sep, "/") + "/":
        yield finding(
            "root.contains_alpha_dir",
            ds.path,
            None,
            f"the dataset's path {above} contains {token!r}; the loader's mask path replacement would rewrite it",
        )


# ---- one frame -----------------------------------------------------------------------


@check("structure", "frame", ("file.too_large", "file.unreadable", "file.corrupt", "file.wrong_format"))
def headers(view: SampleView, frame: Frame) -> Iterator[Finding]:
    for media in [frame.image, *(m for _, m in view.pictures(frame))]:
        got = view.header(media)
        if got is None or not isinstance(media, FileRef):
            continue
        why = str(got.args[0]).split(": ", 1)[-1] if isinstance(got, BadInputError) else ""
        if isinstance(got, TooLargeError):
            yield finding("file.too_large", media.path, view.sample.id, why)
        elif isinstance(got, UnreadableError):
            yield finding("file.unreadable", media.path, view.sample.id, why)
        elif isinstance(got, BadInputError):
            yield finding("file.corrupt", media.path, view.sample.id, why)
        elif media.frame is None and FORMAT_OF.get(media.suffix, got.format) != got.format:
            yield finding("file.wrong_format", media.path, view.sample.id, f"holds {got.format} data under a {media.suffix} name")


@check("structure", "frame", ("image.exif_rotated",))
def exif_rotation(view: SampleView, frame: Frame) -> Iterator[Finding]:
    info = view.info(frame.image)
    if info is not None and isinstance(frame.image, FileRef) and info.orientation in (5, 6, 7, 8):
        yield finding(
            "image.exif_rotated",
            frame.image.path,
            view.sample.id,
            f"EXIF orientation {info.orientation} turns it {info.height}x{info.width} where it is applied",
        )


NOT_GRAY = {"matte": "matte.not_8bit_gray", "mask": "mask.not_8bit_gray", "trimap": "trimap.not_8bit_gray"}
SIZE_MISMATCH = {"matte": "matte.size_mismatch", "mask": "mask.size_mismatch", "trimap": "trimap.size_mismatch"}


@check(
    "structure",
    "frame",
    (
        "matte.not_8bit_gray",
        "mask.not_8bit_gray",
        "trimap.not_8bit_gray",
        "matte.size_mismatch",
        "mask.size_mismatch",
        "trimap.size_mismatch",
    ),
)
def matte_headers(view: SampleView, frame: Frame) -> Iterator[Finding]:
    """Mattes, masks and trimaps: 8-bit grey PNGs of their image's size."""
    image = view.info(frame.image)
    for what, m in view.pictures(frame):
        info = view.info(m)
        if info is None or not isinstance(m, FileRef):
            continue
        # A PNG file (not a channel of a JPEG or a frame of a stream) must be 8-bit grey.
        if m.channel is None and m.frame is None and info.mode != "L":
            yield finding(NOT_GRAY[what], m.path, view.sample.id, f"mode {info.mode}, expected 8-bit single-channel (L)")
        if image is not None and info.size != image.size:
            yield finding(
                SIZE_MISMATCH[what], m.path, view.sample.id, f"{info.width}x{info.height}, its image is {image.width}x{image.height}"
            )


@check("structure", "frame", ("instances.gap", "instances.unpadded_names"))
def instance_names(view: SampleView, frame: Frame) -> Iterator[Finding]:
    """Instance files numbered without gaps, and named so that loaders' sort keeps numeric order."""
    names = [i.name for i in frame.instances]
    numbers = sorted(int(n) for n in names if n.isdigit())
    paths = _matte_paths(frame)
    folder = paths[0].rsplit("/", 1)[0] if paths else view.sample.id
    if numbers and len(numbers) == len(names) and numbers != list(range(len(numbers))):
        # Loaders count instances from 0: a missing first one (01.png, 02.png) is a gap as much as one inside.
        missing = sorted(set(range(numbers[-1])) - set(numbers))
        yield finding(
            "instances.gap",
            folder,
            view.sample.id,
            f"instance numbers skip {', '.join(str(k) for k in missing[:5])}: {len(names)} mattes named up to {numbers[-1]}",
        )
    if len(names) > MAX_INSTANCES and paths and names != sorted(names, key=_natural):
        yield finding("instances.unpadded_names", folder, view.sample.id, f"{', '.join(names[:4])}, ... sort out of numeric order")


@check("structure", "frame", ("mask.missing",))
def missing_masks(view: SampleView, frame: Frame) -> Iterator[Finding]:
    ds = view.ds
    if not ds.mask_dirs:
        return
    lay = get_layout(ds.layout)
    for src in ds.mask_dirs:
        for inst in frame.instances:
            where = lay.mask_place(ds, inst.matte, src) if src not in inst.masks and isinstance(inst.matte, FileRef) else None
            if where:
                yield finding("mask.missing", where, view.sample.id, f"no {src} mask for {inst.matte.path}")  # type: ignore[union-attr]


# ---- one sample ----------------------------------------------------------------------


@check("structure", "sample", ("video.frame_size_varies",))
def frame_size_varies(view: SampleView) -> Iterator[Finding]:
    if not view.sample.is_clip:
        return
    first = None
    for frame in view.sample.frames:
        info = view.info(frame.image)
        if info is None or not isinstance(frame.image, FileRef):
            continue
        if first is None:
            first = info.size
        elif info.size != first:
            yield finding(
                "video.frame_size_varies",
                frame.image.path,
                view.sample.id,
                f"{info.width}x{info.height}, the clip's first frame is {first[0]}x{first[1]}",
            )


@check("structure", "sample", ("video.instance_count_varies",))
def instance_count_varies(view: SampleView) -> Iterator[Finding]:
    counts = {len(f.instances) for f in view.sample.frames if f.instances}
    if view.sample.is_clip and len(counts) > 1:
        first = next((p for f in view.sample.frames for p in _matte_paths(f)), view.sample.id + "/")
        yield finding("video.instance_count_varies", first.rsplit("/", 2)[0], view.sample.id, f"frames have {sorted(counts)} instances")
