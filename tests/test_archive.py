"""Archives read in place (plain and split) and unpacked safely."""

from __future__ import annotations

import json
import shutil
import struct
import subprocess
import zipfile
from pathlib import Path

import pytest

from himfmt.validation import validate

import trees
from helpers import digest


def zip_tree(root: Path, archive: Path, compression: int = zipfile.ZIP_DEFLATED, prefix: str = "") -> Path:
    with zipfile.ZipFile(archive, "w", compression) as zf:
        for p in sorted(root.rglob("*")):
            if p.is_file():
                zf.write(p, prefix + str(p.relative_to(root)))
    return archive


def findings(root: str | Path, deep: bool = False) -> list[tuple[str, str]]:
    return sorted((f.code, f.path) for f in validate(str(root), deep_pass=deep, workers=1).findings)


@pytest.fixture
def data(tmp_path):
    root = tmp_path / "data"
    trees.train_tree(root, stems=("a", "b", "c"))
    trees.val_tree(root / "HIM2K_M-HIM2K")
    (root / "I-HIM50K" / "alphas" / "b" / "01.png").write_bytes(b"broken")  # one finding to compare
    return root


@pytest.mark.parametrize("compression", [zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED])
def test_archive_reads_like_the_tree(run_cli, data, tmp_path, compression):
    archive = zip_tree(data, tmp_path / "data.zip", compression, prefix="data/")
    assert findings(archive, deep=True) == [(c, "data/" + p) for c, p in findings(data, deep=True)]
    code, out, _ = run_cli("detect", str(archive), "output=json")
    found = {(d["path"], d["layout"], d["samples"]) for d in json.loads(out)["datasets"]}
    assert found == {("data", "maggie_image_train", 3), ("data/HIM2K_M-HIM2K", "maggie_image_val", 4)}
    code, out, _ = run_cli("stats", str(archive), "output=json")
    code2, out2, _ = run_cli("stats", str(data), "output=json")
    strip = lambda doc: [{**d, "path": d["path"].removeprefix("data").lstrip("/")} for d in json.loads(doc)["datasets"]]  # noqa: E731
    assert strip(out) == strip(out2)
    assert run_cli("preview", str(archive), f"out={tmp_path / 'p.png'}")[0] == 0


def test_split_at_the_archive_root_is_named_after_it(run_cli, data, tmp_path):
    archive = zip_tree(data / "I-HIM50K", tmp_path / "I-HIM50K.zip")  # images/ and alphas/ at the top
    code, out, _ = run_cli("detect", str(archive), "output=json")
    assert code == 0 and json.loads(out)["datasets"][0]["splits"] == ["I-HIM50K"]


def test_nothing_is_written_into_an_archive(run_cli, data, tmp_path):
    archive = zip_tree(data, tmp_path / "data.zip")
    before = archive.read_bytes()
    code, _, err = run_cli("masks", str(archive), "source=m")
    assert code == 2 and "unpack it first" in err and archive.read_bytes() == before


def test_conversion_from_an_archive_copies(run_cli, data, tmp_path):
    (data / "I-HIM50K" / "alphas" / "b" / "01.png").unlink()
    archive = zip_tree(data / "I-HIM50K", tmp_path / "t.zip", prefix="I-HIM50K/")
    code, _, err = run_cli("convert", str(archive), f"dst={tmp_path / 'x'}", "to=maggie_image_val", "mode=hardlink")
    assert code == 2 and "impossible from an archive" in err and "mode=copy" in err
    assert run_cli("convert", str(archive), f"dst={tmp_path / 'from_zip'}", "to=maggie_image_val")[0] == 0
    assert run_cli("convert", str(data / "I-HIM50K"), f"dst={tmp_path / 'from_dir'}", "to=maggie_image_val")[0] == 0
    assert digest(tmp_path / "from_zip") == digest(tmp_path / "from_dir")


@pytest.fixture
def split_archive(data, tmp_path):
    if shutil.which("zip") is None:
        pytest.skip("the zip tool is not installed (.ci/run installs it)")
    for p in data.rglob("*.jpg"):  # bigger members, so some span two parts
        p.write_bytes(p.read_bytes() * 40)
    subprocess.run(["zip", "-q", "-r", "-0", "-s", "64k", str(tmp_path / "split.zip"), "data"], cwd=tmp_path, check=True)
    parts = sorted(tmp_path.glob("split.z*"))
    assert len(parts) >= 3
    return tmp_path / "split.zip"


def test_split_archive_validates_in_place(run_cli, data, split_archive):
    assert findings(split_archive, deep=True) == [(c, "data/" + p) for c, p in findings(data, deep=True)]
    code, out, _ = run_cli("validate", str(split_archive), "deep=true")
    assert code == 1 and "data/I-HIM50K/alphas/b/01.png" in out  # the broken matte, found inside the split set


