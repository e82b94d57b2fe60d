"""Video streams with PyAV, one frame at a time.

Reading: headers give size and frame count without decoding; frames are
decoded sequentially by a small per-process cache of open decoders, so
reading frame i+1 after frame i costs one frame, and memory does not grow
with clip length. Mattes take the Y plane only (no colour conversion);
limited-range streams (Y in 16-235, as real DVM alpha
videos are) are mapped back to full range 0-255.

Writing: alpha is H.264 lossless (libx264 ``qp=0``, yuv444p, full range):
every FFmpeg-based reader, OpenCV included, decodes it back bit-exact.
Colour streams use libx264 CRF 18 (yuv420p; yuv444p where a side is odd, so
no row or column is dropped).
"""

from __future__ import annotations

import atexit
import functools
import struct
from collections import OrderedDict
from types import ModuleType
from typing import TYPE_CHECKING, BinaryIO, Iterator, Protocol

import cv2
import numpy as np

from himfmt.errors import BadInputError, HimfmtError
from himfmt.io.files import OutDir, write_error
from himfmt.io.images import ImageInfo, check_pixels

if TYPE_CHECKING:
    import av

    from himfmt.io.tree import Tree


class FrameRef(Protocol):
    """What the stream readers need of a picture reference (the model's FileRef is one)."""

    @property
    def tree(self) -> "Tree": ...

    @property
    def path(self) -> str: ...

    @property
    def frame(self) -> int | None: ...

    @property
    def channel(self) -> int | None: ...

    @property
    def where(self) -> str: ...


VIDEO_EXTS = frozenset({".mp4", ".mov", ".mkv", ".avi", ".webm"})
FULL_RANGE = 2  # AVCOL_RANGE_JPEG
BT601 = 6  # AVCOL_SPC_SMPTE170M: the matrix OpenCV's RGB->YUV conversions use
_LIMITED_TO_FULL = np.clip(np.rint((np.arange(256) - 16) * 255.0 / 219.0), 0, 255).astype(np.uint8)
_MAX_OPEN = 4
ARCHIVE_SEP = "!/"  # an archive member's path (himfmt.io.archive.SEP)


@functools.cache
def _pyav() -> ModuleType:
    """PyAV, imported when a stream is first opened: a process that reads no video (a structure pass, image
    synthesis, a worker) does not pay for it; MP4 headers are parsed without it."""
    import av

    av.logging.set_level(av.logging.PANIC)  # corrupt input is reported by us, not printed by FFmpeg
    return av


def is_video_name(name: str) -> bool:
    dot = name.rfind(".")
    return dot > 0 and name[dot:].lower() in VIDEO_EXTS


class StreamInfo:
    """Size and frame count of a video's first video stream.

    MP4/MOV headers are parsed directly (``moov`` boxes: the sample entry's
    size, ``stsz``'s sample count), hundreds of times cheaper than FFmpeg's
    stream probing, which decodes frames. That matters for a
    DVM source of 4,000 background clips. Anything else, or a header that
    does not parse, goes through PyAV.
    """

    def __init__(self, path: str) -> None:
        if ARCHIVE_SEP in path:
            raise BadInputError(
                "is a video inside an archive: videos are not read in place; unpack the archive first (himfmt unpack)", path
            )
        fast = mp4_header(path) if path.lower().endswith((".mp4", ".mov")) else None
        if fast is not None:
            self.width, self.height, self.frames = fast
        else:
            self._probe(path)
        check_pixels(self.width, self.height, path)

    def _probe(self, path: str) -> None:
        pyav = _pyav()
        try:
            with pyav.open(path) as c:
                if not c.streams.video:
                    raise BadInputError("has no video stream", path)
                s = c.streams.video[0]
                self.width, self.height = s.codec_context.width, s.codec_context.height
                self.frames = s.frames or sum(1 for p in c.demux(s) if p.size)
        except BadInputError:
            raise
        except (pyav.FFmpegError, OSError, ValueError) as exc:
            raise BadInputError(f"not a readable video ({exc})", path) from None


def _boxes(f: BinaryIO, start: int, end: int) -> Iterator[tuple[bytes, int, int]]:
    """(type, payload start, box end) of the ISO-BMFF boxes between ``start`` and ``end``."""
    pos = start
    while pos + 8 <= end:
        f.seek(pos)
        size, kind = struct.unpack(">I4s", f.read(8))
        head = 8
        if size == 1:
            size, head = struct.unpack(">Q", f.read(8))[0], 16
        elif size == 0:
            size = end - pos
        if size < head or pos + size > end:
            return
        yield kind, pos + head, pos + size
        pos += size


def _child(f: BinaryIO, start: int, end: int, kind: bytes) -> tuple[int, int] | None:
    return next(((s, e) for k, s, e in _boxes(f, start, end) if k == kind), None)


