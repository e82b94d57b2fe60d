"""``dvm_source``: the inputs of DVM's generator.

``fg/image/<phase>/{fg,alpha[,trimap]}/<name>.png``,
``fg/video/<phase>/<NNNN>/{f,a}.mp4``, ``bg/<phase>/<NNNN>.mp4`` and pair lists
(``*.txt`` at the root). Image fgs are samples with one frame; video fgs are
clips whose frames are references into the mp4 streams (nothing decoded);
background videos are ``Dataset.backgrounds``. Reading notes, rather than
skips, what DVM's generator would silently skip: a pair naming a missing
file, f/a videos with different frame counts.
"""

from __future__ import annotations

from functools import partial

from himfmt.errors import BadInputError
from himfmt.io.images import is_image_name
from himfmt.io.tree import Tree, join
from himfmt.io.video import StreamInfo, is_video_name
from himfmt.layouts.base import Holds, Match, OutFile, OutStream, OutText, Planned, WriteOptions, stem, trimap
from himfmt.layouts.dvm_pairs import Pair, format_pairs, looks_like_pairs, parse_pairs
from himfmt.layouts.instance_folders import TrimapsBesideMattes
from himfmt.model import Dataset, DerivedRef, FileRef, Frame, Instance, Media, Note, Sample
from himfmt.text import plural

PHASES = ("train", "test")


def _phases(tree: Tree, rel: str) -> list[str]:
    return [p for p in tree.dirs(rel) if p in PHASES]


def _stream_frames(tree: Tree, rel: str, ds: Dataset) -> int | None:
    try:
        return StreamInfo(tree.abspath(rel)).frames
    except BadInputError as exc:
        ds.notes.append(Note("file.corrupt", rel, str(exc.args[0]).split(": ", 1)[-1]))
        return None


