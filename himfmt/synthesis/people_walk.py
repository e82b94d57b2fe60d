"""Video HIM from image people: several ``hhm`` people walking over bg videos.

No published tool makes this: multi-instance video data for users without
video mattes. Each person is cut out as in image_him (true foreground, alpha
box), scaled once to U(0.5, 0.9) of the bg height, and moves by DVM's random
walk (:mod:`himfmt.synthesis.motion`) from a random start inside the 5%-95% box.
People are placed one by one with image_him's occlusion rule, now checked
on every frame: a walk is refused (up to ``tries`` draws per person) when it
would leave any person already placed less than ``min_visible`` of its area
in some frame; a person that fits nowhere is dropped, and a clip nobody
fits is redrawn. The rule is measured on frames shrunk to ``rule_width``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Optional

import cv2
import numpy as np

from himfmt.errors import BadInputError
from himfmt.model import Media, Sample
from himfmt.synthesis.backgrounds import Background
from himfmt.synthesis.clip import LayerClip
from himfmt.synthesis.composite import Canvas, scaled
from himfmt.synthesis.foreground import ForegroundEstimator, ForegroundOption, estimator_for
from himfmt.synthesis.image_him import Placement, VisibleOf, crop_person
from himfmt.synthesis.inputs import backgrounds, people, said, say_backgrounds, say_people
from himfmt.synthesis.motion import Pose, WalkParams, posed, random_walk
from himfmt.synthesis.recipe import RecipeConfig, RecipeEntry

NAME = "people_walk"


@dataclass
class Params(Placement, ForegroundOption):
    frames: int = 60  # clip length (DVM's cap for image fgs); a shorter bg clip freezes on its last frame
    rule_width: int = 480  # the occlusion rule is measured on frames shrunk to at most this width
    walk: WalkParams = field(default_factory=WalkParams)


@dataclass
class Config(RecipeConfig, Params):
    """``recipe=people_walk``: hhm people walking over background clips."""

    layout: str = "maggie_video"
    split: Optional[str] = "people_walk"
    published_n: Optional[int] = 1000


class PeopleWalk:
    name = NAME

    def __init__(
        self, people: list[tuple[Media, Media]], backgrounds: list[Background], params: Params, colours: ForegroundEstimator | None = None
    ) -> None:
        self.people, self.backgrounds, self.p = people, backgrounds, params
        self.colours = colours or ForegroundEstimator(params.foreground)
        self.last_problem: str | None = None  # why the latest draw was rejected, when an input was at fault

    def make(self, i: int, rng: np.random.Generator) -> Sample | None:
        p = self.p
        n = int(rng.integers(p.people_min, p.people_max + 1))
        chosen = rng.choice(len(self.people), size=min(n, len(self.people)), replace=False)
        bg = self.backgrounds[int(rng.integers(len(self.backgrounds)))]
        W, H = bg.size()
        length = p.frames
        s = min(1.0, p.rule_width / W)
        small = [Canvas(np.zeros((max(1, round(H * s)), max(1, round(W * s))), np.uint8)) for _ in range(length)]
        walkers = []
        for k in chosen:
            image, matte = self.people[int(k)]
            try:
                fg, a = crop_person(image.read_rgb(), matte.read_gray(), matte.where)
            except BadInputError as exc:
                self.last_problem = str(exc)
                return None  # a bad source person: this draw is rejected, the next attempt draws again
            h = max(2, round(H * rng.uniform(p.height_min, p.height_max)))
            w = max(1, round(a.shape[1] * h / a.shape[0]))
            fg, a = scaled(self.colours(fg, a), (w, h), p.resample), scaled(a, (w, h), p.resample)
            a_small = cv2.resize(a, (max(1, round(w * s)), max(1, round(h * s))), interpolation=cv2.INTER_AREA)
            for _ in range(p.tries):
                start = (rng.uniform(p.walk.box, 1 - p.walk.box) * (W - 1), rng.uniform(p.walk.box, 1 - p.walk.box) * (H - 1))
                poses = random_walk(rng, length, W, H, p.walk, start)
                if self._fits(small, a_small, poses, s):
                    walkers.append((fg, a, poses))
                    break
        if not walkers:
            return None
        if bg.still:
            still = bg.read(0)
            background = lambda t: still  # noqa: E731 (one decode for the whole clip)
        else:
            background = bg.read  # a clip shorter than the walk stays on its last frame
        boxes = [(0, 0, a.shape[1], a.shape[0]) for _, a, _ in walkers]
        clip = LayerClip(
            length, W, H, len(walkers), background, lambda t: [posed(fg, a, box, poses[t]) for (fg, a, poses), box in zip(walkers, boxes)]
        )
        return clip.sample(f"{i:05d}")

    def _fits(self, small: list[Canvas], a: np.ndarray, poses: list[Pose], s: float) -> bool:
        """Place the walk on the canvases shrunk by ``s`` if every frame keeps everyone visible enough."""
        box = (0, 0, a.shape[1], a.shape[0])
        layers = [posed(a, a, box, pose._replace(x=pose.x * s, y=pose.y * s)) for pose in poses]
        strict = self.p.min_visible_of == VisibleOf.original
        if not all(c.keeps_visible(lay.alpha, lay.x, lay.y, self.p.min_visible, strict) for c, lay in zip(small, layers)):
            return False
        for c, lay in zip(small, layers):
            c.paste(lay.alpha, lay.alpha, lay.x, lay.y)
        return True


def build(cfg: Any, params: Config) -> PeopleWalk:
    """People from ``hhm=``, backgrounds (stills, frame folders or videos) from ``bg=``."""
    who, bgs = people(cfg), backgrounds(cfg)
    return said(PeopleWalk(who, bgs, params, estimator_for(cfg, params)), [say_people(cfg, who), say_backgrounds(cfg, bgs)])


RECIPE = RecipeEntry(NAME, Config, build)
