"""``dvm_composed``: DVM's composed sequences, ``{v,a,f,b[,t]}/<seq>/%05d.jpg``.

``v`` composite, ``a`` alpha as 3-channel grey JPEG (read from channel 0, as
DVM's loader does), ``f`` the foreground *premultiplied* by alpha, ``b`` the
background crop, ``t`` trimaps. himfmt can also keep a lossless PNG copy of
the alpha in ``a_png/``; when present it is the matte the model reads.
"""

from __future__ import annotations

from himfmt.io.tree import Tree, join
from himfmt.layouts.base import Holds, Layout, Match, OutFile, Planned, WriteOptions, image_stems
from himfmt.layouts.dvm_source import trimap_ref
from himfmt.model import Dataset, FileRef, Frame, Instance, Note, Sample

STREAMS = ("v", "a", "f", "b", "t")
PNG_ALPHA = "a_png"
ONE_SPLIT = "all"  # DVM's sequences have no split of their own: a dataset is one folder


class DvmComposed(Layout):
    """DVM composed sequences: {v,a,f,b[,t]}/<seq>/%05d.jpg (f premultiplied, alpha as JPEG)"""

    name = "dvm_composed"
    default_alpha_dir = None
    holds = Holds(composites=True, instances=True, multi=False, video=True, masks=False, layers=True, union=True)
    named_splits = False  # {v,a,f,b}/<seq>/: sequences of every split share one folder
    write_losses = ("alpha written as 3-channel JPEG, as DVM's loader reads it (png_alpha=true keeps a lossless copy)",)

    def detect(self, tree: Tree, rel: str) -> Match | None:
        top = tree.dirs(rel)
        if "v" not in top and "a" not in top:
            return None

        def has_seq(stream: str) -> bool:
            seqs = tree.dirs(join(rel, stream))
            return bool(seqs) and bool(image_stems(tree, join(rel, stream, seqs[0])))

        missing = [f"no {s}/<seq>/*.jpg frames" for s in ("v", "a") if not has_seq(s)]
        if len(missing) == 2:
            return None
        return Match(self.name, rel, {ONE_SPLIT: rel}, (2 - len(missing)) / 2, missing, [rel])

    def read(self, tree: Tree, match: Match) -> Dataset:
        root = match.path
        ds = self.new_dataset(tree, match, fg_premultiplied=True)
        present = [s for s in (*STREAMS, PNG_ALPHA) if s in tree.dirs(root)]
        seqs = sorted(set(tree.dirs(join(root, "a"))) | set(tree.dirs(join(root, "v"))))
        for seq in seqs:
            streams = {s: image_stems(tree, join(root, s, seq)) for s in present}
            names = sorted(set(streams.get("v", {})) | set(streams.get("a", {})))
            for s in ("v", "a", "f", "b"):
                if s in streams and set(streams[s]) != set(names):
                    ds.notes.append(
                        Note(
                            "dvm.stream_mismatch",
                            join(root, s, seq),
                            f"{s}/{seq} has {len(streams[s])} frames where v/a have {len(names)}, or different names",
                        )
                    )

            def ref(
                stream: str, frame: str, channel: int | None = None, streams: dict[str, dict[str, str]] = streams, seq: str = seq
            ) -> FileRef | None:
                got = streams.get(stream, {}).get(frame)
                return FileRef(tree, join(root, stream, seq, got), channel=channel) if got else None

            frames = []
            for f in names:
                png, jpeg = ref(PNG_ALPHA, f), ref("a", f, 0)
                matte = png or jpeg
                frames.append(
                    Frame(
                        f,
                        ref("v", f),
                        [Instance("00", matte)] if matte else [],
                        fg=ref("f", f),
                        bg=ref("b", f),
                        trimap=ref("t", f, 0),
                        extra=[jpeg] if png is not None and jpeg is not None else [],
                    )
                )
            ds.samples.append(Sample(seq, ONE_SPLIT, frames, is_clip=True))
        return ds

    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        """Frames as DVM writes them; ``frame.fg`` must already be premultiplied."""
        out: list[Planned] = []
        seq = sample.id
        for frame in sample.frames:
            name = frame.name + ".jpg"
            matte = frame.instances[0].matte if frame.instances else None
            if frame.image is not None:
                out.append(OutFile(join("v", seq, name), frame.image, False))
            if matte is not None:
                out.append(OutFile(join("a", seq, name), matte, True, gray3=True))
                if opts.png_alpha:
                    out.append(OutFile(join(PNG_ALPHA, seq, frame.name + ".png"), matte, True))
            if frame.fg is not None:
                out.append(OutFile(join("f", seq, name), frame.fg, False))
            if frame.bg is not None:
                out.append(OutFile(join("b", seq, name), frame.bg, False))
            tri = frame.trimap or trimap_ref(matte, opts)
            if tri is not None:
                out.append(OutFile(join("t", seq, name), tri, True, gray3=True))
        return out

    def read_losses(self, ds: Dataset) -> list[str]:
        jpeg = sum(
            1 for s in ds.samples for f in s.frames for i in f.instances if isinstance(i.matte, FileRef) and i.matte.channel is not None
        )
        return [f"{jpeg} mattes come from DVM's JPEG alpha a/ (noisy near 0 and 255): there is no lossless a_png/ copy"] if jpeg else []

    def trimap_place(self, ds: Dataset, matte: FileRef) -> tuple[str, bool] | None:
        """a/<seq>/<f>.jpg or a_png/<seq>/<f>.png -> t/<seq>/<f>.jpg, as DVM writes trimaps."""
        rel = matte.path[len(ds.path) + 1 :] if ds.path else matte.path
        _, seq, name = rel.split("/")[-3:]
        return join(ds.path, "t", seq, name.rsplit(".", 1)[0] + ".jpg"), True


LAYOUT = DvmComposed()
