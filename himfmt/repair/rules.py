"""What ``himfmt fix`` does about each finding code: one rule per code, and the repaired pictures.

A repair never invents content. It rewrites a file the way the peer loaders
already read it (a colour or 16-bit matte becomes the 8-bit grey that
Pillow's ``convert('L')`` gives them), removes what misleads one reader and
not another (an EXIF orientation tag), re-encodes a file as its name says,
or renumbers instance files in numeric order. A sample that cannot be
mended (a corrupt picture, an empty matte, no matte at all, mattes that
overlap beyond 255) is left out of the copy, or, with ``exclude=false``,
copied as it is. Every other code is left for the user, and said so.
"""

from __future__ import annotations

import io
import struct
from typing import Callable, NamedTuple

import cv2
import numpy as np
from PIL import Image

from himfmt.errors import BadInputError
from himfmt.io import images
from himfmt.model import DerivedRef, FileRef


class Rule(NamedTuple):
    action: str  # what fix does, as the summary and `himfmt explain` say it
    kind: str  # "rewrite" (a repaired file), "rename" (the writer renumbers), "omit" (left out), "exclude" (the sample)


def loader_gray(data: bytes, where: str) -> np.ndarray:
    """The 8-bit grey picture MaGGIe's loaders train on: Pillow's ``convert('L')`` of the file."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            return np.asarray(im.convert("L"))
    except (OSError, ValueError) as exc:
        raise BadInputError(f"cannot be read as a picture ({exc})", where) from None


def zero_one_to_255(data: bytes, where: str) -> np.ndarray:
    """A matte saved as 0/1 (a mask without its x255) scaled to 0/255."""
    return images.decode_gray(data, where) * np.uint8(255)


def as_named(data: bytes, where: str) -> np.ndarray:
    """The pixels of a file whose bytes are of another format than its name (re-encoded by the writer)."""
    arr = images.decode(data, where)
    return arr if arr.dtype == np.uint8 else (arr >> 8).astype(np.uint8)


def snapped_trimap(data: bytes, where: str) -> np.ndarray:
    """A trimap's values moved to the nearest of 0, 128 and 255 (a resized or JPEG-touched trimap)."""
    arr = images.decode_gray(data, where)
    return np.select([arr < 64, arr > 191], [np.uint8(0), np.uint8(255)], np.uint8(128)).astype(np.uint8)


def binary_mask(data: bytes, where: str) -> np.ndarray:
    """A guidance mask binarized at 128, as a detector's mask is (the loaders never re-binarize one)."""
    return np.where(images.decode_gray(data, where) >= 128, np.uint8(255), np.uint8(0)).astype(np.uint8)


def resized_to(data: bytes, where: str, size: tuple[int, int] = (0, 0), nearest: bool = False) -> np.ndarray:
    """A matte (bilinear) or a mask or trimap (nearest: their values stay what they mean) at its image's size."""
    arr = images.decode_gray(data, where)
    return cv2.resize(arr, size, interpolation=cv2.INTER_NEAREST if nearest else cv2.INTER_LINEAR)


