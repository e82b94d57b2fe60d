"""A layout defined outside himfmt: ``images/<stem>.jpg`` + ``masks/<stem>_<k>.png``, one PNG per person.

The plugin test registers it through the ``himfmt.layouts`` entry-point
group; himfmt then detects, validates and converts to and from it with no
edit inside ``himfmt/``.
"""

from __future__ import annotations

from typing import Any

from himfmt.plugin import (
    Dataset,
    FileRef,
    Frame,
    Holds,
    Instance,
    Layout,
    Match,
    OutFile,
    Planned,
    Probe,
    Sample,
    Tree,
    WriteOptions,
    detect_split_container,
    image_stems,
    join,
)


def masks_by_stem(tree: Tree, rel: str) -> dict[str, list[str]]:
    """``<stem>_<k>.png`` file names of ``masks/`` by stem, in instance order."""
    out: dict[str, list[str]] = {}
    for name in sorted(tree.files(join(rel, "masks"))):
        stem, _, k = name[:-4].rpartition("_")
        if name.endswith(".png") and stem and k.isdigit():
            out.setdefault(stem, []).append(name)
    return out


def probe(tree: Tree, rel: str) -> Probe | None:
    top = tree.dirs(rel)
    if "images" not in top or "masks" not in top:
        return None
    paired = set(image_stems(tree, join(rel, "images"))) & set(masks_by_stem(tree, rel))
    return Probe.of([(True, "images/ and masks/"), (bool(paired), "no images/<stem>.jpg with masks/<stem>_<k>.png")])


class FlatMasks(Layout):
    """flat instance masks: images/<stem>.jpg + masks/<stem>_<k>.png"""

    name = "flat_masks"
    findings = {
        "flat.mask_without_image": {
            "severity": "error",
            "meaning": "A mask names a stem that has no image.",
            "breaks": "flat-mask loaders pair masks with images by stem",
            "fix": "Add the image or remove the mask.",
        }
    }
    holds = Holds(composites=True, instances=True, multi=True, video=False, masks=False)
    default_alpha_dir = None

    def detect(self, tree: Tree, rel: str) -> Match | None:
        return detect_split_container(self.name, tree, rel, probe)

    def read(self, tree: Tree, match: Match) -> Dataset:
        ds = self.new_dataset(tree, match)
        for split, srel in match.splits.items():
            images = image_stems(tree, join(srel, "images"))
            masks = masks_by_stem(tree, srel)
            for stem in sorted(set(images) | set(masks)):
                image = FileRef(tree, join(srel, "images", images[stem])) if stem in images else None
                insts = [Instance(n[:-4].rpartition("_")[2], FileRef(tree, join(srel, "masks", n))) for n in masks.get(stem, [])]
                ds.samples.append(Sample(stem, split, [Frame(stem, image, insts)]))
        return ds

    def plan(self, sample: Sample, split_path: str, opts: WriteOptions) -> list[Planned]:
        frame = sample.frames[0]
        out: list[Planned] = [OutFile(join(split_path, "images", sample.id + ".jpg"), frame.image, False)] if frame.image else []
        out += [
            OutFile(join(split_path, "masks", f"{sample.id}_{k}.png"), inst.matte, True)
            for k, inst in enumerate(frame.instances)
            if inst.matte is not None
        ]
        return out

    def schema(self) -> dict[str, Any]:
        return {
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "urn:example:flat_masks",
            "$ref": "urn:himfmt:defs#/$defs/manifest",
            "properties": {"layout": {"const": self.name}},
            "$defs": {
                "sample": {"$ref": "#/$defs/frame"},
                "frame": {
                    "$ref": "urn:himfmt:defs#/$defs/frame",
                    "properties": {
                        "image": {
                            "type": "string",
                            "pattern": "\\.jpg$",
                            "x-findings": {"type": "image.missing", "pattern": "image.not_jpg"},
                        },
                        "instances": {"minItems": 1, "x-findings": {"minItems": "sample.no_instances"}},
                    },
                },
            },
        }


LAYOUT = FlatMasks()
