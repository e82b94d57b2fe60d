"""``video_matte``: foreground clips (VideoMatte240K style).

``fgr/<clip>/<frame>.jpg`` with ``pha/<clip>/<frame>.jpg|png`` beside it; where
there is no ``pha/``, the fgr frames are RGBA and their alpha channel is the
matte. A matte stored as a 3-channel JPEG is read from its first channel.
"""

from __future__ import annotations

from himfmt.errors import BadInputError
from himfmt.io.tree import Tree, join
from himfmt.layouts.base import Holds, Match, OutFile, Planned, Probe, WriteOptions, image_stems, plan_frames
from himfmt.layouts.instance_folders import TrimapsBesideMattes
from himfmt.model import Dataset, FileRef, Frame, Instance, Sample


def _first_frame(tree: Tree, rel: str) -> str | None:
    for clip in tree.dirs(rel):
        frames = image_stems(tree, join(rel, clip))
        if frames:
            return join(rel, clip, next(iter(frames.values())))
    return None


def probe_split(tree: Tree, rel: str) -> Probe | None:
    top = tree.dirs(rel)
    if "fgr" not in top:
        return None
    first = _first_frame(tree, join(rel, "fgr"))
    if first is None:
        return None
    if "pha" in top:
        if _first_frame(tree, join(rel, "pha")) is None:
            return None  # mattes are one frame file each in pha/<clip>/; folders there are another layout's
        return Probe.of([(True, "fgr/<clip>/"), (True, "pha/<clip>/")], {"rgba": False})
    rgba = False
    if first.endswith(".png"):
        try:
            rgba = FileRef(tree, first).info().mode in ("RGBA", "LA")
        except BadInputError:
            rgba = False
    return Probe.of(
        [(True, "fgr/<clip>/"), (rgba, "fgr/<clip>/ found but no pha/<clip>/ mattes and the frames are not RGBA")], {"rgba": rgba}
    )


class VideoMatte(TrimapsBesideMattes):
    """foreground clips (VideoMatte240K): fgr/<clip>/<frame> + pha/<clip>/<frame> (or RGBA frames)"""

    name = "video_matte"
    holds = Holds(composites=False, instances=True, multi=False, video=True, masks=False, foregrounds=True)
    probe = staticmethod(probe_split)
    default_alpha_dir = "pha"

    def read(self, tree: Tree, match: Match) -> Dataset:
        ds = self.new_dataset(tree, match, alpha_dir="pha")
        for split, srel in match.splits.items():
            rgba = match.details[split]["rgba"]
            prel = join(srel, "pha")
            clips = set(tree.dirs(join(srel, "fgr")))
            if not rgba:
                clips.update(tree.dirs(prel))
            for clip in sorted(clips):
                fgr = image_stems(tree, join(srel, "fgr", clip))
                pha = {} if rgba else image_stems(tree, join(prel, clip))
                frames = []
                for f in sorted(set(fgr).union(pha)):
                    image = FileRef(tree, join(srel, "fgr", clip, fgr[f])) if f in fgr else None
                    if rgba:
                        matte = FileRef(tree, image.path, channel=3) if image else None
                    else:
                        matte = FileRef(tree, join(prel, clip, pha[f]), channel=0) if f in pha else None
                    frames.append(Frame(f, image, [Instance("00", matte)] if matte else []))
                ds.samples.append(Sample(clip, split, frames, is_clip=True))
        return ds

    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        out = plan_frames(sample, join(split_path, "fgr", sample.id))
        for frame in sample.frames:
            if frame.instances and frame.instances[0].matte is not None:
                out.append(OutFile(join(split_path, "pha", sample.id, frame.name + ".png"), frame.instances[0].matte, True))
        return out


LAYOUT = VideoMatte()
