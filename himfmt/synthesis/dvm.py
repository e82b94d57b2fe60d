"""Recipe C, DVM composition (the DVM training/testing sequences), without its defects.

Per pair line: the fg (an image, or ``f.mp4``/``a.mp4`` read frame by frame)
is shrunk so no side exceeds ``max_side``; the bg video is upscaled if it is
smaller than the fg and cropped to a window of ``min(1.2 x fg, bg, max_side,
2 x fg)`` per axis at one random offset per sequence; frames =
``min(fg, bg, 60 | 150)``; an image fg follows the random walk of
:mod:`himfmt.synthesis.motion`, a video fg stands still at the centre. Unlike
the published generator: integer compositing with rounding inside the
person's box, no dropped row or column on odd sizes, a seed that works under
any start method, and f/a videos of different lengths reported, not skipped
in silence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Optional

import cv2
import numpy as np

from himfmt.errors import BadInputError, HimfmtError
from himfmt.layouts.base import stem
from himfmt.layouts.dvm_pairs import Pair, parse_pairs
from himfmt.layouts.dvm_source import PHASES
from himfmt.model import Dataset, FileRef, Sample, need
from himfmt.synthesis.clip import Layer, LayerClip
from himfmt.synthesis.foreground import ForegroundEstimator, ForegroundOption, estimator_for
from himfmt.synthesis.inputs import one_dataset, said
from himfmt.synthesis.motion import WalkParams, alpha_box, posed, random_walk
from himfmt.synthesis.recipe import RecipeConfig, RecipeEntry

NAME = "dvm"


@dataclass
class Params(ForegroundOption):  # foreground: the colours of image fgs (video fgs are pasted as they are)
    max_side: int = 1920  # fgs are shrunk (cubic) so neither side exceeds it; also caps the window
    window: float = 1.2  # crop window = min(window x fg, bg, max_side, 2 x fg) per axis
    image_frames: int = 60
    video_frames: int = 150
    blur: bool = False  # Gaussian blur of every bg frame (published: off)
    blur_kernel: int = 9
    walk: WalkParams = field(default_factory=WalkParams)


@dataclass
class Config(RecipeConfig, Params):
    """``recipe=dvm``: DVM's composite generator over a pair list (n: every pair)."""

    layout: str = "dvm_composed"
    attempts: int = 1
    jpeg_quality: int = 95  # DVM's generator writes quality 95
    png_alpha: bool = True  # also keep a lossless PNG copy of the JPEG alpha (a_png/)
    trimap: Optional[tuple[int, int]] = None  # also write trimaps: [kernel, iterations] (DVM: [3, 5])


@dataclass
class Job:
    """One pair line resolved against the source tree."""

    seq: str
    fg: Sample
    bg: Sample
    problem: str | None = None  # why DVM would skip this pair


def _pair_key(fg: Sample) -> tuple[str, str]:
    """How a pair list names a foreground: a video by its folder, an image by its file name."""
    image = fg.frames[0].image if fg.frames else None
    return ("video", fg.id) if fg.is_clip else ("image", image.name if isinstance(image, FileRef) else fg.id)


def jobs_from(source: Dataset, pairs: list[Pair], phase: str) -> list[Job]:
    """The pairs of ``phase`` as jobs; a missing fg or bg stops the run before any work."""
    fgs = {_pair_key(s): s for s in source.samples if s.split == phase}
    bgs = {(b.id, b.split): b for b in source.backgrounds}
    mismatched = {n.path.rsplit("/", 1)[-1]: n.message for n in source.notes if n.code == "dvm.frame_count_mismatch"}
    jobs, missing = [], []
    for pair in pairs:
        fg = fgs.get((pair.kind, pair.fg))
        bg = bgs.get((stem(pair.bg), phase))
        if fg is None or bg is None:
            missing.append(f"line {pair.line}: " + ("fg " + pair.fg if fg is None else "bg " + pair.bg) + f" not in the {phase} phase")
            continue
        problem = (mismatched.get(pair.fg) or _unreadable(source, fg)) if pair.kind == "video" else None
        jobs.append(Job(pair.sequence, fg, bg, problem))
    if missing:
        more = f" (and {len(missing) - 3} more)" if len(missing) > 3 else ""
        raise HimfmtError("the pair list names what the source does not hold: " + "; ".join(missing[:3]) + more)
    return jobs


