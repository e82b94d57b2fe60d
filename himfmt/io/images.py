"""Image headers, decoding and fast encoding.

Headers come from Pillow (it reads only the first bytes); pixels are decoded and
encoded with OpenCV, which is several times faster for PNG mattes (docs/performance.md). Every
decode is preceded by a header check, so a decompression bomb is refused
before any pixel buffer is allocated.
"""

from __future__ import annotations

import io
import warnings
from contextlib import contextmanager
from contextvars import ContextVar
from typing import BinaryIO, Callable, Iterator, Literal, NamedTuple

import cv2
import numpy as np
from PIL import Image

from himfmt.errors import BadInputError
from himfmt.io import libjpeg

STRICT: ContextVar[bool] = ContextVar("himfmt_strict_jpeg", default=False)


class WrongModeError(BadInputError):
    """A sound file of the wrong kind (a 16-bit or colour matte): reported by its header check, not as corrupt."""


class TooLargeError(BadInputError):
    """An image header claims more pixels than any real dataset image has."""


IMAGE_EXTS = frozenset({".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff"})
# Largest image himfmt will decode (8K x 8K x 4). Real matting data is at most
# about 6K x 4K; anything claiming more is treated as a decompression bomb.
MAX_PIXELS = 8192 * 8192 * 4
MAX_READ = 1 << 30  # no file himfmt reads whole (a picture, a pair list) is larger


class ImageInfo(NamedTuple):
    width: int
    height: int
    mode: str  # Pillow mode: 'L', 'RGB', 'RGBA', 'I;16', 'P', ...
    format: str  # 'JPEG', 'PNG', ...
    orientation: int = 1  # EXIF orientation; 5-8 swap width and height when applied

    @property
    def size(self) -> tuple[int, int]:
        return (self.width, self.height)


def is_image_name(name: str) -> bool:
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in IMAGE_EXTS


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type and bit depth -> Pillow's mode name.
_PNG_MODES = {
    (0, 8): "L",
    (0, 16): "I;16",
    (0, 1): "1",
    (0, 2): "L;2",
    (0, 4): "L;4",
    (2, 8): "RGB",
    (2, 16): "RGB;16",
    (3, 8): "P",
    (3, 4): "P",
    (3, 2): "P",
    (3, 1): "P",
    (4, 8): "LA",
    (4, 16): "LA;16",
    (6, 8): "RGBA",
    (6, 16): "RGBA;16",
}


def _png_info(head: bytes) -> ImageInfo | None:
    """Parse the IHDR chunk directly: a structure pass reads one per matte, and Image.open costs several times more."""
    if len(head) < 29 or head[:8] != PNG_SIGNATURE or head[12:16] != b"IHDR":
        return None
    width, height = int.from_bytes(head[16:20], "big"), int.from_bytes(head[20:24], "big")
    mode = _PNG_MODES.get((head[25], head[24]))
    return ImageInfo(width, height, mode, "PNG") if mode else None


# Start-of-frame markers (baseline, progressive, lossless, arithmetic); C4, C8 and CC are not frames.
_JPEG_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_JPEG_MODES = {1: "L", 3: "RGB", 4: "CMYK"}
_JPEG_SCAN = 1 << 20  # header segments read at most before the frame header; past it, Pillow decides


def _exif_orientation(app1: bytes) -> int:
    """Tag 0x0112 of IFD0 in an APP1 Exif segment (1 when absent or unreadable)."""
    tiff = app1[6:]
    if app1[:6] != b"Exif\0\0" or tiff[:2] not in (b"II", b"MM"):
        return 1
    order: Literal["little", "big"] = "little" if tiff[:2] == b"II" else "big"
    ifd = int.from_bytes(tiff[4:8], order)
    count = int.from_bytes(tiff[ifd : ifd + 2], order)
    for k in range(count):
        entry = tiff[ifd + 2 + 12 * k : ifd + 14 + 12 * k]
        if len(entry) == 12 and int.from_bytes(entry[:2], order) == 0x0112:
            return int.from_bytes(entry[8:10], order) or 1
    return 1


