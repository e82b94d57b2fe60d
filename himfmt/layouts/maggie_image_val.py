"""``maggie_image_val``: MaGGIe's image val/test layout (HIM2K + M-HIM2K).

``images/<split>/<stem>.jpg``, ``<alpha_dir>/<split>/<stem>/NN.png`` and any
number of mask dirs ``<mask_dir>/<split>/<stem>/NN.png`` (one per detector).
"""

from __future__ import annotations

from himfmt.io.tree import Tree, join
from himfmt.layouts.base import BROKEN_TREE, Holds, Match, OutFile, Planned, WriteOptions, image_stems, is_hidden
from himfmt.layouts.instance_folders import LAYER_DIRS, InstanceFolders, pick_alpha_dir, plan_instances, read_instances, with_trimaps
from himfmt.model import Dataset, FileRef, Frame, Sample


def _instance_folders(tree: Tree, rel: str, top: list[str], splits: dict[str, set[str]]) -> list[str]:
    """Folders beside images/ that hold, for some split, one folder per image stem (mattes or masks)."""
    return [
        d
        for d in top
        if d != "images"
        and d not in LAYER_DIRS
        and not is_hidden(d)
        and any(any(x in stems for x in tree.dirs(join(rel, d, s))) for s, stems in splits.items())
    ]


class MaggieImageVal(InstanceFolders):
    """MaGGIe image val (HIM2K/M-HIM2K): images/<split>/*.jpg + <alpha_dir>/<split>/<stem>/NN.png + mask dirs"""

    name = "maggie_image_val"
    holds = Holds(composites=True, instances=True, multi=True, video=False, masks=True, needs_masks=True)

    def detect(self, tree: Tree, rel: str) -> Match | None:
        top = tree.dirs(rel)
        if "images" not in top:
            return None
        img_rel = join(rel, "images")
        splits = {s: set(image_stems(tree, join(img_rel, s))) for s in tree.dirs(img_rel)}
        splits = {s: st for s, st in splits.items() if st}
        if not splits:
            return None  # images/ holds no split folders of images: not this layout
        alpha, masks = pick_alpha_dir(_instance_folders(tree, rel, top, splits))
        if alpha is None:
            return Match(self.name, rel, {}, BROKEN_TREE, ["images/<split>/ found but no alphas/<split>/<stem>/ dirs"], [rel])
        split_map = {s: join(rel, "images", s) for s in sorted(splits)}
        return Match(self.name, rel, split_map, 1.0, claims=[rel], details={"alpha_dir": alpha, "mask_dirs": masks})

    def read(self, tree: Tree, match: Match) -> Dataset:
        alpha = match.details["alpha_dir"]
        masks = match.details["mask_dirs"]
        root = match.path
        ds = self.new_dataset(tree, match, alpha_dir=alpha, mask_dirs=list(masks))
        read_dirs = with_trimaps(masks, tree, root)  # once, not per sample
        for split in match.splits:
            images = image_stems(tree, join(root, "images", split))
            arel = join(root, alpha, split)
            ds.stray.extend(join(arel, f) for f in tree.files(arel))
            for s in sorted(set(images).union(tree.dirs(arel))):
                img = images.get(s)
                insts = read_instances(tree, join(arel, s), {m: join(root, m, split, s) for m in read_dirs}, ds)
                image = FileRef(tree, join(root, "images", split, img)) if img else None
                ds.samples.append(Sample(s, split, [Frame(s, image, insts)]))
        return ds

    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        # split_path is the split's name: val trees keep every split under one root.
        frame = sample.frames[0]
        split = split_path
        out: list[Planned] = [OutFile(join("images", split, sample.id + ".jpg"), frame.image, False)] if frame.image else []
        out += plan_instances(frame, opts.alpha_dir, lambda d: join(d, split, sample.id))
        return out


LAYOUT = MaggieImageVal()
