"""A recipe's inputs from the ``synth`` section: people, backgrounds, clips and DVM sources, sorted.

Every list is sorted by split and id, so what a sample draws depends on the
inputs' names, not on the order a filesystem lists them in.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from himfmt.errors import HimfmtError
from himfmt.layouts.detect import open_datasets
from himfmt.model import Dataset, FileRef, Media, Sample
from himfmt.synthesis.backgrounds import Background, load_backgrounds
from himfmt.synthesis.backgrounds import read_as as bg_read_as


def said(recipe: Any, lines: list[str]) -> Any:
    """The recipe, with what each input was read as (``read_as``: printed before any work)."""
    recipe.read_as = lines
    return recipe


def read_as(recipe: Any) -> list[str]:
    return list(getattr(recipe, "read_as", []))


def say_people(cfg: Any, people: list[tuple[Media, Media]]) -> str:
    return f"hhm={cfg.hhm}: {len(people)} people" + (f" (skip list {cfg.skip_list})" if cfg.skip_list else "")


def say_clips(cfg: Any, clips: list[Sample]) -> str:
    frames = sum(len(c.frames) for c in clips)
    return f"clips={cfg.clips}: {len(clips)} clip(s), {frames} frames"


def one_dataset(path: Any, layout: str, key: str) -> Dataset:
    """The dataset of ``layout`` at the input ``key=`` names."""
    if not path:
        raise HimfmtError(f"{key}= is required for this recipe")
    found = [d for d in open_datasets(str(path)) if d.layout == layout]
    if not found:
        raise HimfmtError(f"no {layout} tree found", str(path))
    return found[0]


def ordered(ds: Dataset) -> list[Sample]:
    return sorted(ds.samples, key=lambda s: (s.split, s.id))


def people(cfg: Any, layout: str = "hhm") -> list[tuple[Media, Media]]:
    """Image + matte of every person of ``hhm=``, minus the source's own skip list and ``skip_list=``."""
    ds = one_dataset(cfg.hhm, layout, "hhm")
    skip = set(ds.skip)
    if cfg.skip_list:
        skip |= {ln.strip() for ln in Path(str(cfg.skip_list)).read_text().splitlines() if ln.strip()}
    out: list[tuple[Media, Media]] = []
    for s in ordered(ds):
        f = s.frames[0]
        matte = f.instances[0].matte if f.instances else None
        if not isinstance(f.image, FileRef) or matte is None or f.image.name in skip or s.id in skip:
            continue
        out.append((f.image, matte))
    if not out:
        raise HimfmtError("the hhm input has no usable people (image + matte pairs)", str(cfg.hhm))
    return out


def still_backgrounds(cfg: Any, layout: str = "bg_images") -> list[Media]:
    """Every picture of the ``bg=`` image folder."""
    ds = one_dataset(cfg.bg, layout, "bg")
    return [f.image for s in ordered(ds) for f in s.frames if f.image is not None]


def backgrounds(cfg: Any) -> list[Background]:
    """Stills, frame folders or videos of ``bg=``."""
    if not cfg.bg:
        raise HimfmtError("bg= is required for this recipe")
    return load_backgrounds(str(cfg.bg))


def say_backgrounds(cfg: Any, bgs: list[Background]) -> str:
    return f"bg={cfg.bg}: {bg_read_as(bgs)}"
