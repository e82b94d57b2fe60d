"""Deep checks: what only decoded pixels show (``deep=true``, run in worker processes).

Each check is registered with the codes it emits (see ``registry``). The
checks of one frame share a :class:`DecodedFrame`, which decodes each picture
once; the ``decodable`` check runs first and alone reports a picture that
cannot be decoded, so the others see only what decoded.
"""

from __future__ import annotations

from typing import Iterator

import numpy as np

from himfmt.errors import BadInputError, UnreadableError
from himfmt.io import images
from himfmt.io.images import TooLargeError, WrongModeError
from himfmt.model import FileRef, Frame, Media, Sample
from himfmt.validation.catalog import Finding, finding
from himfmt.validation.registry import check, run

TINY_AREA = 0.001  # MaGGIe drops instances whose alpha > 127 area is at most 0.1%
SUM_TOLERANCE = 2  # grey levels above 255 a sum of rounded visible mattes may reach


class DecodedFrame:
    """One frame's pictures, each decoded at most once; what failed to decode is kept as its finding."""

    def __init__(self, sample: Sample, frame: Frame, premultiplied: bool) -> None:
        self.sample, self.frame = sample, frame
        # Only a premultiplied fg layer is compared with the composite: only then are the image's pixels needed.
        self.compare_fg = premultiplied and frame.fg is not None
        self._arrays: dict[tuple[int, bool], np.ndarray | None] = {}
        self.errors: list[Finding] = []

    def gray(self, media: Media) -> np.ndarray | None:
        return self._decode(media, True)

    def rgb(self, media: Media) -> np.ndarray | None:
        return self._decode(media, False)

    def verify(self, media: Media) -> None:
        """Decode only to find a truncated or corrupt file (layers, files loaders read beside the model's)."""
        if isinstance(media, FileRef) and media.frame is None:
            self._guard(media, lambda: images.verify(media.tree.read_image(media.path), media.where))
        else:
            self.rgb(media)

    def _decode(self, media: Media, gray: bool) -> np.ndarray | None:
        key = (id(media), gray)
        if key not in self._arrays:
            self._arrays[key] = self._guard(media, media.read_gray if gray else media.read_rgb)
        return self._arrays[key]

    def _guard(self, media: Media, fn: object) -> np.ndarray | None:
        path, sid = getattr(media, "path", ""), self.sample.id
        try:
            return fn()  # type: ignore[operator, no-any-return]
        except TooLargeError as exc:
            self.errors.append(finding("file.too_large", path, sid, str(exc.args[0]).split(": ", 1)[-1]))
        except UnreadableError as exc:
            self.errors.append(finding("file.unreadable", path, sid, str(exc.args[0]).split(": ", 1)[-1]))
        except WrongModeError:
            pass  # the structure pass reports it (matte.not_8bit_gray): not corrupt, and not the same fix
        except BadInputError as exc:
            self.errors.append(finding("file.corrupt", path, sid, str(exc.args[0]).split(": ", 1)[-1]))
        except OSError as exc:
            self.errors.append(finding("file.unreadable", path, sid, exc.strerror or str(exc)))
        return None

    def trimaps(self) -> list[Media]:
        return [t for t in [self.frame.trimap, *(i.trimap for i in self.frame.instances)] if t is not None]

    def mattes(self) -> list[tuple[Media, np.ndarray]]:
        """Each instance matte that decoded, with its pixels."""
        out = []
        for inst in self.frame.instances:
            a = self.gray(inst.matte) if inst.matte is not None else None
            if a is not None and inst.matte is not None:
                out.append((inst.matte, a))
        return out


@check("deep", "frame", ("file.too_large", "file.unreadable", "file.corrupt"))
def decodable(d: DecodedFrame) -> Iterator[Finding]:
    frame = d.frame
    if frame.image is not None:
        d.rgb(frame.image) if d.compare_fg else d.verify(frame.image)
    for layer in [frame.bg, *frame.extra, *(i.fg for i in frame.instances)]:
        if layer is not None:
            d.verify(layer)
    if frame.fg is not None:
        d.rgb(frame.fg) if d.compare_fg else d.verify(frame.fg)
    for media in [*d.trimaps(), *(m for i in frame.instances for m in i.masks.values())]:
        d.gray(media)
    d.mattes()
    yield from d.errors


@check("deep", "frame", ("trimap.bad_values",))
def trimap_values(d: DecodedFrame) -> Iterator[Finding]:
    for tri in d.trimaps():
        arr = d.gray(tri)
        # JPEG trimaps (DVM's t/) are noisy by nature: decoded, not value-checked.
        if (
            isinstance(tri, FileRef)
            and tri.suffix == ".png"
            and arr is not None
            and np.count_nonzero((arr != 0) & (arr != 128) & (arr != 255))
        ):
            yield finding("trimap.bad_values", tri.path, d.sample.id, "values other than 0, 128 and 255")


@check("deep", "frame", ("mask.not_binary",))
def mask_values(d: DecodedFrame) -> Iterator[Finding]:
    for m in (m for i in d.frame.instances for m in i.masks.values()):
        arr = d.gray(m)
        if arr is not None and np.count_nonzero((arr != 0) & (arr != 255)):
            yield finding("mask.not_binary", getattr(m, "path", ""), d.sample.id, "values other than 0 and 255")


@check("deep", "frame", ("matte.empty", "matte.tiny"))
def matte_coverage(d: DecodedFrame) -> Iterator[Finding]:
    for matte, a in d.mattes():
        path = getattr(matte, "path", "")
        if not a.any():
            yield finding("matte.empty", path, d.sample.id, "all zero")
        elif np.count_nonzero(a > 127) <= TINY_AREA * a.size:
            yield finding("matte.tiny", path, d.sample.id, f"alpha > 127 covers {np.count_nonzero(a > 127)} of {a.size} pixels")


@check("deep", "frame", ("matte.sum_exceeds",))
def matte_sum(d: DecodedFrame) -> Iterator[Finding]:
    mattes = [a for _, a in d.mattes()]
    if len(mattes) < 2:
        return
    total = mattes[0].astype(np.uint16)
    for a in mattes[1:]:
        if a.shape == total.shape:
            total += a
    limit = 255 + SUM_TOLERANCE * len(mattes)
    if int(total.max()) > limit:
        path = getattr(d.frame.instances[0].matte, "path", "")
        yield finding(
            "matte.sum_exceeds",
            path.rsplit("/", 1)[0],
            d.sample.id,
            f"instance mattes sum to up to {int(total.max())} ({np.count_nonzero(total > limit)} pixels above 255)",
        )


@check("deep", "frame", ("dvm.fg_not_premultiplied",))
def premultiplied_fg(d: DecodedFrame) -> Iterator[Finding]:
    mattes = d.mattes()
    if not d.compare_fg or d.frame.fg is None or d.frame.image is None or not mattes:
        return
    image, fg = d.rgb(d.frame.image), d.rgb(d.frame.fg)
    if image is not None and fg is not None and fg.shape == image.shape:
        why = premultiplied_problem(fg, image, mattes[0][1])
        if why:
            yield finding("dvm.fg_not_premultiplied", getattr(d.frame.fg, "path", ""), d.sample.id, why)


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


def deep_sample_findings(args: tuple[Sample, bool]) -> list[Finding]:
    """All deep findings of one sample (worker entry point)."""
    sample, premultiplied = args
    with images.strict():  # libjpeg's warnings of damage make a file.corrupt finding
        return [f for frame in sample.frames for f in run("deep", "frame", DecodedFrame(sample, frame, premultiplied))]
