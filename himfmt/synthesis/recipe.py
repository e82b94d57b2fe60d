"""What a recipe is: its config, the object that makes samples, and the entry that registers both.

A recipe is one module plus one config: the module defines a config
dataclass (a :class:`RecipeConfig` with its own parameters, selected as
``recipe=<name>``), a class whose ``make(i, rng)`` draws sample ``i``, and a
:class:`RecipeEntry` that builds it from the ``synth`` section. Recipes
outside himfmt register their entry in the ``himfmt.recipes`` entry-point group.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Optional, Protocol

import numpy as np

from himfmt.errors import HimfmtError
from himfmt.model import Sample


@dataclass
class RecipeConfig:
    """What every recipe's config holds besides its own parameters (each recipe sets its defaults)."""

    name: str = ""  # set from the registered entry (``recipe=<name>``)
    layout: str = ""  # the layout the recipe writes
    split: Optional[str] = None  # the split it writes (None: the recipe decides)
    published_n: Optional[int] = None  # samples of the published run (None: its inputs decide, as a pair list does)
    attempts: int = 10  # draws per id before it is recorded as rejected
    jpeg_quality: int = 75  # of every JPEG written (published: Pillow's default 75 for MaGGIe, 95 for DVM)

    def count(self) -> Optional[int]:
        """Samples of the published run (None: the inputs decide, as a pair list does)."""
        return self.published_n

    def default_split(self) -> Optional[str]:
        """The split it writes when ``split=`` is not given (None: the synth section's ``phase``)."""
        return self.split

    def __post_init__(self) -> None:
        if not 1 <= self.jpeg_quality <= 100:
            raise HimfmtError(f"recipe.jpeg_quality must be in 1..100, not {self.jpeg_quality}")
        after = getattr(super(), "__post_init__", None)  # the recipe's own parameter checks (next in the MRO)
        if after is not None:
            after()


class Recipe(Protocol):
    name: str

    def make(self, i: int, rng: np.random.Generator) -> Sample | None:
        """Sample ``i`` from ``rng``, or None when this draw is rejected."""


@dataclass(frozen=True)
class RecipeEntry:
    """A recipe as himfmt finds it: its name, its config class, and how to build it from the synth section.

    ``build(cfg, params)`` gets the composed ``synth`` section (``cfg.hhm``,
    ``cfg.bg``, ``cfg.clips``, ``cfg.source`` name the inputs) and the
    recipe's checked config object, and returns the :class:`Recipe`.
    """

    name: str
    config: type
    build: Callable[[Any, Any], Recipe]
