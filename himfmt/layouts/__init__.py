"""The layout registry: the built-ins plus those other packages register, by their stable names.

A package adds a layout by naming a :class:`Layout` instance (or class) in
the ``himfmt.layouts`` entry-point group of its metadata::

    [project.entry-points."himfmt.layouts"]
    flat_masks = "my_package.flat_masks:LAYOUT"
"""
from __future__ import annotations

from ..errors import HimfmtError
from ..plugins import discover
from .base import Holds, Layout, Match, OutFile, OutStream, OutText, Planned, WriteOptions
from . import bg_images, dvm_composed, dvm_source, hhm, maggie_image_train, maggie_image_val, maggie_video, video_matte

BUILT_IN = (maggie_image_train, maggie_image_val, maggie_video, dvm_source, dvm_composed, hhm, bg_images, video_matte)

LAYOUTS: dict[str, Layout] = {m.LAYOUT.name: m.LAYOUT for m in BUILT_IN}
LAYOUTS.update((lay.name, lay) for lay in discover("himfmt.layouts", Layout, set(LAYOUTS)))  # type: ignore[type-abstract]


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise HimfmtError(f"unknown layout {name!r}; known layouts: {', '.join(LAYOUTS)}") from None


__all__ = ["LAYOUTS", "Holds", "Layout", "Match", "OutFile", "OutStream", "OutText", "Planned", "WriteOptions", "get_layout"]
