"""Layer 2: content checks a schema cannot express, in two families.

``structure_findings`` reads names and image headers only (the default
pass); ``deep_findings`` decodes every picture of one sample (``deep=true``,
run in worker processes). Each check is a small function yielding findings
with stable codes from ``schemas/findings.json``.
"""
from __future__ import annotations

import os
import re
from typing import Iterator

import numpy as np

from ..errors import BadInputError, UnreadableError
from ..io import images
from ..io.images import WrongModeError, ImageInfo, TooLargeError
from ..io.tree import Tree
from ..model import Dataset, FileRef, Frame, Media, Sample
from ..layouts.base import mask_path
from .catalog import Finding, finding

# Note codes readers emit that are findings as they are.
NOTE_CODES = {
    "dvm.pair_missing_file", "dvm.frame_count_mismatch", "dvm.stream_missing", "dvm.alpha_missing",
    "dvm.fg_missing", "dvm.stream_mismatch", "file.corrupt",
}
MAX_INSTANCES = 10
TINY_AREA = 0.001  # MaGGIe drops instances whose alpha > 127 area is at most 0.1%
SUM_TOLERANCE = 2  # grey levels above 255 a sum of rounded visible mattes may reach


def _natural(name: str) -> list:
    return [int(t) if t.isdigit() else t for t in re.split(r"(\d+)", name)]


def tree_findings(tree: Tree) -> Iterator[Finding]:
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


def dataset_findings(ds: Dataset) -> Iterator[Finding]:
    for rel in ds.stray:
        yield finding("files.stray", rel, None, "not part of any sample")
    for rel in ds.meta.get("unpaired_masks", []):
        yield finding("mask.unpaired", rel, None, "mask without a matte of the same name")
    for note in ds.notes:
        yield finding(note.code, note.path, None, note.message)
    yield from _root_contains_alpha_dir(ds)


def _root_contains_alpha_dir(ds: Dataset) -> Iterator[Finding]:
    """MaGGIe builds mask paths by string replacement on the full path."""
    if not ds.mask_dirs or not ds.alpha_dir:
        return
    above = ds.tree.abspath(ds.path)
    needle = "/pha/" if ds.layout == "maggie_video" else ds.alpha_dir
    if needle in above.replace(os.sep, "/") + "/":
        yield finding("root.contains_alpha_dir", ds.path, None,
                      f"the dataset's path {above} contains {needle!r}; the loader's mask path replacement would rewrite it")


class HeaderCache:
    """Header of each file read once (video streams: once per file, not per frame)."""

    def __init__(self) -> None:
        self.infos: dict[tuple[str, str], ImageInfo | BadInputError] = {}
        self.files = 0

    def get(self, ref: FileRef) -> ImageInfo | BadInputError:
        # Only streams are cached (their frames share one header); a file is read once anyway.
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


def _header(cache: HeaderCache, media: Media | None, sample: str) -> tuple[ImageInfo | None, list[Finding]]:
    if not isinstance(media, FileRef):
        return None, []
    got = cache.get(media)
    if isinstance(got, BadInputError):
        code = "file.too_large" if isinstance(got, TooLargeError) else \
            "file.unreadable" if isinstance(got, UnreadableError) else "file.corrupt"
        return None, [finding(code, media.path, sample, str(got.args[0]).split(": ", 1)[-1])]
    out = []
    if media.frame is None and FORMAT_OF.get(media.suffix, got.format) != got.format:
        out.append(finding("file.wrong_format", media.path, sample,
                           f"holds {got.format} data under a {media.suffix} name"))
    return got, out


FORMAT_OF = {".jpg": "JPEG", ".jpeg": "JPEG", ".png": "PNG"}  # what a loader expects from the name


def _is_png_matte(m: FileRef) -> bool:
    return m.channel is None and m.frame is None


