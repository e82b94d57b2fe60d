"""``maggie_image_train``: MaGGIe's image training layout (I-HIM50K).

``<split>/images/<stem>.jpg`` + ``<split>/<alpha_dir>/<stem>/NN.png``, optional
mask dirs of the same shape, and the ``fg/<stem>/<k>.jpg`` and ``bg/<stem>.jpg``
layers MaGGIe's synthesizer writes. Its ``0.png``-style names are read as they are.
"""

from __future__ import annotations

from typing import Any

from himfmt.io.tree import Tree, join
from himfmt.layouts.base import Holds, Match, OutFile, Planned, Probe, WriteOptions, image_stems
from himfmt.layouts.instance_folders import (
    LAYER_DIRS,
    InstanceFolders,
    instance_dirs,
    pick_alpha_dir,
    plan_instances,
    read_instances,
    with_trimaps,
)
from himfmt.model import Dataset, FileRef, Frame, Sample


def probe_split(tree: Tree, rel: str) -> Probe | None:
    has_images = "images" in tree.dirs(rel)
    stems = set(image_stems(tree, join(rel, "images"))) if has_images else set()
    cands = instance_dirs(tree, rel, stems, ("images", *LAYER_DIRS)) if stems else []
    alpha, masks = pick_alpha_dir(cands)
    if not has_images and alpha is None:
        return None
    return Probe.of(
        [
            (bool(stems), f"{join(rel, 'images') or 'images'}/ has no image files" if has_images else "no images/ folder"),
            (alpha is not None, "images/ found but no alphas/<stem>/ dirs"),
        ],
        {"alpha_dir": alpha, "mask_dirs": masks},
    )


class MaggieImageTrain(InstanceFolders):
    """MaGGIe image train (I-HIM50K): <split>/images/*.jpg + <split>/<alpha_dir>/<stem>/NN.png"""

    name = "maggie_image_train"
    holds = Holds(composites=True, instances=True, multi=True, video=False, masks=True, layers=True)
    probe = staticmethod(probe_split)

    def read(self, tree: Tree, match: Match) -> Dataset:
        first: dict[str, Any] = next(iter(match.details.values()), {})
        ds = self.new_dataset(tree, match, alpha_dir=first.get("alpha_dir"))
        mask_dirs: list[str] = []
        for split, srel in match.splits.items():
            det = match.details[split]
            alpha = det["alpha_dir"]
            for m in det["mask_dirs"]:
                if m not in mask_dirs:
                    mask_dirs.append(m)
            images = image_stems(tree, join(srel, "images"))
            alpha_stems = tree.dirs(join(srel, alpha))
            ds.stray.extend(join(srel, alpha, f) for f in tree.files(join(srel, alpha)))
            has_fg = "fg" in tree.dirs(srel)
            read_dirs = with_trimaps(det["mask_dirs"], tree, srel)  # once per split, not per sample
            bgs = image_stems(tree, join(srel, "bg")) if "bg" in tree.dirs(srel) else {}
            for s in sorted(set(images).union(alpha_stems)):
                img = images.get(s)
                insts = read_instances(tree, join(srel, alpha, s), {m: join(srel, m, s) for m in read_dirs}, ds)
                if has_fg:
                    fgs = {n.rsplit(".", 1)[0]: n for n in tree.names(join(srel, "fg", s))}
                    for inst in insts:
                        if inst.name in fgs:
                            inst.fg = FileRef(tree, join(srel, "fg", s, fgs[inst.name]))
                frame = Frame(
                    s,
                    FileRef(tree, join(srel, "images", img)) if img else None,
                    insts,
                    bg=FileRef(tree, join(srel, "bg", bgs[s])) if s in bgs else None,
                )
                ds.samples.append(Sample(s, split, [frame]))
        ds.mask_dirs = mask_dirs
        return ds

    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        frame = sample.frames[0]
        out: list[Planned] = [OutFile(join(split_path, "images", sample.id + ".jpg"), frame.image, False)] if frame.image else []
        out += plan_instances(frame, opts.alpha_dir, lambda d: join(split_path, d, sample.id))
        if frame.bg is not None:
            out.append(OutFile(join(split_path, "bg", sample.id + ".jpg"), frame.bg, False))
        return out


LAYOUT = MaggieImageTrain()
