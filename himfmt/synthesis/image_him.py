"""Recipe A, image HIM (MaGGIe's I-HIM50K), without the published defects.

Per sample: 2-4 distinct people from an ``hhm`` tree (the published
``randint(2, 5)`` draws 2-4 although its comment says 2-5; ``people`` sets
the range), each cropped to its ``alpha > 0`` box and scaled to U(0.5, 0.9)
of the background height; one background at its own size; people placed one
by one at uniform positions that keep them inside, up to 3 tries each,
refusing a try that leaves any placed person less than 70% of the visible
area it had just before (the published step-by-step rule, so people can end
well below 70% of their original area; ``min_visible_of=original`` is the
stricter rule). Compositing is exact integer arithmetic inside each person's box
(:mod:`himfmt.synthesis.composite`); mattes are the visible ones, rounded.
Inputs are sorted by name and all randomness comes from the sample's own
generator, so nothing depends on listing order, workers or start method.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any, NamedTuple, Optional

import cv2
import numpy as np

from himfmt.errors import BadInputError, HimfmtError
from himfmt.model import ArrayRef, Frame, Instance, Media, Sample
from himfmt.synthesis.composite import Canvas, Resample, clip_box, scaled
from himfmt.synthesis.foreground import ForegroundEstimator, ForegroundOption, estimator_for
from himfmt.synthesis.inputs import people, said, say_people, still_backgrounds
from himfmt.synthesis.motion import alpha_box
from himfmt.synthesis.recipe import RecipeConfig, RecipeEntry

NAME = "image_him"


class VisibleOf(StrEnum):
    """What ``min_visible`` is a share of when a paste is tried."""

    current = "current"  # published: each person's visible area just before the paste (step by step)
    original = "original"  # stricter: each person's area as pasted, so nobody ends below min_visible


@dataclass
class Placement:
    """How many people, how tall, and image_him's occlusion rule (shared with people_walk)."""

    people_min: int = 2
    people_max: int = 4
    height_min: float = 0.5  # person height as a fraction of the background height
    height_max: float = 0.9
    tries: int = 3  # placements tried per person
    min_visible: float = 0.7  # a paste is refused when a placed person would keep less than this visible
    min_visible_of: VisibleOf = VisibleOf.current  # ... of its current visible area (published) or its original
    resample: Resample = Resample.bicubic  # how people are resized (published: Pillow's bicubic)

    def __post_init__(self) -> None:
        if not 1 <= self.people_min <= self.people_max:
            raise HimfmtError(f"recipe.people_min/people_max must satisfy 1 <= min <= max, not {self.people_min}/{self.people_max}")
        if not 0 < self.height_min <= self.height_max <= 1:
            raise HimfmtError(
                "recipe.height_min/height_max are fractions of the background height: "
                f"0 < min <= max <= 1, not {self.height_min:g}/{self.height_max:g}"
            )
        if self.tries < 1 or not 0 <= self.min_visible <= 1:
            raise HimfmtError(f"recipe.tries must be >= 1 and recipe.min_visible in 0..1, not {self.tries}/{self.min_visible:g}")


@dataclass
class Params(Placement, ForegroundOption):
    layers: bool = False  # also write each person's foreground layer (the pasted colours) and the clean background (its own file)


@dataclass
class Config(RecipeConfig, Params):
    """``recipe=image_him``: the published I-HIM50K run."""

    layout: str = "maggie_image_train"
    split: Optional[str] = "I-HIM50K"
    published_n: Optional[int] = 50000


def crop_person(image: np.ndarray, matte: np.ndarray, where: str) -> tuple[np.ndarray, np.ndarray]:
    """The person's ``alpha > 0`` box of image and matte (views, nothing copied).

    The colour outside the matte stays as in the photo: it never shows in a
    composite (alpha 0 there), and a written fg layer is blacked out where the
    person's visible matte is 0, so it is a true foreground.
    """
    if image.shape[:2] != matte.shape:
        raise BadInputError(f"matte is {matte.shape[1]}x{matte.shape[0]}, its image {image.shape[1]}x{image.shape[0]}", where)
    box = alpha_box(matte)
    if box is None:
        raise BadInputError("matte is all zero: nobody to cut out", where)
    x0, y0, x1, y1 = box
    return image[y0:y1, x0:x1], matte[y0:y1, x0:x1]