def frame_header_findings(ds: Dataset, sample: Sample, frame: Frame, cache: HeaderCache) -> tuple[tuple[int, int] | None, list[Finding]]:
    """Header checks of one frame; returns the frame's image size too."""
    out: list[Finding] = []
    info, errs = _header(cache, frame.image, sample.id)
    out += errs
    size = info.size if info else None
    if info is not None and info.orientation in (5, 6, 7, 8):
        out.append(finding("image.exif_rotated", frame.image.path, sample.id,  # type: ignore[union-attr]
                           f"EXIF orientation {info.orientation} turns it {info.height}x{info.width} where it is applied"))
    pictures = [("trimap", frame.trimap)] if frame.trimap is not None else []
    for inst in frame.instances:
        pictures += [("matte", inst.matte)] + [("mask", m) for m in inst.masks.values()]
        pictures += [("trimap", inst.trimap)] if inst.trimap is not None else []
    for what, m in pictures:
        minfo, errs = _header(cache, m, sample.id)
        out += errs
        if minfo is None or not isinstance(m, FileRef):
            continue
        if _is_png_matte(m) and minfo.mode != "L":
            out.append(finding(f"{what}.not_8bit_gray", m.path, sample.id, f"mode {minfo.mode}, expected 8-bit single-channel (L)"))
        if size and minfo.size != size:
            out.append(finding(f"{what}.size_mismatch", m.path, sample.id,
                               f"{minfo.width}x{minfo.height}, its image is {size[0]}x{size[1]}"))
    return size, out


def sample_structure_findings(ds: Dataset, sample: Sample, cache: HeaderCache) -> list[Finding]:
    out: list[Finding] = []
    first_size = None
    counts = set()
    for frame in sample.frames:
        size, errs = frame_header_findings(ds, sample, frame, cache)
        out += errs
        if size and first_size is None:
            first_size = size
        elif size and size != first_size and sample.is_clip:
            out.append(finding("video.frame_size_varies", frame.image.path, sample.id,  # type: ignore[union-attr]
                               f"{size[0]}x{size[1]}, the clip's first frame is {first_size[0]}x{first_size[1]}"))
        names = [i.name for i in frame.instances]
        if frame.instances:
            counts.add(len(names))
        numbers = sorted(int(n) for n in names if n.isdigit())
        if len(numbers) == len(names) and numbers and numbers != list(range(numbers[0], numbers[0] + len(numbers))):
            missing = sorted(set(range(numbers[0], numbers[-1])) - set(numbers))
            where = next(i.matte.path for i in frame.instances if isinstance(i.matte, FileRef)).rsplit("/", 1)[0] \
                if any(isinstance(i.matte, FileRef) for i in frame.instances) else sample.id
            out.append(finding("instances.gap", where, sample.id,
                               f"instance numbers skip {', '.join(str(k) for k in missing[:5])}: "
                               f"{len(names)} mattes named up to {numbers[-1]}"))
        matte_paths = [i.matte.path for i in frame.instances if isinstance(i.matte, FileRef)]
        if len(names) > MAX_INSTANCES and matte_paths and names != sorted(names, key=_natural):
            out.append(finding("instances.unpadded_names", matte_paths[0].rsplit("/", 1)[0], sample.id,
                               f"{', '.join(names[:4])}, ... sort out of numeric order"))
        for src in ds.mask_dirs:
            for inst in frame.instances:
                if src not in inst.masks and isinstance(inst.matte, FileRef) and ds.alpha_dir:
                    out.append(finding("mask.missing", mask_path(inst.matte.path, ds.alpha_dir, src), sample.id,
                                       f"no {src} mask for {inst.matte.path}"))
    if sample.is_clip and len(counts) > 1:
        first = next(i.matte.path for f in sample.frames for i in f.instances if isinstance(i.matte, FileRef))
        out.append(finding("video.instance_count_varies", first.rsplit("/", 2)[0], sample.id,
                           f"frames have {sorted(counts)} instances"))
    return out


# ---- deep checks: pixels --------------------------------------------------------------


def _decode(media: Media, gray: bool, sample: str, out: list[Finding], verify_only: bool = False) -> np.ndarray | None:
    try:
        if verify_only and isinstance(media, FileRef) and media.frame is None:
            images.verify(media.tree.read_image(media.path), media.where)
            return None
        return media.read_gray() if gray else media.read_rgb()
    except TooLargeError as exc:
        out.append(finding("file.too_large", getattr(media, "path", ""), sample, str(exc.args[0]).split(": ", 1)[-1]))
    except UnreadableError as exc:
        out.append(finding("file.unreadable", getattr(media, "path", ""), sample, str(exc.args[0]).split(": ", 1)[-1]))
    except WrongModeError:
        pass  # the structure pass reports it (matte.not_8bit_gray): not corrupt, and not the same fix
    except BadInputError as exc:
        out.append(finding("file.corrupt", getattr(media, "path", ""), sample, str(exc.args[0]).split(": ", 1)[-1]))
    except OSError as exc:
        out.append(finding("file.unreadable", getattr(media, "path", ""), sample, exc.strerror or str(exc)))
    return None