def _jpeg_info(f: BinaryIO) -> ImageInfo | None:
    """Walk the marker segments to the frame header: several times cheaper than Image.open, once per photo.

    None when anything is unusual (Pillow then reads the file and names the problem).
    """
    f.seek(2)
    orientation, scanned = 1, 2
    while scanned < _JPEG_SCAN:
        marker = f.read(4)
        if len(marker) < 4 or marker[0] != 0xFF or marker[1] in (0xD8, 0xD9, 0xDA, 0xFF):
            return None
        length = int.from_bytes(marker[2:4], "big")
        body = f.read(length - 2)
        scanned += 2 + length
        if len(body) != length - 2:
            return None
        if marker[1] in _JPEG_SOF:
            mode = _JPEG_MODES.get(body[5]) if len(body) >= 6 else None
            height, width = int.from_bytes(body[1:3], "big"), int.from_bytes(body[3:5], "big")
            # A height of 0 may be given later (a DNL marker: Pillow decides); a width of 0 is an empty picture.
            return ImageInfo(width, height, mode, "JPEG", orientation) if mode and (height or not width) else None
        if marker[1] == 0xE1 and orientation == 1:
            orientation = _exif_orientation(body)
    return None


def _parsed_info(head: bytes, rest: Callable[[], BinaryIO]) -> ImageInfo | None:
    """A PNG's IHDR from ``head`` (at least the first 33 bytes), or a JPEG's frame header read on
    from the file ``rest()`` gives (asked for only for a JPEG)."""
    return _png_info(head) or (_jpeg_info(rest()) if head[:2] == b"\xff\xd8" else None)


HEAD_BYTES = 4096  # read at once for a header: a PNG's IHDR, and a JPEG's frame header unless large EXIF comes first


def info_from_head(head: bytes) -> ImageInfo | None:
    """The header from a file's first bytes alone (one read, no file object: what a structure pass
    over 200,000 files can afford), or None when they do not settle it, or claim too many pixels:
    :func:`read_info` must read the file then, and names the problem."""
    info = _parsed_info(head, lambda: io.BytesIO(head))
    return info if info is not None and plausible(info.width, info.height) else None


def read_info(f: BinaryIO, where: str) -> ImageInfo:
    """Header of an image file; raises BadInputError if it is not an image or too large."""
    info = _parsed_info(f.read(33), lambda: f)
    if info is not None:
        check_pixels(info.width, info.height, where)
        return info
    f.seek(0)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with Image.open(f) as im:
                orientation = int(im.getexif().get(0x0112, 1) or 1) if im.format in ("JPEG", "TIFF", "WEBP") else 1
                info = ImageInfo(im.width, im.height, im.mode, im.format or "", orientation)
    except Exception as exc:  # Pillow raises many types for garbage input
        raise BadInputError(f"not a readable image ({type(exc).__name__}: {exc})", where) from None
    check_pixels(info.width, info.height, where)
    return info


def max_file_bytes(info: ImageInfo) -> int:
    """The most bytes a file with this header can sensibly hold: 8 bytes a pixel (16-bit RGBA, stored
    uncompressed) plus 1 MiB of metadata. A larger file (a sparse or padded one) is refused unread."""
    return info.width * info.height * 8 + (1 << 20)


def read_image_bytes(f: BinaryIO, size: int, where: str) -> bytes:
    """The bytes of an image file of ``size`` bytes, after its header proves the size plausible."""
    info = read_info(f, where)
    if size > max_file_bytes(info):
        raise TooLargeError(f"is {size:,} bytes, more than a {info.width}x{info.height} image can need", where)
    f.seek(0)
    return f.read(size + 1)


def plausible(width: int, height: int) -> bool:
    return width > 0 and height > 0 and width * height <= MAX_PIXELS


def check_pixels(width: int, height: int, where: str) -> None:
    if width <= 0 or height <= 0:
        raise BadInputError(f"the header says {width}x{height} pixels: an empty picture (a damaged header)", where)
    if not plausible(width, height):
        raise TooLargeError(
            f"image header claims {width}x{height} pixels; refusing to decode "
            f"(more than {MAX_PIXELS} pixels looks like a decompression bomb)",
            where,
        )