class DvmSource(TrimapsBesideMattes):
    """DVM sources: fg/image/<phase>/{fg,alpha}/, fg/video/<phase>/<NNNN>/{f,a}.mp4, bg/<phase>/*.mp4, pair lists"""

    name = "dvm_source"
    holds = Holds(composites=False, instances=True, multi=False, video=True, masks=False, either=True, foregrounds=True, backgrounds=True)
    default_alpha_dir = None
    write_losses = ("video fgs: f.mp4 is H.264 CRF 18 (lossy), a.mp4 lossless; image fgs are PNG (lossless)",)

    def detect(self, tree: Tree, rel: str) -> Match | None:
        top = tree.dirs(rel)
        if "fg" not in top and "bg" not in top:
            return None
        fg = join(rel, "fg")
        has_fg = any(_phases(tree, join(fg, kind)) for kind in ("image", "video") if kind in tree.dirs(fg))
        has_bg = any(any(is_video_name(n) for n in tree.files(join(rel, "bg", p))) for p in _phases(tree, join(rel, "bg")))
        if not has_fg and not has_bg:
            return None
        # Foregrounds make the tree; background videos are optional (a conversion
        # from image data writes foregrounds only).
        missing = [] if has_fg else ["no fg/image/<phase>/ or fg/video/<phase>/ foregrounds"]
        phases = sorted(set(_phases(tree, join(fg, "image"))) | set(_phases(tree, join(fg, "video"))) | set(_phases(tree, join(rel, "bg"))))
        return Match(self.name, rel, {p: rel for p in phases}, 1.0 if has_fg else 0.5, missing, [rel])

    def read(self, tree: Tree, match: Match) -> Dataset:
        root = match.path
        ds = self.new_dataset(tree, match)
        for phase in match.splits:
            self._read_images(tree, root, phase, ds)
            self._read_videos(tree, root, phase, ds)
            brel = join(root, "bg", phase)
            for name in tree.files(brel):
                if not is_video_name(name):
                    continue
                n = _stream_frames(tree, join(brel, name), ds) or 0
                frames = [Frame(f"{i:05d}", FileRef(tree, join(brel, name), i)) for i in range(n)]
                ds.backgrounds.append(Sample(stem(name), phase, frames, is_clip=True))
        self._read_pairs(tree, root, ds)
        return ds

    def _read_images(self, tree: Tree, root: str, phase: str, ds: Dataset) -> None:
        base = join(root, "fg", "image", phase)
        fgs = [n for n in tree.files(join(base, "fg")) if is_image_name(n)]
        alphas = set(tree.files(join(base, "alpha")))
        trimaps = set(tree.files(join(base, "trimap")))
        for name in fgs:
            image = FileRef(tree, join(base, "fg", name))
            if name in alphas:
                matte: FileRef | None = FileRef(tree, join(base, "alpha", name))
            else:
                try:
                    rgba = image.info().mode in ("RGBA", "LA")
                except BadInputError:
                    rgba = False
                matte = FileRef(tree, image.path, channel=3) if rgba else None
                if matte is None:
                    ds.notes.append(Note("dvm.alpha_missing", image.path, f"no alpha/{name} and the fg has no alpha channel"))
            tri = FileRef(tree, join(base, "trimap", name)) if name in trimaps else None
            insts = [Instance("00", matte)] if matte else []
            ds.samples.append(Sample(stem(name), phase, [Frame(stem(name), image, insts, trimap=tri)]))
        for name in sorted(alphas.difference(fgs)):
            ds.notes.append(Note("dvm.fg_missing", join(base, "alpha", name), f"alpha without fg/{name}"))

    def _read_videos(self, tree: Tree, root: str, phase: str, ds: Dataset) -> None:
        base = join(root, "fg", "video", phase)
        for clip in tree.dirs(base):
            crel = join(base, clip)
            names = set(tree.files(crel))
            for want in ("f.mp4", "a.mp4"):
                if want not in names:
                    ds.notes.append(Note("dvm.stream_missing", join(crel, want), f"clip {clip} has no {want}"))
            nf = _stream_frames(tree, join(crel, "f.mp4"), ds) if "f.mp4" in names else None
            na = _stream_frames(tree, join(crel, "a.mp4"), ds) if "a.mp4" in names else None
            if nf is not None and na is not None and nf != na:
                ds.notes.append(Note("dvm.frame_count_mismatch", crel, f"f.mp4 has {nf} frames, a.mp4 has {na} (DVM skips this clip)"))
            n = min(nf or 0, na or 0)
            frames = [
                Frame(f"{i:05d}", FileRef(tree, join(crel, "f.mp4"), i), [Instance("00", FileRef(tree, join(crel, "a.mp4"), i, 0))])
                for i in range(n)
            ]
            ds.samples.append(Sample(clip, phase, frames, is_clip=True))

    def _read_pairs(self, tree: Tree, root: str, ds: Dataset) -> None:
        pairs: dict[str, list[Pair]] = {}
        for name in tree.files(root):
            if not name.endswith(".txt"):
                continue
            rel = join(root, name)
            text = tree.read_bytes(rel).decode("utf-8", errors="replace")
            if not looks_like_pairs(text):
                continue
            bad: list[str] = []
            pairs[name] = parse_pairs(text, tree.display(rel), bad)
            ds.notes += [Note("dvm.pair_bad_line", rel, why) for why in bad]
            phases = [p for p in PHASES if p in name] or list(PHASES)
            ds.notes += [Note("dvm.pair_missing_file", rel, why) for pair in pairs[name] for why in _missing(tree, root, pair, phases)]
        ds.pair_lists = pairs

    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        """A clip as DVM's f.mp4/a.mp4 pair (plus its own background video); an image as PNG fg, alpha (and trimap)."""
        return self._plan_clip(sample, split_path) if sample.is_clip else self._plan_image(sample, split_path, opts)

    def _plan_clip(self, sample: Sample, phase: str) -> list[Planned]:
        base = join("fg", "video", phase, sample.id)
        mattes = [m for f in sample.frames for m in ([f.instances[0].matte] if f.instances else []) if m is not None]
        streams: list[Planned] = [
            OutStream(join(base, "f.mp4"), [f.image for f in sample.frames if f.image is not None], False),
            OutStream(join(base, "a.mp4"), mattes, True),
        ]
        bgs = [f.bg for f in sample.frames if f.bg is not None]
        if bgs and len(bgs) == len(sample.frames):  # a composed clip's own background (DVM's b/)
            streams.append(OutStream(join("bg", phase, sample.id + ".mp4"), bgs, False))
        return streams

    def _plan_image(self, sample: Sample, phase: str, opts: WriteOptions) -> list[Planned]:
        frame = sample.frames[0]
        base = join("fg", "image", phase)
        name = sample.id + ".png"
        matte = frame.instances[0].matte if frame.instances else None
        pictures = (("fg", frame.image, False), ("alpha", matte, True), ("trimap", frame.trimap or trimap_ref(matte, opts), True))
        return [OutFile(join(base, folder, name), media, gray) for folder, media, gray in pictures if media is not None]

    def split_folder(self, split: str) -> str:
        return split if split in PHASES else "train"  # DVM knows two phases; every other split trains

    def unfinished(self, dataset: Dataset) -> list[str]:
        alone = sum(s.is_clip and not all(f.bg is not None for f in s.frames) for s in dataset.samples)
        if not alone or dataset.pair_lists:
            return []
        return [
            f"no pair list names {plural(alone, 'clip')}: they bring no background video of their own, and "
            "DVM's generator composes fg+bg pairs (add bg/<phase>/*.mp4 and a <phase>_pairs.txt naming them)"
        ]

    def plan_background(self, bg: Sample, phase: str) -> OutStream:
        return OutStream(join("bg", phase, bg.id + ".mp4"), [f.image for f in bg.frames if f.image is not None], False)

    def finish(self, dataset: Dataset, split_paths: dict[str, str]) -> list[Planned]:
        """Background videos and pair lists: the dataset's own lists, or (read from another layout) one list
        per phase pairing each clip with the background video written beside it."""
        out: list[Planned] = [self.plan_background(bg, split_paths.get(bg.split, bg.split)) for bg in dataset.backgrounds]
        lists = dataset.pair_lists or own_background_pairs(dataset, split_paths)
        out += [OutText(name, format_pairs(pairs)) for name, pairs in lists.items()]
        return out


