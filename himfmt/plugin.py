"""What a layout or recipe from another package may use: the one supported import for plugins.

Everything a plugin needs is re-exported here, so that himfmt can move its
internals without breaking a plugin: ``from himfmt.plugin import Layout,
Holds, ...``. A name not here is internal and may change between releases.
See ``docs/plugins.md``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from himfmt.io.tree import Tree, join
from himfmt.layouts import Holds, Layout, Match, OutFile, OutStream, OutText, Planned, WriteOptions
from himfmt.layouts.base import BROKEN_TREE, FALLBACK, SPECIFIC, Probe, Requirement, detect_split_container, image_stems
from himfmt.model import ArrayRef, Dataset, FileRef, Frame, Instance, Sample
from himfmt.synthesis.recipe import RecipeConfig, RecipeEntry

if TYPE_CHECKING:  # given on first use (see __getattr__): importing validation here would come too early
    from himfmt.validation.catalog import Finding, finding
    from himfmt.validation.registry import check

__all__ = [
    # a layout: the class, what it holds, what detection returns, where pictures go
    "Layout",
    "Holds",
    "Match",
    "Probe",
    "Requirement",
    "detect_split_container",
    "image_stems",
    "Planned",
    "OutFile",
    "OutStream",
    "OutText",
    "WriteOptions",
    # named levels: a layout's priority, and the share of requirements that makes a folder a broken tree of it
    "SPECIFIC",
    "FALLBACK",
    "BROKEN_TREE",
    # reading a tree into the common model
    "Tree",
    "join",
    "Dataset",
    "Sample",
    "Frame",
    "Instance",
    "FileRef",
    "ArrayRef",
    # a recipe
    "RecipeConfig",
    "RecipeEntry",
    # a check (a himfmt.checks entry point names its module's FINDINGS), and a layout's own finding codes
    "check",
    "finding",
    "Finding",
]


def __getattr__(name: str) -> Any:
    """``check``, ``finding`` and ``Finding`` on first use: a layout plugin loads while the layouts do, before
    validation (which reads the layouts) may be imported."""
    if name == "check":
        from himfmt.validation.registry import check

        return check
    if name in ("finding", "Finding"):
        from himfmt.validation import catalog

        return getattr(catalog, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
