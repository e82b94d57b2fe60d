"""``bg_images``: a flat folder of background images (BG-20K).

Matches any folder of images without sub-folders, so it runs last and loses
to every other layout at the same place.
"""

from __future__ import annotations

from himfmt.errors import HimfmtError
from himfmt.io.images import read_info
from himfmt.io.tree import Tree, join
from himfmt.layouts.base import FALLBACK, Holds, Layout, Match, OutFile, Planned, Probe, WriteOptions, image_stems, is_hidden
from himfmt.model import Dataset, FileRef, Frame, Sample

MATTE_MODES = ("L", "1", "I;16", "LA")


def probe_split(tree: Tree, rel: str) -> Probe | None:
    """A flat folder of colour pictures; never mattes (single-channel PNGs) nor one half of an image/matte pair
    (a folder whose file stems a sibling folder repeats, as P3M's ``blurred_image/`` and ``mask/``)."""
    if [d for d in tree.dirs(rel) if not is_hidden(d)]:
        return None
    stems = image_stems(tree, rel)
    if not stems:
        return None
    if _is_matte(tree, join(rel, stems[min(stems)])):
        return None  # single-channel PNGs: mattes, not backgrounds
    parent = rel.rsplit("/", 1)[0] if "/" in rel else ""
    for sibling in tree.dirs(parent) if rel else []:
        if sibling != rel.rsplit("/", 1)[-1] and not is_hidden(sibling):
            theirs = image_stems(tree, join(parent, sibling))
            shared = sorted(set(stems) & set(theirs))
            if len(shared) * 2 >= len(stems) and _is_matte(tree, join(parent, sibling, theirs[shared[0]])):
                return None  # the images of an image/matte pair (P3M's blurred_image/ beside mask/)
    return Probe.of([(True, "a flat folder of colour pictures")])


def _is_matte(tree: Tree, rel: str) -> bool:
    return rel.lower().endswith(".png") and _mode(tree, rel) in MATTE_MODES


def _mode(tree: Tree, rel: str) -> str | None:
    try:
        with tree.open(rel) as f:
            return read_info(f, tree.abspath(rel)).mode
    except (OSError, HimfmtError):
        return None


class BgImages(Layout):
    """a flat folder of background images (BG-20K)"""

    name = "bg_images"
    holds = Holds(composites=True, instances=False, multi=False, video=False, masks=False)
    priority = FALLBACK
    probe = staticmethod(probe_split)
    default_alpha_dir = None

    def detect(self, tree: Tree, rel: str) -> Match | None:
        m = super().detect(tree, rel)
        return m if m is not None and m.complete else None

    def read(self, tree: Tree, match: Match) -> Dataset:
        ds = self.new_dataset(tree, match)
        for split, srel in match.splits.items():
            for s, name in sorted(image_stems(tree, srel).items()):
                ds.samples.append(Sample(s, split, [Frame(s, FileRef(tree, join(srel, name)))]))
        return ds

    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        frame = sample.frames[0]
        return [OutFile(join(split_path, sample.id + ".jpg"), frame.image, False)] if frame.image else []


LAYOUT = BgImages()
