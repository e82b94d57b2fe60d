"""Never a traceback, never a hang, never "All clean" for a broken tree.

Adversarial inputs on real files: FIFOs, padded files, hostile archives,
long names, read-only destinations, EXIF rotation, what Pillow refuses,
look-alike folders, gaps, hostile pair lists and control characters. The
last test runs every one through the command line in a subprocess and
greps for ``Traceback``.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import struct
import subprocess
import sys
import zipfile
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from himfmt.validation import validate

import trees


def found(root, deep=False) -> list[tuple[str, str]]:
    return sorted((f.code, f.path) for f in validate(str(root), deep_pass=deep, workers=1).findings)


# Hangs and unbounded reads ---------------------------------------------------------------------------


def fifo_tree(root: Path) -> Path:
    trees.train_tree(root, "s", stems=("a", "b"))
    (root / "s" / "alphas" / "a" / "01.png").unlink()
    os.mkfifo(root / "s" / "alphas" / "a" / "01.png")
    os.mkfifo(root / "s" / "images" / "c.jpg")
    return root


@pytest.mark.parametrize("deep", [False, True])
def test_a_fifo_is_a_finding_and_never_opened(tmp_path, deep):
    root = fifo_tree(tmp_path / "t")
    assert ("file.not_regular", "s/alphas/a/01.png") in found(root, deep)
    assert ("file.not_regular", "s/images/c.jpg") in found(root, deep)


def test_stats_and_hardlink_convert_pass_a_fifo_by(run_cli, tmp_path):
    root = fifo_tree(tmp_path / "t")
    assert run_cli("stats", str(root))[0] == 0
    code, _, err = run_cli("convert", str(root), f"dst={tmp_path / 'o'}", "to=maggie_image_val", "mode=hardlink", "workers=1")
    assert code == 1 and "not a regular file" in err, err  # passed by, never waited on, and named (not dropped silently)


def test_a_padded_file_is_refused_unread(tmp_path):
    root = trees.train_tree(tmp_path / "t", "s", stems=("a",))
    matte = root / "s" / "alphas" / "a" / "00.png"
    with open(matte, "r+b") as f:
        f.truncate(6 << 30)  # sparse: 6 GiB that would be read whole
    assert ("file.too_large", "s/alphas/a/00.png") in found(root, deep=True)


def zip_of(path: Path, members: dict[str, bytes], method: int = zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(path, "w", method) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return path


def png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "PNG")
    return buf.getvalue()


def jpg_bytes(arr: np.ndarray, **kw: object) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, "JPEG", **kw)
    return buf.getvalue()


def archive_tree(tmp_path: Path) -> dict[str, bytes]:
    return {"s/images/a.jpg": jpg_bytes(trees.rgb(0)), "s/alphas/a/00.png": png_bytes(trees.matte(0))}


def test_an_archive_bomb_is_a_finding(tmp_path):
    members = archive_tree(tmp_path)
    members["s/alphas/a/01.png"] = png_bytes(trees.matte(1))[:33] + b"\0" * (64 << 20)  # inflates 1000x+
    archive = zip_of(tmp_path / "bomb.zip", members)
    assert ("archive.unsafe_member", "s/alphas/a/01.png") in found(archive, deep=True)


def corrupt_member(archive: Path, name: str) -> None:
    """Flip a byte inside a stored member's data: its CRC no longer matches."""
    data = bytearray(archive.read_bytes())
    with zipfile.ZipFile(archive) as z:
        info = z.getinfo(name)
    start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data[start + info.compress_size // 2] ^= 0xFF
    archive.write_bytes(bytes(data))


@pytest.mark.parametrize("deep", [False, True])
def test_a_member_with_a_bad_crc_is_a_finding(tmp_path, deep):
    archive = zip_of(tmp_path / "crc.zip", archive_tree(tmp_path), zipfile.ZIP_STORED)
    corrupt_member(archive, "s/images/a.jpg")
    codes = found(archive, deep)
    # A member's CRC is checked when it is read to its end: deep=true reads every member whole, and a member no
    # larger than one header read (these tiny pictures) is read whole by the structure pass too.
    assert ("file.corrupt", "s/images/a.jpg") in codes


def mark_encrypted(archive: Path, name: str) -> None:
    """Set the 'encrypted' flag of a member in its local and central headers (what a password zip has)."""
    data = bytearray(archive.read_bytes())
    raw = name.encode()
    for sig, flag_at, name_at in ((b"PK\x03\x04", 6, 30), (b"PK\x01\x02", 8, 46)):
        pos = 0
        while (pos := data.find(sig, pos)) != -1:
            if data[pos + name_at : pos + name_at + len(raw)] == raw:
                data[pos + flag_at] |= 0x1
            pos += 4
    archive.write_bytes(bytes(data))


@pytest.mark.filterwarnings("ignore:Duplicate name")  # the duplicate is the point
def test_encrypted_duplicate_and_clashing_members_are_findings(tmp_path):
    archive = tmp_path / "odd.zip"
    with zipfile.ZipFile(archive, "w") as z:
        for name, data in archive_tree(tmp_path).items():
            z.writestr(name, data)
        z.writestr("s/images/b.jpg", jpg_bytes(trees.rgb(1)))
        z.writestr("s/images/b.jpg", jpg_bytes(trees.rgb(2)))  # duplicate name
        z.writestr("x", b"a file")
        z.writestr("x/y.png", png_bytes(trees.matte(2)))  # x is a file and a folder
        z.writestr("s/alphas/a/01.png", png_bytes(trees.matte(1)))
    mark_encrypted(archive, "s/alphas/a/01.png")
    codes = found(archive, deep=True)
    assert ("archive.unsafe_member", "s/images/b.jpg") in codes
    assert ("archive.unsafe_member", "x") in codes
    assert ("archive.unsafe_member", "s/alphas/a/01.png") in codes


def test_unpack_stops_before_writing_on_a_clash(run_cli, tmp_path):
    archive = zip_of(tmp_path / "clash.zip", {"a.txt": b"a", "x": b"file", "x/y.png": b"png"})
    code, _, err = run_cli("unpack", f"archive={archive}", f"out={tmp_path / 'out'}")
    assert code == 2 and "is a file and a folder at once" in err
    assert not (tmp_path / "out").exists()


# Tracebacks --------------------------------------------------------------------------------------------


def test_names_near_the_length_limit_convert_and_unpack(run_cli, tmp_path):
    stem = "n" * 250  # 254 bytes with .jpg: a temporary name must not add to it
    root = trees.train_tree(tmp_path / "src", "s", stems=(stem,))
    code, _, err = run_cli("convert", str(root), f"dst={tmp_path / 'dst'}", "to=maggie_image_val", "workers=1")
    assert code == 0, err
    archive = zip_of(tmp_path / "long.zip", {f"s/images/{stem}.jpg": jpg_bytes(trees.rgb(0))})
    code, _, err = run_cli("unpack", f"archive={archive}", f"out={tmp_path / 'out'}", "validate=false")
    assert code == 0, err


@pytest.fixture
def small_fs(tmp_path):
    """A tmpfs of the given size (read-only with ro=True), unmounted afterwards; skipped where mounting is not allowed."""
    mounted: list[Path] = []

    def make(size: str = "256k", ro: bool = False) -> Path:
        where = tmp_path / f"fs{len(mounted)}"
        where.mkdir()
        opts = f"size={size}" + (",ro" if ro else "")
        if subprocess.run(["mount", "-t", "tmpfs", "-o", opts, "tmpfs", str(where)], capture_output=True).returncode:
            pytest.skip("this machine does not let the tests mount a tmpfs (needs root), so no full or read-only disk")
        mounted.append(where)
        return where

    yield make
    for where in mounted:
        subprocess.run(["umount", "-l", str(where)], capture_output=True)  # lazily: a cached folder descriptor may hold it


def test_read_only_destinations_are_one_line(run_cli, tmp_path, small_fs, inputs):
    ro = small_fs(ro=True)
    root = trees.train_tree(tmp_path / "t", "s")
    hhm, bg = inputs
    archive = zip_of(tmp_path / "a.zip", archive_tree(tmp_path))
    for args in (
        ["validate", str(root), f"report={ro / 'r.json'}"],
        ["preview", str(root), f"out={ro / 'p.png'}"],
        ["synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}", f"out={ro / 's'}", "n=1", "workers=1"],
        ["unpack", f"archive={archive}", f"out={ro / 'u'}"],
        ["demo", f"out={ro / 'd'}"],
        ["convert", str(root), f"dst={ro / 'c'}", "to=maggie_image_val", "workers=1"],
    ):
        code, _, err = run_cli(*args)
        assert code == 2 and len(err.strip().splitlines()) == 1 and "read-only" in err.lower(), (args, err)


def test_a_full_disk_stops_unpack_at_the_first_member(run_cli, tmp_path, small_fs):
    full = small_fs("64k")
    members = {f"s/images/{i:03d}.jpg": np.random.default_rng(i).bytes(40_000) for i in range(6)}
    archive = zip_of(tmp_path / "big.zip", members, zipfile.ZIP_STORED)
    code, out, err = run_cli("unpack", f"archive={archive}", f"out={full / 'u'}")
    assert code == 2 and "no space left" in err and len(err.strip().splitlines()) == 1
    assert "bg_images" not in out  # the partial tree is not validated as something else


def test_unwritable_report_and_html_are_one_line(run_cli, tmp_path):
    root = trees.train_tree(tmp_path / "t", "s")
    (tmp_path / "dir.html").mkdir()
    code, _, err = run_cli("validate", str(root), f"html={tmp_path / 'dir.html'}")
    assert code == 2 and "Traceback" not in err and "folder where a file must go" in err
    code, _, err = run_cli("validate", str(root), f"report={tmp_path / 'missing' / 'sub' / 'r.json'}")
    assert code == 0 and (tmp_path / "missing" / "sub" / "r.json").is_file()


# Validation sees what the loaders see -----------------------------------------------------------------


def exif_rotated(arr: np.ndarray) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6
    return jpg_bytes(arr, exif=exif.tobytes())


def test_exif_rotation_is_reported_and_decoding_ignores_it(tmp_path):
    root = trees.train_tree(tmp_path / "t", "s", stems=("a",))
    image = root / "s" / "images" / "a.jpg"
    image.write_bytes(exif_rotated(trees.rgb(0)))
    assert ("image.exif_rotated", "s/images/a.jpg") in found(root)
    from himfmt.layouts.detect import open_datasets

    (ds,) = open_datasets(str(root))
    assert ds.samples[0].frames[0].image.read_rgb().shape == (trees.H, trees.W, 3)  # as stored, as Pillow reads it


@pytest.mark.parametrize("kind", ["jpeg", "grey jpeg", "png", "rgba png", "grey png"])
def test_pictures_read_as_rgb_as_pillows_convert_reads_them(tmp_path, kind):
    """Colour order and channel count as MaGGIe's loaders get them (``Image.open(p).convert('RGB')``),
    whatever the file holds (OpenCV decodes JPEGs straight to RGB)."""
    from himfmt.io import images

    rgb = np.zeros((32, 48, 3), np.uint8)
    rgb[:, :16, 0], rgb[:, 16:32, 1], rgb[:, 32:, 2] = 255, 200, 150  # red, green, blue bands
    picture = {
        "jpeg": rgb,
        "grey jpeg": rgb[:, :, 1],
        "png": rgb,
        "grey png": rgb[:, :, 0],
        "rgba png": np.dstack([rgb, np.full((32, 48), 128, np.uint8)]),
    }[kind]
    data = images.encode_jpeg(picture) if "jpeg" in kind else images.encode_png(picture)
    want = np.asarray(Image.open(io.BytesIO(data)).convert("RGB")).astype(int)
    got = images.decode_rgb(data, kind)
    assert got.shape == want.shape and np.abs(got.astype(int) - want).max() <= 1
    assert abs(int(got[16, 8, 0]) - 255) <= 3 or kind.startswith("grey")


def test_a_header_past_the_first_read_is_found(tmp_path):
    """A camera's EXIF (with its thumbnail) can put a JPEG's frame header beyond the bytes read first."""
    from himfmt.io import images

    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010E] = "x" * (3 * images.HEAD_BYTES)  # an ImageDescription as long as a thumbnail
    root = trees.train_tree(tmp_path / "t", "s", stems=("a",))
    image = root / "s" / "images" / "a.jpg"
    image.write_bytes(jpg_bytes(trees.rgb(0), exif=exif.tobytes()))
    assert image.read_bytes().find(b"\xff\xc0") > images.HEAD_BYTES
    assert found(root) == [("image.exif_rotated", "s/images/a.jpg")]  # size and format read, no false corruption


