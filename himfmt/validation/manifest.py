"""Layer 1: the manifest of a tree, validated against its layout's JSON Schema.

The manifest is the JSON document of what the listing found (splits,
samples, frames, instance and mask file names). Schema errors become findings
with the tree path they concern: every constraint in ``schemas/<layout>.json``
carries ``x-findings`` (JSON Schema keyword -> finding code). Layout schemas
share ``schemas/defs.json`` (``urn:himfmt:defs``) by ``$ref``, resolved from
memory, never fetched. Samples are
validated one by one with a cache keyed by their shape (the entry with the
sample's own stem abstracted), so 50,000 alike samples cost a few schema runs.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from himfmt.layouts import get_layout
from himfmt.layouts.base import load_schema
from himfmt.model import Dataset, FileRef, Frame, Sample
from himfmt.validation.catalog import Finding, catalog, finding

DEFS = "defs.json"


@lru_cache(maxsize=None)
def _validators(layout: str) -> tuple[Draft202012Validator, Draft202012Validator]:
    """The manifest's validator and one sample's, with the shared definitions in their registry."""
    own = get_layout(layout).schema()
    own = {**own, "$id": own.get("$id", f"urn:himfmt:layout:{layout}")}
    shared = load_schema(DEFS)
    registry: Registry[Any] = Registry().with_resources(
        (s["$id"], Resource.from_contents(s, default_specification=DRAFT202012)) for s in (own, shared)
    )
    sample = {"$ref": f"{own['$id']}#/$defs/sample"}
    return Draft202012Validator(own, registry=registry), Draft202012Validator(sample, registry=registry)


def _name(media: Any) -> str | None:
    return None if media is None else getattr(media, "name", "<memory>")


def frame_entry(frame: Frame) -> dict[str, Any]:
    masks: dict[str, list[str]] = {}
    for inst in frame.instances:
        for src, m in inst.masks.items():
            masks.setdefault(src, []).append(_name(m) or "")
    entry: dict[str, Any] = {"image": _name(frame.image), "instances": [_name(i.matte) or "" for i in frame.instances]}
    if masks:
        entry["masks"] = masks
    return entry


def sample_entry(sample: Sample, as_clip: bool) -> dict[str, Any]:
    if as_clip:
        return {"frames": {f.name: frame_entry(f) for f in sample.frames}}
    return frame_entry(sample.frames[0])


def build(ds: Dataset) -> dict[str, Any]:
    """The manifest document of a dataset (what ``schemas/<layout>.json`` describes)."""
    as_clip = get_layout(ds.layout).kind == "video"
    splits: dict[str, Any] = {s: {"samples": {}} for s in ds.splits}
    for s in ds.samples:
        splits.setdefault(s.split, {"samples": {}})["samples"][s.id] = sample_entry(s, as_clip)
    return {"layout": ds.layout, "alpha_dir": ds.alpha_dir, "mask_dirs": ds.mask_dirs, "splits": splits}


def _dirname(path: str) -> str:
    return path.rsplit("/", 1)[0] if "/" in path else ""


def _frame_path(frame: Frame, field: str, keyword: str) -> str:
    """The tree path a schema error on ``field`` of a frame is about."""
    img = frame.image.path if isinstance(frame.image, FileRef) else ""
    inst = next((i.matte.path for i in frame.instances if isinstance(i.matte, FileRef)), None)
    inst_dir = _dirname(inst) if inst else ""
    if field == "instances" and keyword == "maxItems":  # too many mattes: the folder holding them
        return inst_dir or img
    return img or inst_dir


def _sample_path(sample: Sample) -> str:
    for f in sample.frames:
        p = _frame_path(f, "image", "")
        if p:
            return _dirname(p)
    return ""


def _locate(sample: Sample, err: ValidationError) -> str:
    path = list(err.absolute_path)
    frame = sample.frames[0] if sample.frames else None
    if path[:1] == ["frames"]:
        if len(path) == 1:
            return _sample_path(sample)
        frame = next((f for f in sample.frames if f.name == path[1]), frame)
        path = path[2:]
    if frame is None:
        return _sample_path(sample)
    return _frame_path(frame, str(path[0]) if path else "", str(err.validator))


def _code(err: ValidationError) -> str:
    sub = err.schema if isinstance(err.schema, dict) else {}
    return sub.get("x-findings", {}).get(str(err.validator), "manifest.invalid")


def _message(err: ValidationError) -> str:
    code = _code(err)
    if code == "manifest.invalid":
        where = "/".join(str(p) for p in err.absolute_path)
        return f"{err.message} (at {where or 'top level'})"
    return str(catalog()[code]["meaning"])


def _shape_key(sample: Sample, entry: dict[str, Any]) -> str:
    return json.dumps(entry, sort_keys=True).replace(json.dumps(sample.id)[1:-1], "\x00")


def schema_findings(ds: Dataset) -> list[Finding]:
    """Findings of the JSON Schema pass over the dataset's manifest."""
    top, per_sample = _validators(ds.layout)
    as_clip = get_layout(ds.layout).kind == "video"
    doc: dict[str, Any] = {
        "layout": ds.layout,
        "alpha_dir": ds.alpha_dir,
        "mask_dirs": ds.mask_dirs,
        "splits": {s: {"samples": {}} for s in ds.splits},
    }
    out = [finding("manifest.invalid", ds.path, None, _message(e)) for e in top.iter_errors(doc)]
    cache: dict[str, list[ValidationError]] = {}
    for sample in ds.samples:
        entry = sample_entry(sample, as_clip)
        key = _shape_key(sample, entry)
        errors = cache.get(key)
        if errors is None:
            errors = cache[key] = list(per_sample.iter_errors(entry))
        out.extend(
            finding(
                _code(e),
                _locate(sample, e) or "/".join(p for p in (ds.splits.get(sample.split, ds.path), sample.id) if p),
                sample.id,
                _message(e),
            )
            for e in errors
        )
    return out
