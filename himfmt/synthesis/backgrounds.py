"""Backgrounds for the video recipes: still images, frame folders or video files.

One folder may mix all three (``bg=`` of ``video_him`` and ``people_walk``):
image files are stills, sub-folders of images are clips, video files are
clips decoded frame by frame. Everything is listed once, sorted by name, and
a clip's frame count is read from its header only when the clip is drawn, so
a folder of 4,000 videos costs nothing until it is used. A clip that runs out
stays frozen on its last frame.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from himfmt.errors import HimfmtError
from himfmt.io.archive import open_tree
from himfmt.io.images import is_image_name
from himfmt.io.tree import join
from himfmt.io.video import StreamInfo, is_video_name
from himfmt.layouts.base import image_stems
from himfmt.model import FileRef


@dataclass
class Background:
    """A still (``frames`` holds one picture) or a clip of frames or a video stream."""

    name: str
    frames: list[FileRef] = field(default_factory=list)
    video: FileRef | None = None  # the stream, when the clip is a video file
    still: bool = False
    _count: int | None = None

    @property
    def where(self) -> str:
        return (self.video or self.frames[0]).where

    def count(self) -> int:
        """Frames in the clip (1 for a still); a video's header is read once, here."""
        if self._count is None:
            if self.video is not None:
                self._count = StreamInfo(self.video.tree.abspath(self.video.path)).frames
            else:
                self._count = len(self.frames)
        return self._count

    def size(self) -> tuple[int, int]:
        return (self.video or self.frames[0]).size()

    def ref(self, k: int) -> FileRef:
        """Frame ``k``, frozen on the last frame once the clip runs out."""
        k = min(max(k, 0), self.count() - 1)
        if self.video is not None:
            return self.video._replace(frame=k)
        return self.frames[k]

    def read(self, k: int) -> np.ndarray:
        return self.ref(k).read_rgb()


# Two frames of one clip, as 32x32 grey thumbnails, differ by a few grey levels on average (about 2 in real
# footage, 10-15 in fast pans); unrelated pictures by 30-80. Above this, a "frame sequence" is a folder of stills.
CUT = 24.0
PROBE = 5  # frames of each sequence compared, from its start


def _thumb(ref: FileRef) -> np.ndarray:
    return cv2.resize(cv2.cvtColor(ref.read_rgb(), cv2.COLOR_RGB2GRAY), (32, 32), interpolation=cv2.INTER_AREA).astype(np.float32)


def check_sequence(bg: Background, given: str) -> None:
    """Refuse a frame folder that is no clip: frames of several sizes, or consecutive frames as different as
    unrelated pictures (a folder of stills, such as BG-20K's train/, given one level too high)."""
    fix = f"if {bg.name}/ holds still pictures, pass bg={given.rstrip('/')}/{bg.name}"
    sizes = sorted({f.size() for f in bg.frames})
    if len(sizes) > 1:
        raise HimfmtError(
            f"bg: the folder {bg.name}/ is read as one frame sequence, but its {len(bg.frames)} frames "
            f"have {len(sizes)} sizes ({sizes[0][0]}x{sizes[0][1]}, {sizes[1][0]}x{sizes[1][1]}, ...): "
            f"a clip's frames share one size; {fix}",
            given,
        )
    thumbs = [_thumb(f) for f in bg.frames[:PROBE]]
    for k in range(1, len(thumbs)):
        diff = float(np.abs(thumbs[k] - thumbs[k - 1]).mean())
        if diff > CUT:
            raise HimfmtError(
                f"bg: the folder {bg.name}/ is read as one frame sequence, but its frames "
                f"{bg.frames[k - 1].name} and {bg.frames[k].name} differ like unrelated pictures (mean "
                f"difference {diff:.0f} grey levels; a clip's consecutive frames differ by a few): {fix}",
                given,
            )


def read_as(backgrounds: list[Background]) -> str:
    """What the bg input was read as, in words (said before any work)."""
    stills = sum(b.still for b in backgrounds)
    seqs = [b for b in backgrounds if not b.still and b.video is None]
    videos = len(backgrounds) - stills - len(seqs)
    named = ", ".join(f"'{b.name}' ({len(b.frames)} frames)" for b in seqs[:3]) + (", ..." if len(seqs) > 3 else "")
    return f"{stills} still(s), {len(seqs)} frame sequence(s)" + (f" {named}" if seqs else "") + f", {videos} video(s)"


def load_backgrounds(path: str) -> list[Background]:
    """Every still, frame folder and video file in ``path`` (one level of folders); frame folders checked."""
    tree = open_tree(path)
    out: list[Background] = []
    for name in tree.files(""):
        if is_image_name(name):
            out.append(Background(name, [FileRef(tree, name)], still=True))
        elif is_video_name(name):
            out.append(Background(name, video=FileRef(tree, name, 0)))
    for d in tree.dirs(""):
        frames = [FileRef(tree, join(d, f)) for _, f in sorted(image_stems(tree, d).items())]
        if frames:
            out.append(Background(d, frames))
            check_sequence(out[-1], path)
        else:
            out.extend(Background(join(d, n), video=FileRef(tree, join(d, n), 0)) for n in tree.files(d) if is_video_name(n))
    if not out:
        raise HimfmtError("no background images, frame folders or videos found", tree.display(""))
    return sorted(out, key=lambda b: b.name)
