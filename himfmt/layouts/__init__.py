"""The layout registry: one module per layout, looked up by its stable name."""
from __future__ import annotations

from ..errors import HimfmtError
from ..model import LAYOUT_KINDS
from .base import Layout, Match, OutFile, OutStream, OutText, Planned, WriteOptions
from . import bg_images, dvm_composed, dvm_source, hhm, maggie_image_train, maggie_image_val, maggie_video, video_matte

LAYOUTS: dict[str, Layout] = {
    m.LAYOUT.name: m.LAYOUT
    for m in (
        maggie_image_train, maggie_image_val, maggie_video, dvm_source, dvm_composed, hhm, bg_images, video_matte,
    )
}


LAYOUT_KINDS.update({name: layout.kind for name, layout in LAYOUTS.items()})


def get_layout(name: str) -> Layout:
    try:
        return LAYOUTS[name]
    except KeyError:
        raise HimfmtError(f"unknown layout {name!r}; known layouts: {', '.join(LAYOUTS)}") from None


__all__ = ["LAYOUTS", "Layout", "Match", "OutFile", "OutStream", "OutText", "Planned", "WriteOptions", "get_layout"]