def test_split_archive_missing_or_truncated_part_is_named(run_cli, split_archive):
    z02 = split_archive.with_suffix(".z02")
    z02.rename(z02.with_suffix(".bak"))
    code, _, err = run_cli("validate", str(split_archive))
    assert code == 2 and "split.z02" in err and "missing" in err
    z02.with_suffix(".bak").rename(z02)
    z02.write_bytes(z02.read_bytes()[:1000])  # a middle part cut short: the part is named, with the size it needs
    for command in (
        ["validate", str(split_archive), "deep=true"],
        ["unpack", f"archive={split_archive}", f"out={split_archive.parent / 'out'}"],
    ):
        code, out, err = run_cli(*command)
        flat = " ".join(err.split())
        assert code == 2 and "split.z02: this part is 1,000 bytes" in flat and "download it again" in flat, err
    assert not (split_archive.parent / "out").exists()


def test_a_garbage_end_record_is_a_damaged_archive_not_a_split_set(run_cli, data, tmp_path):
    archive = zip_tree(data, tmp_path / "data.zip")
    raw = bytearray(archive.read_bytes())
    eocd = raw.rfind(b"PK\x05\x06")
    raw[eocd + 4 : eocd + 8] = b"\x67\x61\x67\x61"  # 'this disk' and 'disk of the central directory': garbage
    archive.write_bytes(bytes(raw))
    code, _, err = run_cli("validate", str(archive))
    assert code == 2 and "damaged" in err and ".z01 missing" not in err


def test_unpack_equals_the_tree_and_resumes(run_cli, data, split_archive, tmp_path):
    out = tmp_path / "out"
    code, text, _ = run_cli("unpack", f"archive={split_archive}", f"out={out}")
    assert code == 1  # unpacked fine; the validation at the end finds the broken matte
    assert digest(out / "data") == digest(data)
    code, text, _ = run_cli("unpack", f"archive={split_archive}", f"out={out}", "validate=false")
    assert code == 0 and "already there" in text and not list(out.rglob("*.tmp"))


def evil_archive(path: Path, name: str, data: bytes = b"x", symlink: bool = False) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("ok/a.txt", b"fine")
        info = zipfile.ZipInfo(name)
        if symlink:
            info.create_system = 3
            info.external_attr = 0o120777 << 16
        zf.writestr(info, data)
    return path


@pytest.mark.parametrize(
    "name, symlink, why",
    [
        ("../evil.txt", False, "climbs out"),
        ("/etc/evil.txt", False, "absolute path"),
        ("C:/evil.txt", False, "absolute path"),
        ("ok/link", True, "symlink"),
    ],
)
def test_unsafe_members_are_refused_before_anything_is_written(run_cli, tmp_path, name, symlink, why):
    archive = evil_archive(tmp_path / "evil.zip", name, b"/etc/passwd" if symlink else b"x", symlink)
    out = tmp_path / "x" / "out"
    code, _, err = run_cli("unpack", f"archive={archive}", f"out={out}")
    assert code == 2 and "refusing to unpack" in err and why in err
    assert not (tmp_path / "x").exists()
    assert not (tmp_path / "evil.txt").exists()
    assert ("archive.unsafe_member", name) in findings(archive)  # validation names it too


def test_zip_bombs_are_refused(run_cli, tmp_path):
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.png", bytes(50 << 20))
    code, _, err = run_cli("unpack", f"archive={bomb}", f"out={tmp_path / 'o'}")
    assert code == 2 and "inflate" in err and "limit" in err and not (tmp_path / "o").exists()
    # A bomb that lies: its central directory declares 1,000 bytes for a megabyte.
    liar = tmp_path / "liar.zip"
    with zipfile.ZipFile(liar, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.png", bytes(1 << 20))
    raw = bytearray(liar.read_bytes())
    cd = raw.rfind(b"PK\x01\x02")
    raw[cd + 24 : cd + 28] = struct.pack("<I", 1000)
    liar.write_bytes(bytes(raw))
    code, _, err = run_cli("unpack", f"archive={liar}", f"out={tmp_path / 'o2'}", "validate=false")
    # The stream stops at the declared size, whose CRC then fails: nothing lands.
    assert code == 1 and "member is corrupt (Bad CRC-32" in err and not list((tmp_path / "o2").rglob("*.png"))


def test_corrupt_member_fails_its_crc(run_cli, tmp_path):
    archive = tmp_path / "c.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_STORED) as zf:
        zf.writestr("a.txt", b"hello world" * 100)
    raw = bytearray(archive.read_bytes())
    raw[40] ^= 0xFF
    archive.write_bytes(bytes(raw))
    code, _, err = run_cli("unpack", f"archive={archive}", f"out={tmp_path / 'o'}", "validate=false")
    assert code == 1 and "corrupt" in err and not (tmp_path / "o" / "a.txt").exists()