def mp4_header(path: str) -> tuple[int, int, int] | None:
    """(width, height, frames) of the first video track of an MP4/MOV, or None if it does not parse."""
    try:
        with open(path, "rb") as f:
            end = f.seek(0, 2)
            moov = _child(f, 0, end, b"moov")
            for kind, ts, te in _boxes(f, *moov) if moov else ():
                if kind != b"trak" or (mdia := _child(f, ts, te, b"mdia")) is None:
                    continue
                hdlr = _child(f, *mdia, b"hdlr")
                if hdlr is None:
                    continue
                f.seek(hdlr[0] + 8)
                if f.read(4) != b"vide":
                    continue
                stbl = (minf := _child(f, *mdia, b"minf")) and _child(f, *minf, b"stbl")
                stsd, stsz = (_child(f, *stbl, b"stsd"), _child(f, *stbl, b"stsz")) if stbl else (None, None)
                if stsd is None or stsz is None:
                    return None
                f.seek(stsd[0] + 8 + 8 + 6 + 2 + 16)  # stsd header, entry header, reserved, data ref, pre-defined
                width, height = struct.unpack(">HH", f.read(4))
                f.seek(stsz[0] + 8)
                (frames,) = struct.unpack(">I", f.read(4))
                return (width, height, frames) if width and height and frames else None
    except (OSError, struct.error):
        return None
    return None


def frame_info(ref: FrameRef) -> ImageInfo:
    info = StreamInfo(ref.tree.abspath(ref.path))
    if ref.frame is not None and not 0 <= ref.frame < info.frames:
        raise BadInputError(f"has {info.frames} frames; frame {ref.frame} does not exist", ref.where)
    return ImageInfo(info.width, info.height, "L" if ref.channel is not None else "RGB", "H264")


def _plane(frame: av.VideoFrame, k: int, rows: int, cols: int) -> np.ndarray:
    """Plane ``k`` of a decoded frame as a rows x cols view (its row padding cut off)."""
    plane = frame.planes[k]
    return np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[:rows, :cols]


def _gray(frame: av.VideoFrame) -> np.ndarray:
    """The Y plane as a full-range matte."""
    y = _plane(frame, 0, frame.height, frame.width)
    full = frame.color_range == FULL_RANGE or frame.format.name.startswith(("yuvj", "gray"))
    return y.copy() if full else _LIMITED_TO_FULL[y]


_BT601 = (2, 5, 6)  # unspecified (FFmpeg's default is BT.601 too), BT.470BG, SMPTE 170M