def fg_layer(fg: np.ndarray, x: int, y: int, visible: np.ndarray) -> np.ndarray:
    """A full-canvas fg layer (MaGGIe's loader reads one per person): ``fg`` at (x, y), black where ``visible`` is 0.

    Only the person's box is touched: masking the whole canvas per person costs more than the composite.
    """
    full = np.zeros((*visible.shape, 3), np.uint8)
    box = clip_box(x, y, fg.shape[1], fg.shape[0], visible.shape[1], visible.shape[0])
    if box:
        ry, rx, ly, lx = box
        cv2.copyTo(fg[ly, lx], (visible[ry, rx] > 0).view(np.uint8), full[ry, rx])
    return full


class Composed(NamedTuple):
    sample: Sample | None  # None: this draw is rejected
    drawn: int  # people drawn for it
    canvas: Canvas  # who was placed, their areas as pasted and as visible


class ImageHim:
    name = NAME

    def __init__(
        self, people: list[tuple[Media, Media]], backgrounds: list[Media], params: Params, colours: ForegroundEstimator | None = None
    ) -> None:
        if not backgrounds:
            raise HimfmtError("the background folder has no images")
        self.people, self.backgrounds, self.p = people, backgrounds, params
        self.colours = colours or ForegroundEstimator(params.foreground)
        self.last_problem: str | None = None  # why the latest draw was rejected, when an input was at fault

    def _person(self, k: int, target_h: int, max_w: int) -> tuple[np.ndarray, np.ndarray] | None:
        image, matte = self.people[k]
        fg, a = crop_person(image.read_rgb(), matte.read_gray(), matte.where)
        scale = target_h / a.shape[0]
        w = max(1, round(a.shape[1] * scale))
        if w > max_w:
            return None  # wider than the background: it fits nowhere
        return scaled(self.colours(fg, a), (w, target_h), self.p.resample), scaled(a, (w, target_h), self.p.resample)

    def make(self, i: int, rng: np.random.Generator) -> Sample | None:
        return self.compose(i, rng).sample

    def compose(self, i: int, rng: np.random.Generator) -> Composed:
        """Sample ``i`` and how it was made (the canvas, how many people were drawn): what statistics need."""
        p = self.p
        n = int(rng.integers(p.people_min, p.people_max + 1))
        chosen = rng.choice(len(self.people), size=min(n, len(self.people)), replace=False)
        background = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        bg = background.read_rgb()
        H, W = bg.shape[:2]
        canvas = Canvas(bg)
        layers: list[tuple[np.ndarray, int, int]] = []
        for k in chosen:
            target_h = max(2, round(H * rng.uniform(p.height_min, p.height_max)))
            try:
                person = self._person(int(k), target_h, W)
            except BadInputError as exc:
                self.last_problem = str(exc)
                return Composed(None, len(chosen), canvas)  # a bad source person: the next attempt draws again
            if person is None:
                continue
            fg, a = person
            h, w = a.shape
            for _ in range(p.tries):
                x, y = int(rng.integers(0, W - w + 1)), int(rng.integers(0, H - h + 1))
                if canvas.keeps_visible(a, x, y, p.min_visible, p.min_visible_of == VisibleOf.original):
                    canvas.paste(fg, a, x, y)
                    layers.append((fg, x, y))
                    break
        if not layers:
            return Composed(None, len(chosen), canvas)
        instances = []
        for k, m in enumerate(canvas.mattes):
            layer = None
            if p.layers:
                layer = ArrayRef(fg_layer(*layers[k], m))
            instances.append(Instance(f"{k:02d}", ArrayRef(m), fg=layer))
        sid = f"{i:05d}"
        # The bg layer is the background's own file (copied when it is already a JPEG): its pixels are the ones
        # composited, and encoding them again would cost a 1080p JPEG per sample and a generation of loss.
        frame = Frame(sid, ArrayRef(canvas.image), instances, bg=background if p.layers else None)
        return Composed(Sample(sid, "", [frame]), len(chosen), canvas)


def build(cfg: Any, params: Config) -> ImageHim:
    """People from ``hhm=``, still backgrounds from ``bg=``."""
    who, bgs = people(cfg), still_backgrounds(cfg)
    return said(ImageHim(who, bgs, params, estimator_for(cfg, params)), [say_people(cfg, who), f"bg={cfg.bg}: {len(bgs)} still(s)"])


RECIPE = RecipeEntry(NAME, Config, build)
