"""The layout registry: the built-ins plus those other packages register, by their stable names.

A package adds a layout by naming a :class:`Layout` instance (or class) in
the ``himfmt.layouts`` entry-point group of its metadata::

    [project.entry-points."himfmt.layouts"]
    flat_masks = "my_package.flat_masks:LAYOUT"
"""

from __future__ import annotations

from typing import Any

from himfmt.entry_points import PLUGIN_FAULTS, disable, discover
from himfmt.errors import HimfmtError
from himfmt.layouts import bg_images, dvm_composed, dvm_source, hhm, maggie_image_train, maggie_image_val, maggie_video, video_matte
from himfmt.layouts.base import Holds, Layout, Match, OutFile, OutStream, OutText, Planned, WriteOptions

BUILT_IN = (maggie_image_train, maggie_image_val, maggie_video, dvm_source, dvm_composed, hhm, bg_images, video_matte)

LAYOUTS: dict[str, Layout] = {m.LAYOUT.name: m.LAYOUT for m in BUILT_IN}
BUILT_IN_NAMES = frozenset(LAYOUTS)
LAYOUTS.update((lay.name, lay) for lay in discover("himfmt.layouts", Layout, set(LAYOUTS)))  # type: ignore[type-abstract]


def detect_safely(lay: Layout, tree: Any, rel: str) -> Match | None:
    """``lay.detect``; a plugin layout whose detection fails is disabled (one line on stderr) and matches
    nothing, so every built-in keeps working. A built-in's failure is himfmt's own bug: raised."""
    try:
        return lay.detect(tree, rel)
    except HimfmtError:
        raise
    except PLUGIN_FAULTS as exc:
        if lay.name in BUILT_IN_NAMES:
            raise
        LAYOUTS.pop(lay.name, None)
        disable("himfmt.layouts", lay.name, type(lay).__module__, exc)
        return None


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise HimfmtError(f"unknown layout {name!r}; known layouts: {', '.join(LAYOUTS)}") from None


__all__ = ["LAYOUTS", "Holds", "Layout", "Match", "OutFile", "OutStream", "OutText", "Planned", "WriteOptions", "get_layout"]