def deep_frame_findings(sample: Sample, frame: Frame, premultiplied: bool) -> list[Finding]:
    out: list[Finding] = []
    compare = premultiplied and frame.fg is not None  # only then are the image's pixels needed
    image = _decode(frame.image, False, sample.id, out, not compare) if frame.image is not None else None
    total: np.ndarray | None = None
    mattes = []
    for tri in [frame.trimap, *(i.trimap for i in frame.instances)]:
        if tri is None:
            continue
        arr = _decode(tri, True, sample.id, out)
        # JPEG trimaps (DVM's t/) are noisy by nature: decoded, not value-checked.
        if isinstance(tri, FileRef) and tri.suffix == ".png" and arr is not None and \
                np.count_nonzero((arr != 0) & (arr != 128) & (arr != 255)):
            out.append(finding("trimap.bad_values", tri.path, sample.id, "values other than 0, 128 and 255"))
    # Layers and the other files loaders read: decoded so a truncated one is found.
    for layer in [frame.bg, *frame.extra, *(i.fg for i in frame.instances),
                  *([frame.fg] if not (premultiplied and image is not None) else [])]:
        if layer is not None:
            _decode(layer, False, sample.id, out, verify_only=True)
    for inst in frame.instances:
        for m in inst.masks.values():
            arr = _decode(m, True, sample.id, out)
            if arr is not None and np.count_nonzero((arr != 0) & (arr != 255)):
                out.append(finding("mask.not_binary", m.path, sample.id, "values other than 0 and 255"))  # type: ignore[union-attr]
        if inst.matte is None:
            continue
        a = _decode(inst.matte, True, sample.id, out)
        if a is None:
            continue
        path = getattr(inst.matte, "path", "")
        mattes.append(a)
        if not a.any():
            out.append(finding("matte.empty", path, sample.id, "all zero"))
        elif np.count_nonzero(a > 127) <= TINY_AREA * a.size:
            out.append(finding("matte.tiny", path, sample.id, f"alpha > 127 covers {np.count_nonzero(a > 127)} of {a.size} pixels"))
        if total is None:
            total = a.astype(np.uint16)
        elif total.shape == a.shape:
            total += a
    if total is not None and len(mattes) > 1 and int(total.max()) > 255 + SUM_TOLERANCE * len(mattes):
        path = getattr(frame.instances[0].matte, "path", "")
        over = np.count_nonzero(total > 255 + SUM_TOLERANCE * len(mattes))
        out.append(finding("matte.sum_exceeds", path.rsplit("/", 1)[0], sample.id,
                           f"instance mattes sum to up to {int(total.max())} ({over} pixels above 255)"))
    if premultiplied and frame.fg is not None and image is not None and mattes:
        fg = _decode(frame.fg, False, sample.id, out)
        if fg is not None and fg.shape == image.shape:
            why = premultiplied_problem(fg, image, mattes[0])
            if why:
                out.append(finding("dvm.fg_not_premultiplied", getattr(frame.fg, "path", ""), sample.id, why))
    return out


def premultiplied_problem(fg: np.ndarray, image: np.ndarray, alpha: np.ndarray) -> str | None:
    """Why ``fg`` is not a premultiplied foreground (None when it is): it must be black where alpha is 0."""
    zero = alpha == 0
    n = np.count_nonzero(zero)
    if n < 16:
        return None  # nowhere to tell
    lit = np.count_nonzero((fg.max(axis=2) > 32) & zero)
    if lit <= 0.01 * n:
        return None
    if float(np.abs(fg.astype(np.int16) - image).mean()) < 3.0:
        return "f/ equals v/: the composite, not the foreground"
    return f"f/ is not black where alpha is 0 ({lit} of {n} pixels lit): a straight foreground, not premultiplied"


def deep_sample_findings(args: tuple[Sample, bool]) -> tuple[list[Finding], int]:
    """All deep findings of one sample and the number of files decoded (worker entry point)."""
    sample, premultiplied = args
    out: list[Finding] = []
    n = 0
    for frame in sample.frames:
        out += deep_frame_findings(sample, frame, premultiplied)
        n += (frame.image is not None) + sum(1 + len(i.masks) + (i.trimap is not None) + (i.fg is not None)
                                             for i in frame.instances) \
            + (frame.fg is not None) + (frame.bg is not None) + (frame.trimap is not None) + len(frame.extra)
    return out, n