def _unreadable(source: Dataset, fg: Sample) -> str | None:
    """Why a video fg has no frames: its f.mp4 or a.mp4 missing or unreadable, named with its path."""
    if fg.frames:
        return None
    folder = f"/fg/video/{fg.split}/{fg.id}/"
    said = [
        f"{source.tree.display(n.path)}: {n.message}"
        for n in source.notes
        if n.code in ("file.corrupt", "dvm.stream_missing") and f"/{n.path}".endswith(tuple(folder + s for s in ("f.mp4", "a.mp4")))
    ]
    return "; ".join(said) or f"{source.tree.display(folder.strip('/'))}: f.mp4 and a.mp4 hold no frames"


def _shrink(max_side: int, w: int, h: int) -> float:
    return min(1.0, max_side / w, max_side / h)


def _resize(arr: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    return arr if (arr.shape[1], arr.shape[0]) == size else cv2.resize(arr, size, interpolation=cv2.INTER_CUBIC)


def window(frame: np.ndarray, size: tuple[int, int], box: tuple[int, int, int, int]) -> np.ndarray:
    """The ``box`` (x, y, w, h) of ``frame`` resized (cubic) to ``size``, resizing only what the box needs.

    Only the source rows and columns under the box (plus the cubic kernel's
    reach) are resized, at exactly the full resize's scale: on DVM's 720p
    clips under a 1200x2000 fg that is 40% of the work. The box lands within
    half a pixel of where it would in the full resize.
    """
    x, y, w, h = box
    if (frame.shape[1], frame.shape[0]) == size:
        return np.ascontiguousarray(frame[y : y + h, x : x + w])
    sx, sy = size[0] / frame.shape[1], size[1] / frame.shape[0]
    x0, y0 = max(0, math.floor(x / sx) - 2), max(0, math.floor(y / sy) - 2)
    x1, y1 = min(frame.shape[1], math.ceil((x + w) / sx) + 3), min(frame.shape[0], math.ceil((y + h) / sy) + 3)
    part = cv2.resize(frame[y0:y1, x0:x1], None, fx=sx, fy=sy, interpolation=cv2.INTER_CUBIC)
    dx, dy = round(x - x0 * sx), round(y - y0 * sy)
    out = part[dy : dy + h, dx : dx + w]
    short_y, short_x = h - out.shape[0], w - out.shape[1]  # at most a pixel of rounding at the frame's far edge
    return cv2.copyMakeBorder(out, 0, short_y, 0, short_x, cv2.BORDER_REPLICATE) if short_x or short_y else np.ascontiguousarray(out)


class Dvm:
    name = NAME

    def __init__(self, jobs: list[Job], params: Params, colours: ForegroundEstimator | None = None) -> None:
        if not jobs:
            raise HimfmtError("the pair list has no lines for this phase")
        self.jobs, self.p = jobs, params
        self.colours = colours or ForegroundEstimator(params.foreground)

    def make(self, i: int, rng: np.random.Generator) -> Sample:
        job, p = self.jobs[i], self.p
        if job.problem:
            raise BadInputError(job.problem + "; DVM skips this pair", job.seq)
        if not job.fg.frames or not job.fg.frames[0].instances:
            raise BadInputError("the fg has no alpha", job.seq)
        first = job.fg.frames[0]
        first_image, first_alpha = need(first.image, "fg", job.seq), need(first.instances[0].matte, "alpha", job.seq)
        w0, h0 = first_image.size()
        scale = _shrink(p.max_side, w0, h0)
        fw, fh = max(1, round(w0 * scale)), max(1, round(h0 * scale))
        if not job.bg.frames:
            raise BadInputError("the bg video has no frames", job.bg.id)
        bw, bh = need(job.bg.frames[0].image, "frame", job.bg.id).size()
        up = max(1.0, fw / bw, fh / bh)  # a bg smaller than the fg is upscaled to cover it
        bw, bh = max(fw, math.ceil(bw * up)), max(fh, math.ceil(bh * up))
        W = int(min(p.window * fw, bw, p.max_side, 2 * fw))
        H = int(min(p.window * fh, bh, p.max_side, 2 * fh))
        W, H = max(W, fw), max(H, fh)
        ox, oy = int(rng.integers(0, bw - W + 1)), int(rng.integers(0, bh - H + 1))
        cap = p.video_frames if job.fg.is_clip else p.image_frames
        n = min(len(job.fg.frames) if job.fg.is_clip else cap, len(job.bg.frames), cap)
        bg_frames = job.bg.frames

        def background(k: int) -> np.ndarray:
            out = window(need(bg_frames[k].image, "frame", job.bg.id).read_rgb(), (bw, bh), (ox, oy, W, H))
            return cv2.GaussianBlur(out, (p.blur_kernel, p.blur_kernel), 0) if p.blur else out

        people: Callable[[int], list[Layer]]
        if job.fg.is_clip:
            frames = job.fg.frames

            def people(k: int) -> list[Layer]:
                f = frames[k]
                a = _resize(need(f.instances[0].matte, "alpha", job.seq).read_gray(), (fw, fh))
                box = alpha_box(a)
                if box is None:  # nobody in this frame: an empty matte over the bg
                    return [Layer(np.zeros((1, 1, 3), np.uint8), np.zeros((1, 1), np.uint8), 0, 0)]
                x0, y0, x1, y1 = box  # only the person's box is composited
                fg = _resize(need(f.image, "fg", job.seq).read_rgb(), (fw, fh))[y0:y1, x0:x1]
                return [Layer(fg, a[y0:y1, x0:x1], (W - fw) // 2 + x0, (H - fh) // 2 + y0)]
        else:
            fg, a = first_image.read_rgb(), first_alpha.read_gray()
            if a.shape != fg.shape[:2]:
                raise BadInputError(f"alpha is {a.shape[1]}x{a.shape[0]}, its fg {fg.shape[1]}x{fg.shape[0]}", first_alpha.where)
            fg, a = _resize(self.colours(fg, a), (fw, fh)), _resize(a, (fw, fh))
            box = alpha_box(a)
            if box is None:
                raise BadInputError("alpha is all zero: nothing to composite", first_alpha.where)
            poses = random_walk(rng, n, W, H, p.walk)

            def people(k: int) -> list[Layer]:
                return [posed(fg, a, box, poses[k])]

        clip = LayerClip(n, W, H, 1, background, people, premultiplied=True)
        return clip.sample(job.seq, with_bg=True)


def pair_list(cfg: Any, source: Dataset) -> tuple[str, list[Pair]]:
    """``pairs=``, else the source's pair list for ``phase``: the one that names it, or the only one that names
    no phase (a list of the other phase is never taken); with the name it was read from."""
    if cfg.pairs:
        path = Path(str(cfg.pairs))
        if not path.is_file():
            raise HimfmtError("no such pair list", str(path))
        return str(path), parse_pairs(path.read_text(encoding="utf-8", errors="replace"), str(path))
    lists, phase = source.pair_lists, str(cfg.phase)
    named = [n for n in sorted(lists) if phase in n] or [n for n in sorted(lists) if not any(p in n for p in PHASES)]
    if len(named) != 1:
        raise HimfmtError(
            f"give pairs=FILE: the source holds {len(lists)} pair list(s) "
            f"({', '.join(sorted(lists)) or 'none'}), {len(named) or 'none'} for phase {phase}",
            source.tree.display(source.path),
        )
    return named[0], lists[named[0]]


def build(cfg: Any, params: Config) -> Dvm:
    """Foregrounds, backgrounds and a pair list from the DVM sources at ``source=``."""
    source = one_dataset(cfg.source, "dvm_source", "source")
    phase = str(cfg.phase)
    if phase not in source.splits:
        raise HimfmtError(
            f"phase={phase}: this DVM source has no {phase} phase, only "
            f"{', '.join(sorted(source.splits)) or 'none'}; pass phase= one of those",
            source.tree.display(source.path),
        )
    name, pairs = pair_list(cfg, source)
    fgs = sum(s.split == phase for s in source.samples)
    bgs = sum(b.split == phase for b in source.backgrounds)
    return said(
        Dvm(jobs_from(source, pairs, phase), params, estimator_for(cfg, params)),
        [
            f"source={cfg.source}: phases {', '.join(sorted(source.splits))}; phase {phase}: {fgs} fg(s), {bgs} bg video(s)",
            f"pairs: {name} ({len(pairs)} pairs)",
        ],
    )


RECIPE = RecipeEntry(NAME, Config, build)