def check_complete(data: bytes, info: ImageInfo, where: str) -> None:
    """Refuse truncated files: libjpeg fills a cut-off JPEG with grey and returns it."""
    tail = data[-64:].rstrip(b"\0")
    if info.format == "JPEG" and not tail.endswith(b"\xff\xd9"):
        raise BadInputError("JPEG is truncated (no end-of-image marker)", where)
    if info.format == "PNG":
        if b"IEND" not in tail:
            raise BadInputError("PNG is truncated (no IEND chunk)", where)
        check_png_chunks(data, where)


def check_png_chunks(data: bytes, where: str) -> None:
    """Refuse what Pillow (MaGGIe's loader) refuses: a text or ICC chunk inflating past its limits."""
    from PIL import PngImagePlugin

    limit, total, pos = PngImagePlugin.MAX_TEXT_CHUNK, 0, 8
    while pos + 8 <= len(data):
        length, kind = int.from_bytes(data[pos : pos + 4], "big"), data[pos + 4 : pos + 8]
        body = data[pos + 8 : pos + 8 + length]
        if kind in (b"tEXt", b"zTXt", b"iTXt", b"iCCP"):
            size = len(body)
            if kind in (b"zTXt", b"iCCP") and b"\0" in body:
                size = _inflated_size(body[body.index(b"\0") + 2 :], limit + 1)
            total += size
            if size > limit or total > PngImagePlugin.MAX_TEXT_MEMORY:
                raise BadInputError(
                    f"its {kind.decode()} chunk inflates past Pillow's {limit:,}-byte limit; Pillow (MaGGIe's loaders) refuses to open it",
                    where,
                )
        if kind == b"IEND":
            return
        pos += 12 + length


def _inflated_size(compressed: bytes, cap: int) -> int:
    """How many bytes ``compressed`` inflates to, counting no further than ``cap``."""
    import zlib

    d = zlib.decompressobj()
    try:
        return len(d.decompress(compressed, cap))
    except zlib.error:
        return 0  # a broken stream: Pillow skips it


def _imdecode(data: bytes, where: str, flags: int, jpeg_flags: int | None = None) -> np.ndarray:
    """OpenCV's decode of image bytes after a header check (a corrupt or truncated file is one line);
    ``jpeg_flags``, when given, decode a JPEG instead of ``flags``."""
    info = read_info(io.BytesIO(data), where)
    check_complete(data, info, where)
    if info.format != "JPEG":
        arr = cv2.imdecode(np.frombuffer(data, np.uint8), flags)
    else:
        with libjpeg.caught() as said:  # its warnings never reach the terminal
            arr = cv2.imdecode(np.frombuffer(data, np.uint8), jpeg_flags if jpeg_flags is not None else flags)
        if said and STRICT.get():
            raise BadInputError(f"JPEG data is corrupt (libjpeg: {said[0]})", where)
    if arr is None:
        raise BadInputError("image data is corrupt or truncated", where)
    return arr


@contextmanager
def strict() -> Iterator[None]:
    """Within the block, a JPEG that libjpeg decodes only with warnings of damage is corrupt (deep validation);
    elsewhere it is read as the peer loaders read it, and the warnings are kept off the terminal."""
    token = STRICT.set(True)
    try:
        yield
    finally:
        STRICT.reset(token)


def one_codec_thread() -> None:
    """Parallelism comes from worker processes, not codec threads: for himfmt's own processes (its workers,
    the CLI), never for a library caller's."""
    cv2.setNumThreads(1)


def decode(data: bytes, where: str) -> np.ndarray:
    """Decode image bytes as stored (grey, RGB or RGBA; 16-bit stays 16-bit); RGB(A) channel order."""
    arr = _imdecode(data, where, cv2.IMREAD_UNCHANGED)
    if arr.ndim == 3:
        code = cv2.COLOR_BGRA2RGBA if arr.shape[2] == 4 else cv2.COLOR_BGR2RGB
        arr = cv2.cvtColor(arr, code)
    return arr