def premultiplied(fg: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """DVM's f/: the foreground multiplied by its alpha, rounded, in integers."""
    return ((fg.astype(np.uint32) * alpha[:, :, None] + 127) // 255).astype(np.uint8)


def without_exif(data: bytes, where: str) -> bytes:
    """The JPEG without its EXIF segments: the same compressed pixels, no orientation for a reader to apply."""
    if data[:2] != b"\xff\xd8":
        raise BadInputError("not a JPEG file", where)
    out, i = [data[:2]], 2
    while i + 4 <= len(data) and data[i] == 0xFF:
        marker = data[i + 1]
        if marker == 0xDA:  # start of scan: the rest is image data
            break
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        segment = data[i : i + 2 + length]
        if not (marker == 0xE1 and segment[4:10] == b"Exif\x00\x00"):
            out.append(segment)
        i += 2 + length
    out.append(data[i:])
    return b"".join(out)


class FromFile(DerivedRef):
    """A picture repaired from its file's bytes: ``fn(data, where)`` gives the pixels (the writer encodes them
    as the output's name says) or the file's new bytes (written as they are). Made as
    ``FromFile(fn, (ref,), (True,))``: a derived picture whose one input is read as bytes."""

    def _compute(self) -> np.ndarray:
        value = self._value()
        return images.decode(value, self.where) if isinstance(value, bytes) else value

    def _value(self) -> np.ndarray | bytes:
        ref = self.inputs[0]
        assert isinstance(ref, FileRef)
        return self.fn(ref.tree.read_image(ref.path), ref.where)  # type: ignore[no-any-return]

    def encoded(self) -> bytes | None:
        """The file's repaired bytes, when the repair edits bytes rather than pixels."""
        value = self._value() if self.fn is without_exif else None
        return value if isinstance(value, bytes) else None


RESIZE = Rule("with resize_mattes=true: resized to its image (mattes bilinear; masks, trimaps nearest)", "resize")
GRAY = Rule("rewritten as the 8-bit grey the loaders read (Pillow's convert('L'))", "rewrite")
RULES: dict[str, Rule] = {
    "matte.not_8bit_gray": GRAY,
    "mask.not_8bit_gray": GRAY,
    "trimap.not_8bit_gray": GRAY,
    "matte.tiny": Rule("a 0/1 matte (a mask saved without x255) scaled to 0/255; a truly tiny one is kept", "rewrite"),
    "image.exif_rotated": Rule("EXIF orientation removed; the pixels unchanged, as the loaders read them", "rewrite"),
    "file.wrong_format": Rule("re-encoded as its name says", "rewrite"),
    "instances.unpadded_names": Rule("instance files renumbered 00, 01, ... in numeric order", "rename"),
    "instances.gap": Rule("instance files renumbered 00, 01, ... in their order", "rename"),
    "files.stray": Rule("left out of the copy", "omit"),
    "mask.unpaired": Rule("left out of the copy", "omit"),
    "file.corrupt": Rule("its sample left out of the copy (exclude=false copies it as it is)", "exclude"),
    "matte.empty": Rule("its sample left out of the copy (exclude=false copies it as it is)", "exclude"),
    "sample.no_instances": Rule("its sample left out of the copy (exclude=false copies it as it is)", "exclude"),
    "matte.sum_exceeds": Rule("its sample left out of the copy (exclude=false copies it as it is)", "exclude"),
    "trimap.bad_values": Rule("values snapped to the nearest of 0, 128 and 255", "rewrite"),
    "mask.not_binary": Rule("binarized at 128, as a detector's mask is", "rewrite"),
    "dvm.fg_not_premultiplied": Rule("premultiplied by its alpha (a/)", "rewrite"),
    "mask.missing": Rule("made by himfmt masks (the preset its loader expects: xmem for xmem/, else detector)", "synthesize"),
    "matte.size_mismatch": RESIZE,
    "mask.size_mismatch": RESIZE,
    "trimap.size_mismatch": RESIZE,
}
REWRITE: dict[str, Callable[[bytes, str], np.ndarray | bytes]] = {
    "matte.not_8bit_gray": loader_gray,
    "mask.not_8bit_gray": loader_gray,
    "trimap.not_8bit_gray": loader_gray,
    "matte.tiny": zero_one_to_255,
    "image.exif_rotated": without_exif,
    "file.wrong_format": as_named,
    "trimap.bad_values": snapped_trimap,
    "mask.not_binary": binary_mask,
}


def is_zero_one(ref: FileRef) -> bool:
    """Whether a matte holds only 0 and 1 (and some 1): a mask saved without its x255."""
    try:
        arr = ref.read_gray()
    except BadInputError:
        return False
    return bool(arr.max() == 1)