def _rgb(frame: av.VideoFrame) -> np.ndarray:
    """An RGB frame; limited-range BT.601 4:2:0 through OpenCV.

    OpenCV's I420 conversion is several times faster than swscale's (docs/performance.md)
    and is the inverse of the conversion himfmt's own
    writer uses. Other matrices, ranges and chroma layouts go to swscale.
    """
    w, h = frame.width, frame.height
    if frame.format.name != "yuv420p" or frame.color_range == FULL_RANGE or frame.colorspace not in _BT601 or w % 2 or h % 2:
        return frame.to_ndarray(format="rgb24")
    # I420 is the three planes end to end, read as w-wide rows: a chroma plane may start inside a row.
    planes = [_plane(frame, k, *((h, w) if k == 0 else (h // 2, w // 2))).reshape(-1) for k in (0, 1, 2)]
    return cv2.cvtColor(np.concatenate(planes).reshape(h * 3 // 2, w), cv2.COLOR_YUV2RGB_I420)


def iter_frames(path: str, gray: bool = False, start: int = 0) -> Iterator[np.ndarray]:
    """Decode frames from ``start`` on, one at a time (RGB HxWx3, or HxW mattes)."""
    pyav = _pyav()
    try:
        with pyav.open(path) as c:
            s = c.streams.video[0]
            # One decoding thread: himfmt runs one process per core, and FFmpeg's frame threads
            # only add CPU on top (docs/performance.md).
            s.thread_type = "NONE"
            for i, frame in enumerate(c.decode(s)):
                if i < start:
                    continue
                yield _gray(frame) if gray else _rgb(frame)
    except (pyav.FFmpegError, OSError, IndexError) as exc:
        raise BadInputError(f"video is corrupt or truncated ({exc})", path) from None


class _Cursor:
    def __init__(self, path: str, gray: bool, start: int) -> None:
        self.frames = iter_frames(path, gray, start)
        self.next = start


_open: "OrderedDict[tuple[str, bool], _Cursor]" = OrderedDict()
# Close the open decoders while PyAV is still whole: left to the interpreter's teardown, a decoder's
# generator is closed after PyAV's names are cleared, and Python prints a TypeError from its except clause.
atexit.register(_open.clear)


def read_frame(ref: FrameRef, gray: bool) -> np.ndarray:
    """Frame ``ref.frame`` of a stream; sequential reads reuse one open decoder."""
    path = ref.tree.abspath(ref.path)
    key = (path, gray)
    index = ref.frame or 0
    cur = _open.pop(key, None)
    if cur is None or cur.next > index:
        cur = _Cursor(path, gray, index)
    while True:
        try:
            arr = next(cur.frames)
        except StopIteration:
            raise BadInputError(f"has no frame {index} (stream ended at {cur.next})", path) from None
        cur.next += 1
        if cur.next > index:
            break
    _open[key] = cur
    while len(_open) > _MAX_OPEN:
        _open.popitem(last=False)
    return arr


def planar_frame(planes: list[np.ndarray], fmt: str, width: int, height: int) -> av.VideoFrame:
    """A frame whose every byte, row padding included, is written.

    ``from_ndarray`` leaves the padding at the end of each row uninitialised and
    the encoder reads it, which made encoded bytes depend on heap contents (seen:
    two identical encodes in one process differed). So colour conversion is done
    here (OpenCV, BT.601) rather than by swscale, and padding is zero.
    """
    frame = _pyav().VideoFrame(width, height, fmt)
    for plane, arr in zip(frame.planes, planes):
        rows, cols = arr.shape
        buf = np.empty((rows, plane.line_size), np.uint8)
        buf[:, :cols] = arr
        buf[:, cols:] = 0
        plane.update(buf)  # type: ignore[arg-type]  # the stub says bytes; any buffer works, without a copy
    return frame


class VideoWriter:
    """Encode frames one by one into ``dst``; the file appears only when complete."""

    def __init__(self, out: OutDir, rel: str, width: int, height: int, fps: float = 25.0, alpha: bool = False, crf: int = 18) -> None:
        self.dst, self.alpha = out.display(rel), alpha
        self.size = (width, height)
        self.pending = out.open_pending(rel)  # the container format is given explicitly below
        pyav = _pyav()
        try:
            self.container = pyav.open(self.pending.file, "w", format="mp4")
        except (pyav.FFmpegError, OSError) as exc:
            self.pending.abort()
            raise HimfmtError(f"cannot write video ({exc})", self.dst) from None
        s = self.container.add_stream("libx264", rate=round(fps))
        s.width, s.height = width, height
        odd = width % 2 or height % 2
        if alpha:
            s.pix_fmt = "yuv444p"
            s.options = {"qp": "0", "preset": "veryfast"}
            s.codec_context.color_range = FULL_RANGE
        else:
            s.pix_fmt = "yuv444p" if odd else "yuv420p"
            # mbtree off: x264's macroblock-tree code reads uninitialised memory, so
            # with it the same frames encode to different bytes (measured here).
            s.options = {"crf": str(crf), "preset": "veryfast", "x264-params": "mbtree=0"}
            s.codec_context.colorspace = BT601
            if odd:
                s.codec_context.color_range = FULL_RANGE
        self.stream = s
        self.count = 0
        self._chroma: np.ndarray | None = None

    def write(self, arr: np.ndarray) -> None:
        h, w = arr.shape[:2]
        if (w, h) != self.size:
            raise BadInputError(f"frame {self.count} is {w}x{h}, the video is {self.size[0]}x{self.size[1]}", str(self.dst))
        if self.alpha:
            if self._chroma is None:
                self._chroma = np.full((h, w), 128, np.uint8)
            frame = planar_frame([arr, self._chroma, self._chroma], "yuv444p", w, h)
            frame.color_range = FULL_RANGE
        elif self.stream.pix_fmt == "yuv420p":
            i420 = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2YUV_I420).reshape(-1)  # BT.601, limited range
            # The planes follow each other: Y (h x w), then U and V (h/2 x w/2 each), not in whole rows of w
            # (a height that is not a multiple of 4 puts a plane's start inside a row).
            q = (h // 2) * (w // 2)
            planes = [i420[: h * w].reshape(h, w), *(i420[h * w + k * q : h * w + (k + 1) * q].reshape(h // 2, w // 2) for k in (0, 1))]
            frame = planar_frame(planes, "yuv420p", w, h)
            frame.colorspace = BT601
        else:
            ycrcb = cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_RGB2YCrCb)  # BT.601, full range
            frame = planar_frame([ycrcb[:, :, 0], ycrcb[:, :, 2], ycrcb[:, :, 1]], "yuv444p", w, h)
            frame.colorspace = BT601
            frame.color_range = FULL_RANGE
        self._mux(frame)
        self.count += 1

    def _mux(self, frame: av.VideoFrame | None) -> None:
        try:
            for packet in self.stream.encode(frame):
                self.container.mux(packet)
        except OSError as exc:
            self.abort()
            raise write_error(exc, self.dst) from None

    def close(self) -> None:
        self._mux(None)
        try:
            self.container.close()
        except OSError as exc:
            self.pending.abort()
            raise write_error(exc, self.dst) from None
        self.pending.commit()

    def abort(self) -> None:
        try:
            self.container.close()
        except Exception:  # closing a half-written container may itself fail
            pass
        self.pending.abort()

    def __enter__(self) -> "VideoWriter":
        return self

    def __exit__(self, exc_type: object, *rest: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()