def verify(data: bytes, where: str) -> None:
    """Decode only to prove the file is sound (deep validation).

    JPEGs are decoded with libjpeg's DCT-domain 1/2 scaling: every coefficient is
    still entropy-decoded, so corruption is found at about half the cost, and
    truncation is caught by :func:`check_complete`.
    """
    _imdecode(data, where, cv2.IMREAD_UNCHANGED, cv2.IMREAD_REDUCED_COLOR_2 | cv2.IMREAD_IGNORE_ORIENTATION)


def decode_rgb(data: bytes, where: str) -> np.ndarray:
    """HxWx3 uint8 RGB, as the MaGGIe loaders open images (``.convert('RGB')``)."""
    # EXIF orientation is ignored, as MaGGIe's Pillow loaders ignore it: pixels stay where the mattes are.
    # The codec writes RGB itself: no BGR copy to turn round.
    return _imdecode(data, where, cv2.IMREAD_COLOR_RGB | cv2.IMREAD_IGNORE_ORIENTATION)


def decode_gray(data: bytes, where: str, channel: int | None = None) -> np.ndarray:
    """HxW uint8 matte or mask.

    Without ``channel`` the file must be 8-bit single-channel (a 16-bit, RGBA or
    palette matte is refused: MaGGIe's ``convert('L')`` would silently corrupt
    it). With ``channel`` that channel of a colour image is taken (DVM stores
    alpha as grey JPEG; RGBA frames carry the matte in channel 3).
    """
    arr = decode(data, where)
    if arr.dtype != np.uint8:
        raise WrongModeError(f"expected 8-bit data, found {arr.dtype.itemsize * 8}-bit", where)
    if channel is None:
        if arr.ndim != 2:
            raise WrongModeError(f"expected a single-channel matte, found {arr.shape[2]} channels", where)
        return arr
    if arr.ndim == 2:
        return arr
    if channel >= arr.shape[2]:
        raise BadInputError(f"has no channel {channel} ({arr.shape[2]} channels)", where)
    return np.ascontiguousarray(arr[:, :, channel])


def viewable_gray(data: bytes, where: str) -> np.ndarray:
    """Any matte-like file as 8-bit grey to look at (a 16-bit one scaled, a colour one's first channel):
    for pictures of problems only; loaders' rules are :func:`decode_gray`'s."""
    arr = decode(data, where)
    arr = arr if arr.ndim == 2 else arr[:, :, 0]
    return np.ascontiguousarray(arr >> 8 if arr.dtype == np.uint16 else arr).astype(np.uint8)


def encode_jpeg(rgb: np.ndarray, quality: int = 95) -> bytes:
    """JPEG bytes (4:2:0, libjpeg-turbo via OpenCV); input RGB or grey."""
    img = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR) if rgb.ndim == 3 else rgb
    ok, buf = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise BadInputError("JPEG encoding failed")
    return buf.tobytes()


def encode_png(arr: np.ndarray) -> bytes:
    """PNG bytes with OpenCV's default settings.

    Passing any IMWRITE_PNG_COMPRESSION level, or encoding with Pillow, takes several times longer for
    a matte (docs/performance.md).
    """
    if arr.ndim == 3:
        code = cv2.COLOR_RGBA2BGRA if arr.shape[2] == 4 else cv2.COLOR_RGB2BGR
        arr = cv2.cvtColor(arr, code)
    ok, buf = cv2.imencode(".png", arr)
    if not ok:
        raise BadInputError("PNG encoding failed")
    return buf.tobytes()


def encode(arr: np.ndarray, suffix: str, quality: int = 95) -> bytes:
    """Encode by target file suffix."""
    if suffix in (".jpg", ".jpeg"):
        return encode_jpeg(arr, quality)
    if suffix == ".png":
        return encode_png(arr)
    raise BadInputError(f"cannot encode images as {suffix}")
