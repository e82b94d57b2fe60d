"""Recipe B, video HIM (MaGGIe's V-HIM2K5 / V-HIM60), without the published defects.

Per video: 2-4 fg clips (easy at most 3) over a landscape still (probability
0.5) or a bg clip from a random frame (frozen once it runs out); length
``min(shortest clip, 30)``; each person keeps one crop box (the union of its
alpha boxes over the clip) and one size and place: widths shared out in
proportion to the boxes' aspects so they fill the bg width, times U(1, 1.5)
for medium and U(1, 2) for hard, shrunk to U(0.8, 1) of the bg height if
taller; laid left to right (medium and hard shifted by up to half the
background's width either way, as published), standing on the bottom edge. Medium and hard reject a video whose occlusion
breaks their rule; every level rejects one where a person's visible matte
would be too small for MaGGIe's loader to keep. Each difficulty is its own
split (``comp_<level>``) with its own random stream, so levels never
overwrite each other; boxes come from alpha (RGBA frames included), and a
folder of portrait stills cannot hang the run.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Optional

import numpy as np

from himfmt.errors import HimfmtError
from himfmt.model import Sample, need
from himfmt.synthesis.backgrounds import Background
from himfmt.synthesis.clip import Layer, LayerClip
from himfmt.synthesis.composite import Resample, clip_box, scaled
from himfmt.synthesis.foreground import ForegroundEstimator, ForegroundOption, estimator_for
from himfmt.synthesis.inputs import backgrounds, one_dataset, ordered, said, say_backgrounds, say_clips
from himfmt.synthesis.motion import alpha_box
from himfmt.synthesis.recipe import RecipeConfig, RecipeEntry

NAME = "video_him"


@dataclass
class Level:
    """What one difficulty changes."""

    people_max: int = 4
    scale_max: float = 1.0  # each person's size times U(1, scale_max)
    shift: float = 0.0  # x shifted by up to shift x the background's width either way (see shift_of)
    max_occluded: Optional[float] = None  # reject if someone is ever more occluded than this
    min_occluded: Optional[float] = None  # reject if nobody is ever at least this occluded
    n: int = 0  # samples of this level when n= is not given


def published_levels() -> dict[str, Level]:
    """The published easy/medium/hard settings and V-HIM2K5 counts."""
    return {
        "easy": Level(3, 1.0, 0.0, None, None, 500),
        "medium": Level(4, 1.5, 0.5, 0.3, 0.05, 7000),
        "hard": Level(4, 2.0, 0.5, 0.85, 0.5, 2000),
    }


class ShiftOf(StrEnum):
    background = "background"  # published: randint(0, W // 2) with W the background width
    person = "person"  # up to half the person's own width: much less overlap


class Occlusion(StrEnum):
    step = "step"  # published: what each newly pasted person takes of an earlier one's current visible area
    total = "total"  # each person's visible share of its whole matte with everyone in front of it


@dataclass
class Params(ForegroundOption):
    difficulty: str = "easy"
    levels: dict[str, Level] = field(default_factory=published_levels)
    people_min: int = 2
    frames: int = 30
    still: float = 0.5  # probability of a still background (landscape stills only)
    tall_min: float = 0.8  # a person taller than the bg is scaled to its height x U(tall_min, 1)
    min_solid: float = 0.001  # each visible matte keeps alpha > 127 on more than this share of the frame
    # Where the occlusion rule is measured: None = full resolution (published), or frames shrunk to this width.
    rule_width: Optional[int] = None
    shift_of: ShiftOf = ShiftOf.background  # what the level's shift is a share of
    occlusion: Occlusion = Occlusion.step  # how "occluded" is measured for the level's rule
    resample: Resample = Resample.bilinear  # how frames are resized (published: Pillow's bilinear)

    def __post_init__(self) -> None:
        if self.difficulty not in self.levels:
            raise HimfmtError(f"recipe.difficulty must be one of {', '.join(self.levels)}, not {self.difficulty!r}")
        if self.people_min < 1 or self.frames < 1:
            raise HimfmtError(f"recipe.people_min and recipe.frames must be >= 1, not {self.people_min}/{self.frames}")
        if self.rule_width is not None and self.rule_width < 16:
            raise HimfmtError(f"recipe.rule_width must be >= 16 or null (full resolution), not {self.rule_width}")

    @property
    def level(self) -> Level:
        return self.levels[self.difficulty]


@dataclass
class Config(RecipeConfig, Params):
    """``recipe=video_him``: one difficulty of V-HIM2K5/V-HIM60, written as ``comp_<difficulty>``."""

    layout: str = "maggie_video"
    attempts: int = 100

    def count(self) -> int:
        return self.published_n if self.published_n is not None else self.level.n

    def default_split(self) -> str:
        return self.split or f"comp_{self.difficulty}"


@dataclass
class Person:
    clip: Sample  # a video_matte clip: frames with an image and one instance matte
    start: int
    box: tuple[int, int, int, int]  # static crop box in the clip's frames
    w: int = 0
    h: int = 0
    x: int = 0
    y: int = 0
    resample: Resample = Resample.bilinear
    colours: Optional[ForegroundEstimator] = None  # the colours pasted (None: the clip's own frames)

    def layer(self, t: int, scale: float = 1.0, colour: bool = True) -> Layer:
        """Frame ``t`` of this person, placed; ``colour=False``: the matte only (for the occlusion rule)."""
        frame = self.clip.frames[self.start + t]
        x0, y0, x1, y1 = self.box
        size = (max(1, round(self.w * scale)), max(1, round(self.h * scale)))
        matte = np.ascontiguousarray(need(frame.instances[0].matte, "matte", self.clip.id).read_gray()[y0:y1, x0:x1])
        a = scaled(matte, size, self.resample)
        if not colour:
            return Layer(a, a, round(self.x * scale), round(self.y * scale))
        fg = np.ascontiguousarray(need(frame.image, "frame", self.clip.id).read_rgb()[y0:y1, x0:x1])
        fg = scaled(self.colours(fg, matte) if self.colours else fg, size, self.resample)
        return Layer(fg, a, round(self.x * scale), round(self.y * scale))


class VideoHim:
    def __init__(
        self, clips: list[Sample], backgrounds: list[Background], params: Params, colours: ForegroundEstimator | None = None
    ) -> None:
        self.name = f"{NAME}-{params.difficulty}"
        self.colours = colours or ForegroundEstimator(params.foreground)
        self.clips = [c for c in clips if c.frames and all(f.image is not None and f.instances for f in c.frames)]
        if not self.clips:
            raise HimfmtError("the clips input has no clip whose every frame has an image and a matte")
        self.stills = [b for b in backgrounds if b.still and b.size()[0] > b.size()[1]]
        self.bg_clips = [b for b in backgrounds if not b.still]
        if not self.stills and not self.bg_clips:
            raise HimfmtError("the bg input has neither landscape stills nor clips")
        self.p = params

    def make(self, i: int, rng: np.random.Generator) -> Sample | None:
        draft = self.draft(rng)
        if draft is None:
            return None
        people, bg, bg_start, length = draft
        W, H = bg.size()
        if bg.still:
            still = bg.read(0)
            background = lambda t: still  # noqa: E731 (one decode for the whole clip)
        else:
            background = lambda t: bg.read(bg_start + t)  # noqa: E731
        clip = LayerClip(length, W, H, len(people), background, lambda t: [q.layer(t) for q in people])
        return clip.sample(f"{i:05d}")

    def draft(self, rng: np.random.Generator) -> tuple[list[Person], Background, int, int] | None:
        """People sized and placed on a background, or None when the level's rule rejects the draw."""
        p, lv = self.p, self.p.level
        n = int(rng.integers(p.people_min, max(p.people_min, lv.people_max) + 1))
        chosen = rng.choice(len(self.clips), size=min(n, len(self.clips)), replace=False)
        use_still = bool(self.stills) and (rng.random() < p.still or not self.bg_clips)
        if use_still:
            bg, bg_start = self.stills[int(rng.integers(len(self.stills)))], 0
        else:
            bg = self.bg_clips[int(rng.integers(len(self.bg_clips)))]
            bg_start = int(rng.integers(bg.count()))
        W, H = bg.size()
        clips = [self.clips[int(k)] for k in chosen]
        length = min(min(len(c.frames) for c in clips), p.frames)
        people = []
        for c in clips:
            start = int(rng.integers(0, len(c.frames) - length + 1))
            box = self._union_box(c, start, length)
            if box is None:
                return None  # nobody visible in this stretch of the clip: draw again
            people.append(Person(c, start, box, resample=p.resample, colours=self.colours))
        self._size_and_place(people, W, H, rng)
        if not self._meets_rule(people, length, W, H):
            return None
        return people, bg, bg_start, length

    @staticmethod
    def _union_box(clip: Sample, start: int, length: int) -> tuple[int, int, int, int] | None:
        mattes = (need(f.instances[0].matte, "matte", clip.id) for f in clip.frames[start : start + length])
        boxes = [b for m in mattes if (b := alpha_box(m.read_gray())) is not None]
        if not boxes:
            return None
        return min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes)

    def _size_and_place(self, people: list[Person], W: int, H: int, rng: np.random.Generator) -> None:
        lv = self.p.level
        aspects = [(b[2] - b[0]) / (b[3] - b[1]) for b in (q.box for q in people)]
        total = sum(aspects)
        x = 0.0
        for q, aspect in zip(people, aspects):
            w = W * aspect / total * rng.uniform(1.0, lv.scale_max)
            h = w / aspect
            if h > H:
                h = H * rng.uniform(self.p.tall_min, 1.0)
                w = h * aspect
            q.w, q.h = max(1, round(w)), max(1, round(h))
            if not lv.shift:
                left = x
            elif self.p.shift_of == ShiftOf.background:  # randint(0, W // 2) * choice([-1, 1]), as published
                left = x + int(rng.integers(0, int(W * lv.shift) + 1)) * (1 if rng.random() < 0.5 else -1)
            else:
                left = x + rng.uniform(-lv.shift, lv.shift) * q.w
            q.x = int(round(min(max(left, 0.0), max(W - q.w, 0))))
            q.y = H - q.h
            x = q.x + q.w  # the next person follows this one where it landed (published)

    def _meets_rule(self, people: list[Person], length: int, W: int, H: int) -> bool:
        """The level's occlusion rule, plus: every person keeps a solid part in every frame.

        Medium/hard: nobody ever occluded beyond ``max_occluded``, someone at some
        time at least ``min_occluded``. ``occlusion=step`` (published) measures,
        for each newly pasted person, the share it takes of each earlier
        person's current visible area; ``total``, each person's hidden share
        of its whole matte. All levels: a visible matte with ``alpha > 127`` on
        at most ``min_solid`` of the frame would be dropped by MaGGIe's training
        loader (and flagged ``matte.tiny``), losing the person mid-clip, so such
        a video is redrawn.
        """
        lv = self.p.level
        s = 1.0 if self.p.rule_width is None else min(1.0, self.p.rule_width / W)
        w, h = max(1, round(W * s)), max(1, round(H * s))
        most = 0.0
        for t in range(length):
            found = self._frame_occlusion([q.layer(t, s, colour=False) for q in people], w, h)
            if found is None:
                return False
            if lv.max_occluded is not None and found > lv.max_occluded:
                return False
            most = max(most, found)
        return lv.min_occluded is None or most >= lv.min_occluded

    def _frame_occlusion(self, layers: list[Layer], w: int, h: int) -> float | None:
        """The largest occlusion in one frame (by the chosen measure), or None when someone is not solid enough."""
        visible: list[tuple[tuple[slice, slice], np.ndarray, float]] = []  # box, visible alpha in it, alpha as pasted
        most = 0.0
        for layer in layers:  # in paste order: each later person is in front
            box = clip_box(layer.x, layer.y, layer.alpha.shape[1], layer.alpha.shape[0], w, h)
            if box is None:
                return None
            ry, rx, ly, lx = box
            a = layer.alpha[ly, lx].astype(np.float32) / 255.0
            for (ky, kx), vis, _ in visible:
                iy = slice(max(ry.start, ky.start), min(ry.stop, ky.stop))
                ix = slice(max(rx.start, kx.start), min(rx.stop, kx.stop))
                if iy.start >= iy.stop or ix.start >= ix.stop:
                    continue
                mine = vis[iy.start - ky.start : iy.stop - ky.start, ix.start - kx.start : ix.stop - kx.start]
                before = float(vis.sum())
                taken = float((mine * a[iy.start - ry.start : iy.stop - ry.start, ix.start - rx.start : ix.stop - rx.start]).sum())
                mine -= mine * a[iy.start - ry.start : iy.stop - ry.start, ix.start - rx.start : ix.stop - rx.start]
                if self.p.occlusion == Occlusion.step and before > 0:
                    most = max(most, taken / before)
            visible.append(((ry, rx), a.copy(), float(a.sum())))
        for _, vis, _ in visible:
            if np.count_nonzero(vis > 0.5) <= self.p.min_solid * w * h:
                return None
        if self.p.occlusion == Occlusion.total:
            most = max((1.0 - float(vis.sum()) / full for _, vis, full in visible if full > 0), default=0.0)
        return most


def build(cfg: Any, params: Config) -> VideoHim:
    """Foreground clips from ``clips=``, backgrounds from ``bg=``."""
    clips, bgs = ordered(one_dataset(cfg.clips, "video_matte", "clips")), backgrounds(cfg)
    return said(VideoHim(clips, bgs, params, estimator_for(cfg, params)), [say_clips(cfg, clips), say_backgrounds(cfg, bgs)])


RECIPE = RecipeEntry(NAME, Config, build)
