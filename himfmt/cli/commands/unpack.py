"""``himfmt unpack``: extract an archive safely, then validate what it held."""

from __future__ import annotations

from pathlib import Path

from rich.table import Table

from himfmt.cli import console, views
from himfmt.errors import HimfmtError
from himfmt.io.archive import ZipTree, is_archive
from himfmt.io.files import check_output_dir, remove_tmp_files
from himfmt.io.unpack import Limits, unpack, unpacked_before
from himfmt.options import UnpackOptions
from himfmt.validation import validate

SUMMARY = "extract a (split) zip archive safely: archive=FILE.zip out=DIR (zip slip, links and bombs refused)"
GB = 1 << 30


def run(cfg: UnpackOptions) -> int:
    archive = Path(cfg.archive)
    if not is_archive(archive):
        raise HimfmtError("not a .zip archive (or a .zNN part of one)", str(archive))
    limits = Limits(cfg.max_ratio, int(cfg.max_member_gb * GB), int(cfg.max_total_gb * GB))
    tree = ZipTree(archive, limits.max_ratio, limits.max_member)
    out = Path(cfg.out).resolve()
    resuming = unpacked_before(out, archive)
    check_output_dir(out, cfg.overwrite or resuming, [str(p) for p in tree.parts])
    if resuming:
        remove_tmp_files(out)
    with console.progress(f"unpacking {archive.name}") as bar:
        result = unpack(tree, out, limits, bar, cfg.overwrite)
    if tree.skipped:
        console.warn(
            f"skipped {len(tree.skipped)} member(s) under .himfmt/ (himfmt's own records are never taken "
            f"from an archive), e.g. {tree.skipped[0]}"
        )
    for rel in result.removed:
        console.out.print(console.hang(f"removed (an earlier unpack made it; this archive lacks it): {rel}"), markup=False)
    table = Table(
        title=f"himfmt unpack {archive} -> {out}" + (f" ({len(tree.parts)} parts)" if len(tree.parts) > 1 else ""), show_header=False
    )
    for label, value in (
        ("members written", result.written),
        ("already there", result.kept),
        ("removed (not in this archive)", len(result.removed)),
        ("bytes written", f"{result.bytes:,}"),
        ("failed", len(result.failed)),
    ):
        table.add_row(label, str(value))
    console.show(table)
    for _, message in result.failed[:20]:
        console.error(message)
    code = 1 if result.failed else 0
    if cfg.validate:
        report = validate(str(out), deep_pass=cfg.deep)
        views.show(report, console.out)
        code = max(code, 1 if report.fails("error") else 0)
    return code