def test_a_png_pillow_refuses_is_corrupt(tmp_path):
    root = trees.train_tree(tmp_path / "t", "s", stems=("a",))
    matte = root / "s" / "alphas" / "a" / "00.png"
    data = matte.read_bytes()
    payload = b"k\0\0" + zlib.compress(b"x" * (2 << 20))
    chunk = struct.pack(">I", len(payload)) + b"zTXt" + payload + struct.pack(">I", zlib.crc32(b"zTXt" + payload))
    matte.write_bytes(data[:33] + chunk + data[33:])
    assert ("file.corrupt", "s/alphas/a/00.png") in found(root, deep=True)


@pytest.mark.parametrize("layout", ["p3m", "loose"])
def test_image_and_matte_folders_are_not_backgrounds(run_cli, tmp_path, layout):
    root = tmp_path / layout
    pics, masks = ("train/blurred_image", "train/mask") if layout == "p3m" else ("pics", "masks")
    for i, s in enumerate(("a", "b", "c")):
        trees.save(root / pics / f"{s}.jpg", trees.rgb(i))
        trees.save(root / masks / f"{s}.png", trees.matte(i))
    code, out, err = run_cli("validate", str(root))
    assert code == 1 and "dataset.none_found" in out and "All clean" not in out


def test_a_gap_in_instance_numbers_is_found(tmp_path):
    root = trees.train_tree(tmp_path / "t", "s", stems=("a",), n_inst=3)
    (root / "s" / "alphas" / "a" / "01.png").unlink()
    assert ("instances.gap", "s/alphas/a") in found(root)


