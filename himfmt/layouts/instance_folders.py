"""MaGGIe's instance folders, shared by its three layouts.

One folder per image (or frame) under the alpha dir holds one 8-bit PNG
matte per person; each guidance mask set is a sibling folder of the same
shape whose path is the matte's with the alpha dir component replaced (the
loaders' string replacement), and so are ``trimap/`` and the ``fg/`` layers.
:class:`InstanceFolders` gives a layout that keeps this convention the
places of masks and trimaps.
"""

from __future__ import annotations

from typing import Callable

from himfmt.io.tree import Tree, join
from himfmt.layouts.base import Layout, OutFile, is_hidden, stem
from himfmt.model import Dataset, FileRef, Frame, Instance, Note

# Names MaGGIe and its users give the matte folder; the first one present wins.
ALPHA_DIR_NAMES = ("alphas", "pha", "alpha", "mattes", "matte")
# Folders beside the alpha dir that are not mask dirs: the layers MaGGIe's image
# synthesizer writes, and per-instance trimaps (``himfmt masks kind=trimap``).
TRIMAP_DIR = "trimap"
LAYER_DIRS = ("fg", "bg", TRIMAP_DIR)


class TrimapsBesideMattes(Layout):
    """A layout whose trimaps sit in ``trimap/`` beside the alpha dir, named like the mattes (PNG)."""

    def trimap_place(self, ds: Dataset, matte: FileRef) -> tuple[str, bool] | None:
        seg = alpha_segment(ds, matte.path)
        if seg is None:
            return None
        return mask_path(matte.path, seg, TRIMAP_DIR).rsplit(".", 1)[0] + ".png", False


class InstanceFolders(TrimapsBesideMattes):
    """A layout whose guidance masks, too, sit beside the mattes, named like them."""

    def mask_place(self, ds: Dataset, matte: FileRef, source: str) -> str | None:
        return mask_path(matte.path, ds.alpha_dir or "", source)

    def mask_path_token(self, ds: Dataset) -> str | None:
        return ds.alpha_dir if ds.mask_dirs else None


def alpha_segment(ds: Dataset, path: str) -> str | None:
    """The alpha dir component of a matte's path (the dataset's, or a usual name)."""
    parts = path.split("/")[:-1]
    for name in (ds.alpha_dir, *ALPHA_DIR_NAMES):
        if name and name in parts:
            return name
    return None


def instance_dirs(tree: Tree, split_rel: str, stems: set[str], exclude: tuple[str, ...]) -> list[str]:
    """Folders of ``split_rel`` whose sub-folders are named after images (alpha or mask dirs)."""
    found = []
    for d in tree.dirs(split_rel):
        if d in exclude or is_hidden(d):
            continue
        sub = tree.dirs(join(split_rel, d))
        if any(s in stems for s in sub):
            found.append(d)
    return found


def pick_alpha_dir(candidates: list[str]) -> tuple[str | None, list[str]]:
    """Split candidate instance folders into (alpha dir, mask dirs) by name."""
    if not candidates:
        return None, []
    alpha = next((n for n in ALPHA_DIR_NAMES if n in candidates), None)
    if alpha is None:
        plain = [c for c in candidates if "mask" not in c.lower() and c.lower() != "xmem"]
        alpha = plain[0] if plain else None
    masks = [c for c in candidates if c != alpha]
    return alpha, masks


def mask_path(matte_path: str, alpha_dir: str, source: str) -> str:
    """Where MaGGIe looks for a matte's mask: the (last) alpha dir component replaced by the source.

    Masks and trimaps are written there too, so each is named like its matte.
    """
    parts = matte_path.split("/")
    for i in range(len(parts) - 2, -1, -1):
        if parts[i] == alpha_dir:
            parts[i] = source
            return "/".join(parts)
    return matte_path


def instance_names(names: list[str]) -> tuple[list[str], list[str]]:
    """Split a listing of an instance folder into (.png instance files, stray names).

    Order is the loaders' ``sorted(glob('*.png'))``: plain lexicographic order.
    """
    pngs = [n for n in names if n.endswith(".png") and not is_hidden(n)]
    stray = [n for n in names if not (n.endswith(".png") and not is_hidden(n))]
    return pngs, stray


def canonical_instance_name(k: int) -> str:
    return f"{k:02d}"


def read_instances(
    tree: Tree,
    alpha_rel: str,
    mask_rels: dict[str, str],
    dataset: Dataset,
) -> list[Instance]:
    """Instances of one image or frame from its alpha folder, masks paired by file name.

    ``mask_rels`` maps mask source name -> the matching folder. Non-PNG files go
    to ``dataset.stray``; a mask without a same-named matte is a note
    (MaGGIe's val loader would crash on it).
    """
    pngs, bad = instance_names(tree.names(alpha_rel))
    if bad:
        dataset.stray.extend(join(alpha_rel, b) for b in bad)
    instances = [Instance(stem(n), FileRef(tree, join(alpha_rel, n))) for n in pngs]
    for source, mrel in mask_rels.items():
        mnames = tree.names(mrel)
        if not mnames:
            continue
        mpngs, mbad = instance_names(mnames)
        if mbad:
            dataset.stray.extend(join(mrel, b) for b in mbad)
        have = set(mpngs)
        for inst, n in zip(instances, pngs):
            if n in have:
                inst.masks[source] = FileRef(tree, join(mrel, n))
        dataset.notes += [
            Note("mask.unpaired", join(mrel, n), "mask without a matte of the same name") for n in sorted(have.difference(pngs))
        ]
    for inst in instances:  # the trimap dir is read like a mask dir, then moved to its own field
        inst.trimap = inst.masks.pop(TRIMAP_DIR, None)
    return instances


def with_trimaps(mask_dirs: list[str], tree: Tree, rel: str) -> list[str]:
    """The mask dirs to read, plus the trimap dir when ``rel`` has one."""
    return [*mask_dirs, TRIMAP_DIR] if TRIMAP_DIR in tree.dirs(rel) else list(mask_dirs)


def numeric_order(instances: list[Instance]) -> list[Instance]:
    """Instances named by numbers in numeric order (``2`` before ``10``), as their names mean; any other
    names keep the order they were read in (the loaders' sort)."""
    if instances and all(i.name.isdigit() for i in instances):
        return sorted(instances, key=lambda i: int(i.name))
    return instances


def renumbered(frame: Frame) -> bool:
    """Whether writing ``frame`` moves an instance to another position than the loaders' sort gives it."""
    return numeric_order(frame.instances) != frame.instances


def plan_instances(sample_frame: Frame, alpha_dir: str, inst_path: Callable[[str], str]) -> list[OutFile]:
    """Mattes, masks and per-instance fg layers of one frame, renamed ``NN.png``.

    ``inst_path(folder)`` gives the frame's instance folder inside ``folder``
    (the alpha dir, a mask dir, or ``fg``).
    """
    out: list[OutFile] = []
    for k, inst in enumerate(numeric_order(sample_frame.instances)):
        nn = canonical_instance_name(k)
        if inst.matte is not None:
            out.append(OutFile(join(inst_path(alpha_dir), nn + ".png"), inst.matte, True))
        for source, mask in inst.masks.items():
            out.append(OutFile(join(inst_path(source), nn + ".png"), mask, True))
        if inst.fg is not None:
            out.append(OutFile(join(inst_path("fg"), nn + ".jpg"), inst.fg, False))
        if inst.trimap is not None:
            out.append(OutFile(join(inst_path(TRIMAP_DIR), nn + ".png"), inst.trimap, True))
    return out
