"""``maggie_video``: MaGGIe's video layout (V-HIM2K5 train, V-HIM60 val).

``<split>/fgr/<video>/<frame>.jpg`` + ``<split>/<alpha_dir>/<video>/<frame>/NN.png``,
plus optional mask dirs of the same shape (``xmem`` in V-HIM60).
"""

from __future__ import annotations

from functools import partial
from typing import Any

from himfmt.io.tree import Tree, join
from himfmt.layouts.base import Holds, Match, Planned, Probe, WriteOptions, image_stems, is_hidden, plan_frames
from himfmt.layouts.instance_folders import LAYER_DIRS, InstanceFolders, pick_alpha_dir, plan_instances, read_instances, with_trimaps
from himfmt.model import Dataset, FileRef, Frame, Sample


def probe_split(tree: Tree, rel: str) -> Probe | None:
    top = tree.dirs(rel)
    if "fgr" not in top:
        return None
    videos = set(tree.dirs(join(rel, "fgr")))
    cands = []
    for d in top:
        if d == "fgr" or d in LAYER_DIRS or is_hidden(d):
            continue
        shared = [v for v in tree.dirs(join(rel, d)) if v in videos]
        # A matte folder holds one folder of frames per video (instance folders), not frame files.
        if shared and tree.dirs(join(rel, d, shared[0])):
            cands.append(d)
    alpha, masks = pick_alpha_dir(cands)
    return Probe.of(
        [(bool(videos), "fgr/ has no video folders"), (alpha is not None, "fgr/<video>/ found but no pha/<video>/<frame>/ dirs")],
        {"alpha_dir": alpha, "mask_dirs": masks},
    )


def _frame_folder(split_path: str, video: str, frame: str, folder: str) -> str:
    return join(split_path, folder, video, frame)


class MaggieVideo(InstanceFolders):
    """MaGGIe video (V-HIM2K5, V-HIM60): <split>/fgr/<video>/*.jpg + <split>/<alpha_dir>/<video>/<frame>/NN.png"""

    name = "maggie_video"
    holds = Holds(composites=True, instances=True, multi=True, video=True, masks=True)
    probe = staticmethod(probe_split)
    default_alpha_dir = "pha"

    def read(self, tree: Tree, match: Match) -> Dataset:
        first: dict[str, Any] = next(iter(match.details.values()), {})
        ds = self.new_dataset(tree, match, alpha_dir=first.get("alpha_dir"))
        for split, srel in match.splits.items():
            det = match.details[split]
            alpha = det["alpha_dir"]
            for m in det["mask_dirs"]:
                if m not in ds.mask_dirs:
                    ds.mask_dirs.append(m)
            arel = join(srel, alpha)
            read_dirs = with_trimaps(det["mask_dirs"], tree, srel)  # once per split, not per frame
            for video in sorted(set(tree.dirs(join(srel, "fgr"))).union(tree.dirs(arel))):
                frel = join(srel, "fgr", video)
                images = image_stems(tree, frel)
                ds.stray.extend(join(frel, d) for d in tree.dirs(frel))
                frame_dirs = tree.dirs(join(arel, video))
                frames = []
                for f in sorted(set(images).union(frame_dirs)):
                    insts = read_instances(
                        tree,
                        join(arel, video, f),
                        {m: join(srel, m, video, f) for m in read_dirs},
                        ds,
                    )
                    img = images.get(f)
                    frames.append(Frame(f, FileRef(tree, join(frel, img)) if img else None, insts))
                ds.samples.append(Sample(video, split, frames, is_clip=True))
        return ds

    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        out = plan_frames(sample, join(split_path, "fgr", sample.id))
        for frame in sample.frames:
            out += plan_instances(frame, opts.alpha_dir, partial(_frame_folder, split_path, sample.id, frame.name))
        return out

    def mask_path_token(self, ds: Dataset) -> str | None:
        return "/pha/" if ds.mask_dirs else None  # V-HIM's loader rewrites '/pha/' in the full path


LAYOUT = MaggieVideo()