def test_a_pair_line_leaving_the_root_is_a_finding(run_cli, tmp_path):
    root = trees.dvm_source_tree(tmp_path / "DVM")
    (root / "test_pairs.txt").write_text("image+../../x.png+0001.mp4\nvideo+0000+0001.mp4\n")
    code, out, err = run_cli("validate", str(root))
    assert code == 1 and "dvm.pair_bad_line" in out, out + err


def test_control_characters_in_names_are_escaped(run_cli, tmp_path):
    root = trees.train_tree(tmp_path / "t", "s", stems=("a",))
    (root / "s" / "images" / "b\x1b[31m.jpg").write_bytes(b"not a jpeg")
    code, out, err = run_cli("validate", str(root))
    assert "\x1b[31m" not in out + err and "\\x1b[31m" in out + err


# No traceback anywhere ----------------------------------------------------------------------------------


def test_no_command_prints_a_traceback(tmp_path):
    """Every input above through the real command line, in subprocesses (with a timeout: no hang)."""
    fifo = fifo_tree(tmp_path / "fifo")
    bomb = archive_tree(tmp_path)
    bomb["s/alphas/a/01.png"] = png_bytes(trees.matte(1))[:33] + b"\0" * (64 << 20)
    bomb_zip = zip_of(tmp_path / "bomb.zip", bomb)
    crc = zip_of(tmp_path / "crc.zip", archive_tree(tmp_path), zipfile.ZIP_STORED)
    corrupt_member(crc, "s/images/a.jpg")
    clash = zip_of(tmp_path / "clash.zip", {"x": b"file", "x/y.png": b"png"})
    (tmp_path / "dir.html").mkdir()
    runs = [
        ["validate", str(fifo)],
        ["validate", str(fifo), "deep=true"],
        ["stats", str(fifo)],
        ["convert", str(fifo), f"dst={tmp_path / 'o1'}", "to=maggie_image_val", "mode=hardlink"],
        ["validate", str(bomb_zip), "deep=true"],
        ["validate", str(crc)],
        ["validate", str(crc), "deep=true"],
        ["unpack", f"archive={crc}", f"out={tmp_path / 'o2'}"],
        ["unpack", f"archive={clash}", f"out={tmp_path / 'o3'}"],
        ["validate", str(fifo), f"html={tmp_path / 'dir.html'}"],
        ["stats", str(fifo), "n=-5"],
        ["preview", str(fifo), "n=-1"],
        ["synth", "recipe=image_him", "hhm=x", "bg=y", f"out={tmp_path / 'o4'}", "recipe.height_min=2.0", "recipe.height_max=3.0"],
        ["validate", str(tmp_path / "nowhere")],
        ["detect", "root="],
        ["convert", str(fifo), "dst=", "to=hhm"],
    ]
    # One process runs them all through the command line's entry point (a process each cost 13 s); the
    # timeout still catches a hang, and each run's output is marked so a traceback is traced to its run.
    script = tmp_path / "runs.py"
    script.write_text(
        "import json, sys\nfrom himfmt.cli.main import main\n"
        "if __name__ == '__main__':  # spawned workers import this file\n"
        f"    for args in json.loads({json.dumps(json.dumps(runs))}):\n"
        "        print('RUN', args, file=sys.stderr, flush=True)\n"
        "        try:\n            main(args)\n        except SystemExit as exc:\n"
        "            print('EXIT', exc.code, file=sys.stderr, flush=True)\n"
    )
    proc = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=600, cwd=tmp_path, env={**os.environ, "COLUMNS": "100"}
    )
    for chunk in proc.stderr.split("RUN ")[1:]:
        assert "Traceback" not in chunk, chunk[-2000:]
        assert chunk.rstrip().splitlines()[-1] in ("EXIT 0", "EXIT 1", "EXIT 2"), chunk[-2000:]
    assert proc.stderr.count("RUN ") == len(runs) and "Traceback" not in proc.stdout