def trimap_ref(matte: Media | None, opts: WriteOptions) -> DerivedRef | None:
    """The trimap to write for ``matte`` when the options ask for trimaps."""
    if matte is None or opts.trimap is None:
        return None
    kernel, iterations = opts.trimap
    return DerivedRef(partial(trimap, kernel=kernel, iterations=iterations), (matte,), (True,))


def _missing(tree: Tree, root: str, pair: Pair, phases: list[str]) -> list[str]:
    """What DVM's generator would skip ``pair`` for: its fg or bg in none of the list's phases."""
    fg = ("fg/image/{}/fg/" + pair.fg, tree.is_file) if pair.kind == "image" else ("fg/video/{}/" + pair.fg, tree.is_dir)
    out = []
    for what, (pattern, exists) in (("fg", fg), ("bg", ("bg/{}/" + pair.bg, tree.is_file))):
        tried = [join(root, pattern.format(p)) for p in phases]
        if not any(exists(t) for t in tried):
            out.append(f"line {pair.line}: {what} {tried[0]} does not exist")
    return out


def own_background_pairs(dataset: Dataset, split_paths: dict[str, str]) -> dict[str, list[Pair]]:
    """``<phase>_pairs.txt``: ``video+<clip>+<clip>.mp4`` for each clip that brings its own background (a
    composed clip's, written as ``bg/<phase>/<clip>.mp4``), so DVM's generator composes it again as it was."""
    lists: dict[str, list[Pair]] = {}
    for sample in dataset.samples:
        if sample.is_clip and sample.frames and all(f.bg is not None for f in sample.frames):
            phase = split_paths.get(sample.split, sample.split)
            pairs = lists.setdefault(f"{phase}_pairs.txt", [])
            pairs.append(Pair("video", sample.id, sample.id + ".mp4", len(pairs) + 1))
    return lists


LAYOUT = DvmSource()
