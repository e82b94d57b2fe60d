"""``bg_images``: a flat folder of background images (BG-20K).

Matches any folder of images without sub-folders, so it runs last and loses
to every other layout at the same place.
"""
from __future__ import annotations

from ..io.tree import Tree, join
from ..model import Dataset, FileRef, Frame, Sample
from .base import Planned, WriteOptions, Layout, Match, OutFile, Probe, detect_split_container, image_stems, is_hidden


def probe_split(tree: Tree, rel: str) -> Probe | None:
    if [d for d in tree.dirs(rel) if not is_hidden(d)]:
        return None
    if not image_stems(tree, rel):
        return None
    return Probe(1, 1)


class BgImages(Layout):
    name = "bg_images"
    kind = "image"
    description = "a flat folder of background images (BG-20K)"
    priority = 0
    default_alpha_dir = None

    def detect(self, tree: Tree, rel: str) -> Match | None:
        m = detect_split_container(self.name, tree, rel, probe_split)
        return m if m is not None and m.complete else None

    def read(self, tree: Tree, match: Match) -> Dataset:
        ds = Dataset(self.name, tree, match.path, dict(match.splits))
        for split, srel in match.splits.items():
            for s, name in sorted(image_stems(tree, srel).items()):
                ds.samples.append(Sample(s, split, [Frame(s, FileRef(tree, join(srel, name)))]))
        return ds

    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        frame = sample.frames[0]
        return [OutFile(join(split_path, sample.id + ".jpg"), frame.image, False)] if frame.image else []


LAYOUT = BgImages()