def test_smaller_things_validation_sees(tmp_path):
    root = trees.train_tree(tmp_path / "t", "s", stems=("a", "b"))
    (root / "s" / "images" / "._a.jpg").write_bytes(b"\0\5\26\7 AppleDouble")  # macOS metadata: not a sample
    (root / "s" / "images" / "b.jpg").write_bytes(png_bytes(trees.rgb(1)))  # PNG bytes under a .jpg name
    (root / "s" / "images" / "c.jpg").mkdir()  # a folder with a picture's name
    codes = found(root)
    assert ("file.wrong_format", "s/images/b.jpg") in codes and ("path.is_folder", "s/images/c.jpg") in codes
    (ds,) = __import__("himfmt").open(root)
    assert sorted(s.id for s in ds.samples) == ["a", "b"]
    assert all(f.path for f in validate(str(root)).findings)


def test_a_split_set_missing_its_first_part_is_named(run_cli, tmp_path):
    data = trees.train_tree(tmp_path / "data", "s")
    (data / "s" / "notes.bin").write_bytes(np.random.default_rng(0).bytes(200_000))  # enough for three parts
    if shutil.which("zip") is None:
        pytest.skip("Debian's zip tool makes the split set (.ci/run installs it)")
    subprocess.run(["zip", "-q", "-r", "-s", "64k", str(tmp_path / "set.zip"), "."], cwd=data, check=True)
    assert (tmp_path / "set.z02").is_file()
    (tmp_path / "set.z01").unlink()
    code, _, err = run_cli("validate", str(tmp_path / "set.zip"))
    assert code == 2 and "part .z01 of the split archive is missing" in err


