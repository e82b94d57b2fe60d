"""``hhm``: single-person source mattes (HHM): ``images/<stem>.jpg`` + ``alphas/<stem>.png``.

An ``invalid_him.txt`` beside them lists file names to skip; the reader keeps
every sample and records the list in ``Dataset.skip`` so recipes can honour it
and validation can report names that match nothing.
"""

from __future__ import annotations

from himfmt.io.tree import Tree, join
from himfmt.layouts.base import Holds, Match, OutFile, Planned, Probe, WriteOptions, image_stems
from himfmt.layouts.instance_folders import TrimapsBesideMattes
from himfmt.model import Dataset, FileRef, Frame, Instance, Sample

ALPHA_NAMES = ("alphas", "alpha", "mattes")
SKIP_LIST = "invalid_him.txt"


def probe_split(tree: Tree, rel: str) -> Probe | None:
    top = tree.dirs(rel)
    alpha = next((a for a in ALPHA_NAMES if a in top), None)
    if "images" not in top or alpha is None:
        return None
    imgs = image_stems(tree, join(rel, "images"))
    mattes = image_stems(tree, join(rel, alpha))
    if not mattes:
        return None  # alphas/ holds folders, not files: an instance layout
    return Probe.of(
        [(True, "images/ and alphas/"), (bool(set(imgs) & set(mattes)), "images/ and alphas/ share no file stems")], {"alpha_dir": alpha}
    )


def read_skip_list(tree: Tree, rel: str) -> list[str]:
    path = join(rel, SKIP_LIST)
    if not tree.is_file(path):
        return []
    text = tree.read_bytes(path).decode("utf-8", errors="replace")
    return [line.strip() for line in text.splitlines() if line.strip()]


class Hhm(TrimapsBesideMattes):
    """single-person source mattes (HHM): images/<stem>.jpg + alphas/<stem>.png"""

    name = "hhm"
    holds = Holds(composites=True, instances=True, multi=False, video=False, masks=False, foregrounds=True)
    probe = staticmethod(probe_split)

    def read(self, tree: Tree, match: Match) -> Dataset:
        ds = self.new_dataset(tree, match, alpha_dir="alphas")
        for split, srel in match.splits.items():
            alpha = match.details[split]["alpha_dir"]
            imgs = image_stems(tree, join(srel, "images"))
            mattes = image_stems(tree, join(srel, alpha))
            ds.skip += read_skip_list(tree, srel)
            for s in sorted(set(imgs).union(mattes)):
                image = FileRef(tree, join(srel, "images", imgs[s])) if s in imgs else None
                insts = [Instance("00", FileRef(tree, join(srel, alpha, mattes[s])))] if s in mattes else []
                ds.samples.append(Sample(s, split, [Frame(s, image, insts)]))
        return ds

    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        frame = sample.frames[0]
        out: list[Planned] = [OutFile(join(split_path, "images", sample.id + ".jpg"), frame.image, False)] if frame.image else []
        if frame.instances and frame.instances[0].matte is not None:
            out.append(OutFile(join(split_path, "alphas", sample.id + ".png"), frame.instances[0].matte, True))
        return out


LAYOUT = Hhm()
