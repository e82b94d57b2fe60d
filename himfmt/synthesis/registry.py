"""The recipe registry: the built-ins plus those other packages register, by name.

A package adds a recipe by naming a :class:`~himfmt.synthesis.recipe.RecipeEntry`
in the ``himfmt.recipes`` entry-point group of its metadata::

    [project.entry-points."himfmt.recipes"]
    toy = "my_package.toy:RECIPE"

Its config class then is ``recipe=toy`` and ``himfmt synth`` runs it like a built-in.
"""

from __future__ import annotations

from himfmt.entry_points import discover
from himfmt.errors import HimfmtError
from himfmt.synthesis import dvm, image_him, people_walk, video_him
from himfmt.synthesis.recipe import RecipeEntry

RECIPES: dict[str, RecipeEntry] = {m.RECIPE.name: m.RECIPE for m in (image_him, video_him, dvm, people_walk)}
RECIPES.update((r.name, r) for r in discover("himfmt.recipes", RecipeEntry, set(RECIPES)))


def get_recipe(name: str) -> RecipeEntry:
    try:
        return RECIPES[name]
    except KeyError:
        raise HimfmtError(f"unknown recipe {name!r}; known: {', '.join(RECIPES)}") from None