def test_synth_that_makes_nothing_says_why_and_exits_1(run_cli, tmp_path):
    hhm = tmp_path / "hhm"
    for s in ("p0", "p1"):
        trees.save(hhm / "images" / f"{s}.jpg", trees.rgb(1))
        trees.save(hhm / "alphas" / f"{s}.png", np.zeros((trees.H, trees.W), np.uint8))
    bg = trees.bg_tree(tmp_path / "bg", 2)
    code, out, err = run_cli("synth", "recipe=image_him", f"hhm={hhm}", f"bg={bg}", f"out={tmp_path / 'out'}", "n=2", "workers=1")
    assert code == 1 and "made nothing" in err and "matte is all zero" in err and "next:" not in out


def test_a_16_bit_matte_is_one_finding_not_corrupt(tmp_path):
    root = trees.train_tree(tmp_path / "t", "s", stems=("a",))
    matte = root / "s" / "alphas" / "a" / "00.png"
    Image.fromarray(trees.matte(0).astype(np.uint16) * 257).save(matte)
    codes = [c for c, p in found(root, deep=True) if p == "s/alphas/a/00.png"]
    assert codes == ["matte.not_8bit_gray"]


def test_a_source_file_that_vanishes_during_convert_skips_its_sample(tmp_path):
    """The sample is reported and skipped, the rest are written, and the destination is not blamed."""
    from himfmt.conversion.job import Job, convert

    src = trees.train_tree(tmp_path / "src", "s", stems=("a", "b", "c"))
    victim = src / "s" / "alphas" / "c" / "00.png"

    def progress(total: int, label: str):
        def advance(n: int) -> None:
            victim.unlink(missing_ok=True)  # gone after the first sample is written, before the last

        return advance

    summary = convert(Job(str(src), str(tmp_path / "dst"), "maggie_image_val", workers=1), progress=progress)
    assert [key for key, _ in summary.failed] == ["s/c"]
    assert "00.png" in summary.failed[0][1] and str(tmp_path / "dst") not in summary.failed[0][1]
    assert sorted(p.name for p in (tmp_path / "dst" / "images" / "s").iterdir()) == ["a.jpg", "b.jpg"]
