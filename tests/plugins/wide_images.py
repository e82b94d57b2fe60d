"""A check from another package: pictures much wider than tall (a ``himfmt.checks`` entry point names FINDINGS)."""

from __future__ import annotations

from typing import Any, Iterator

from himfmt.plugin import FileRef, Finding, check, finding

FINDINGS = {
    "image.very_wide": {
        "severity": "warning",
        "meaning": "An image is more than three times as wide as it is tall.",
        "breaks": "crops of a fixed aspect ratio cut most of it away",
        "fix": "Check that it is not two pictures side by side.",
    }
}


@check("structure", "frame", ("image.very_wide",))
def very_wide(view: Any, frame: Any) -> Iterator[Finding]:
    if isinstance(frame.image, FileRef):
        w, h = frame.image.size()
        if w > 3 * h:
            yield finding("image.very_wide", frame.image.path, view.sample.id, f"{w}x{h}")
