"""A recipe defined outside himfmt: coloured boxes as people on a flat background (a plugin example).

The plugin test registers :data:`RECIPE` through the ``himfmt.recipes``
entry-point group; ``himfmt synth recipe=toy`` then runs it like a built-in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from himfmt.plugin import ArrayRef, Frame, Instance, RecipeConfig, RecipeEntry, Sample


@dataclass
class Params:
    size: int = 64  # side of the square canvas
    people: int = 2


@dataclass
class Config(RecipeConfig, Params):
    layout: str = "maggie_image_train"
    split: str = "train"
    published_n: int = 4


class Toy:
    name = "toy"

    def __init__(self, params: Params) -> None:
        self.params = params

    def make(self, i: int, rng: np.random.Generator) -> Sample | None:
        s = self.params.size
        image = np.full((s, s, 3), rng.integers(0, 256, 3), np.uint8)
        instances = []
        for k in range(self.params.people):
            matte = np.zeros((s, s), np.uint8)
            left = k * s // self.params.people
            matte[s // 4 : 3 * s // 4, left + 2 : left + s // self.params.people - 2] = 255
            image[matte > 0] = rng.integers(0, 256, 3)
            instances.append(Instance(f"{k:02d}", ArrayRef(matte)))
        sid = f"{i:05d}"
        return Sample(sid, "", [Frame(sid, ArrayRef(image), instances)])


def build(cfg: Any, params: Config) -> Toy:
    return Toy(params)


RECIPE = RecipeEntry("toy", Config, build)
