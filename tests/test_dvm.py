"""DVM layouts: mp4 streams with PyAV, limited-range alpha, pair lists, composed sequences."""

from __future__ import annotations

from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from himfmt.errors import HimfmtError
from himfmt.io.tree import Tree
from himfmt.io.video import StreamInfo
from himfmt.layouts import WriteOptions
from himfmt.layouts.base import trimap
from himfmt.layouts.detect import detect
from himfmt.layouts.dvm_pairs import Pair, format_pairs, parse_pairs
from himfmt.layouts.writer import write_dataset, write_samples
from himfmt.model import FileRef

import trees
from trees import composed_samples


def write_limited_range_alpha(path: Path, frames: list[np.ndarray], lossless: bool) -> None:
    """Alpha as DVM ships it: yuv420p, limited range (Y = 16 + a * 219 / 255), no range flag."""
    path.parent.mkdir(parents=True, exist_ok=True)
    h, w = frames[0].shape
    with av.open(str(path), "w") as c:
        s = c.add_stream("libx264", rate=25)
        s.width, s.height, s.pix_fmt = w, h, "yuv420p"
        s.options = {"qp": "0"} if lossless else {"crf": "23"}
        for a in frames:
            y = np.rint(16 + a.astype(np.float64) * 219 / 255).astype(np.uint8)
            uv = np.full((h // 2, w), 128, np.uint8)
            for p in s.encode(av.VideoFrame.from_ndarray(np.concatenate([y, uv]), format="yuv420p")):
                c.mux(p)
        for p in s.encode():
            c.mux(p)


def read_one(root: Path):
    found = detect(Tree(root))
    assert len(found.matches) == 1, [(m.layout, m.path) for m in found.matches]
    return found.datasets()[0]


def test_limited_range_alpha_maps_to_full_range(tmp_path):
    truth = trees.alphas(4)
    truth[0][:4] = 0
    truth[0][-4:] = 255
    write_limited_range_alpha(tmp_path / "a.mp4", truth, lossless=True)
    tree = Tree(tmp_path)
    for i, a in enumerate(truth):
        got = FileRef(tree, "a.mp4", i, 0).read_gray()
        assert np.abs(got.astype(int) - a).max() <= 1, i
    assert got.min() == 0 and got.max() == 255


def test_lossy_dvm_alpha_comes_back_full_range(tmp_path):
    truth = trees.alphas(3)
    write_limited_range_alpha(tmp_path / "a.mp4", truth, lossless=False)
    got = FileRef(Tree(tmp_path), "a.mp4", 2, 0).read_gray()
    assert got.min() <= 3 and got.max() >= 250  # not 16..235
    assert np.abs(got.astype(int) - truth[2]).mean() < 3


@pytest.mark.parametrize("size", [(64, 48), (33, 17)])
def test_himfmt_alpha_video_is_lossless(tmp_path, size):
    truth = [np.random.default_rng(i).integers(0, 256, size[::-1], dtype=np.uint8) for i in range(6)]
    trees.write_mp4(tmp_path / "a.mp4", truth, True)
    tree = Tree(tmp_path)
    assert StreamInfo(str(tmp_path / "a.mp4")).frames == 6
    for i, a in enumerate(truth):
        assert np.array_equal(FileRef(tree, "a.mp4", i, 0).read_gray(), a)
    # Ordinary FFmpeg-based readers decode it too: OpenCV gives the same grey levels.
    cap = cv2.VideoCapture(str(tmp_path / "a.mp4"))
    ok, bgr = cap.read()
    assert ok and np.abs(bgr[:, :, 0].astype(int) - truth[0]).max() <= 1


def test_colour_video_odd_size_keeps_every_row(tmp_path):
    frames = [trees.rgb(i, 33, 17) for i in range(3)]
    trees.write_mp4(tmp_path / "f.mp4", frames, False)
    got = FileRef(Tree(tmp_path), "f.mp4", 1).read_rgb()
    assert got.shape == (17, 33, 3)


@pytest.mark.parametrize("size", [(64, 48), (33, 17), (142, 230), (70, 34)])
def test_colour_frames_decode_as_ffmpeg_does(tmp_path, size):
    """OpenCV's BT.601 path (even sizes) and swscale (odd sizes) agree with FFmpeg's own RGB within rounding;
    an even height that is not a multiple of 4 (230, 34) puts a chroma plane's start inside a row."""
    frames = [trees.rgb(i, *size) for i in range(2)]
    trees.write_mp4(tmp_path / "f.mp4", frames, False)
    got = FileRef(Tree(tmp_path), "f.mp4", 1).read_rgb()
    with av.open(str(tmp_path / "f.mp4")) as c:
        ffmpeg = [f.to_ndarray(format="rgb24") for f in c.decode(c.streams.video[0])][1]
    assert got.shape == ffmpeg.shape and np.abs(got.astype(int) - ffmpeg).max() <= 3
    assert np.abs(got.astype(int) - frames[1]).mean() <= np.abs(ffmpeg.astype(int) - frames[1]).mean() + 0.5


def test_pair_parsing_odd_names_and_round_trip():
    text = "image+retriever-348572_1920 (1).png+0000.mp4\nvideo+0003+0101.mp4\n\nimage+a+b (2).png+0002.mp4\n"
    pairs = parse_pairs(text, "list.txt")
    assert pairs[0] == Pair("image", "retriever-348572_1920 (1).png", "0000.mp4", 1)
    assert pairs[1].sequence == "video_0003_0101"
    assert pairs[2].fg == "a+b (2).png"
    assert parse_pairs(format_pairs(pairs), "x") == [p._replace(line=i + 1) for i, p in enumerate(pairs)]


@pytest.mark.parametrize(
    "line", ["image+../../etc/passwd+0000.mp4", "image+/abs.png+0000.mp4", "video+0000+../0001.mp4", "image+C:x.png+0.mp4"]
)
def test_pair_names_escaping_the_root_are_refused(line):
    with pytest.raises(HimfmtError, match="line 1: name .* not a plain file name"):
        parse_pairs(line, "list.txt")


def test_source_reads_streams_without_decoding(tmp_path):
    ds = read_one(trees.dvm_source_tree(tmp_path))
    assert ds.layout == "dvm_source" and list(ds.splits) == ["test"]
    by_id = {s.id: s for s in ds.samples}
    assert set(by_id) == {"retriever-348572_1920 (1)", "plain", "0000"}
    clip = by_id["0000"]
    assert clip.is_clip and len(clip.frames) == 5
    assert clip.frames[3].image == FileRef(ds.tree, "fg/video/test/0000/f.mp4", 3)
    assert np.array_equal(clip.frames[3].instances[0].matte.read_gray(), trees.alphas(5)[3])
    assert len(ds.backgrounds) == 2 and len(ds.backgrounds[0].frames) == 5
    assert [p.sequence for p in ds.pair_lists["test_pairs.txt"]] == ["image_retriever-348572_1920 (1)_0000", "video_0000_0001"]
    assert ds.notes == []


def test_pair_with_missing_bg_is_a_note(tmp_path):
    root = trees.dvm_source_tree(tmp_path)
    with open(root / "test_pairs.txt", "a") as f:
        f.write("image+plain.png+0999.mp4\n")
    ds = read_one(root)
    assert [(n.code, n.path) for n in ds.notes] == [("dvm.pair_missing_file", "test_pairs.txt")]
    assert "line 3: bg bg/test/0999.mp4 does not exist" in ds.notes[0].message


def test_frame_count_mismatch_is_a_note(tmp_path):
    root = trees.dvm_source_tree(tmp_path)
    trees.write_mp4(root / "fg/video/test/0000/a.mp4", trees.alphas(3), True)
    ds = read_one(root)
    assert [(n.code, n.path) for n in ds.notes] == [("dvm.frame_count_mismatch", "fg/video/test/0000")]
    assert len(next(s for s in ds.samples if s.id == "0000").frames) == 3


def test_empty_mp4_is_a_note_not_a_crash(tmp_path):
    root = trees.dvm_source_tree(tmp_path)
    (root / "bg/test/0001.mp4").write_bytes(b"")
    ds = read_one(root)
    assert [(n.code, n.path) for n in ds.notes] == [("file.corrupt", "bg/test/0001.mp4")]


def test_rgba_fg_without_alpha_file(tmp_path):
    root = trees.dvm_source_tree(tmp_path)
    rgba = np.dstack([trees.rgb(5), trees.matte(5)])
    trees.save(root / "fg/image/test/fg/rgba.png", rgba)
    ds = read_one(root)
    s = next(s for s in ds.samples if s.id == "rgba")
    assert np.array_equal(s.frames[0].instances[0].matte.read_gray(), trees.matte(5))


def test_composed_write_and_read(tmp_path):
    samples = composed_samples()
    write_samples("dvm_composed", samples, tmp_path, WriteOptions(trimap=(3, 5)))
    names = sorted(p.name for p in (tmp_path / "a" / samples[0].id).iterdir())
    assert names == [f"{i:05d}.jpg" for i in range(4)]
    a_jpg = cv2.imread(str(tmp_path / "a" / samples[0].id / "00000.jpg"), cv2.IMREAD_UNCHANGED)
    assert a_jpg.ndim == 3 and a_jpg.shape[2] == 3  # 3-channel grey, as DVM writes it
    ds = read_one(tmp_path)
    assert ds.layout == "dvm_composed" and ds.fg_premultiplied
    f = ds.samples[0].frames[0]
    assert f.instances[0].matte.channel == 0 and f.fg.path.startswith("f/") and f.bg.path.startswith("b/")
    truth = trees.matte(0)
    assert np.abs(f.instances[0].matte.read_gray().astype(int) - truth).mean() < 2  # JPEG: close, not exact
    expected = trimap(truth, 3, 5)
    assert np.abs(f.trimap.read_gray().astype(int) - expected).max() <= 12  # JPEG-coded trimap levels


def test_composed_png_alpha_copy_is_exact(tmp_path):
    samples = composed_samples()
    write_samples("dvm_composed", samples, tmp_path, WriteOptions(png_alpha=True))
    ds = read_one(tmp_path)
    m = ds.samples[1].frames[2].instances[0].matte
    assert m.path.startswith("a_png/") and np.array_equal(m.read_gray(), trees.matte(12))


def test_composed_stream_mismatch_is_a_note(tmp_path):
    write_samples("dvm_composed", composed_samples(), tmp_path)
    (tmp_path / "f" / "video_0000_0001" / "00003.jpg").unlink()
    ds = read_one(tmp_path)
    assert [(n.code, n.path) for n in ds.notes] == [("dvm.stream_mismatch", "f/video_0000_0001")]


def test_source_write_round_trip(tmp_path):
    ds = read_one(trees.dvm_source_tree(tmp_path / "src"))
    out = tmp_path / "out"
    write_dataset(ds, "dvm_source", out, WriteOptions(trimap=(3, 5)))
    again = read_one(out)
    clip = next(s for s in again.samples if s.id == "0000")
    # The unchanged streams were copied byte for byte, not re-encoded.
    assert (out / "fg/video/test/0000/a.mp4").read_bytes() == (tmp_path / "src/fg/video/test/0000/a.mp4").read_bytes()
    assert np.array_equal(clip.frames[4].instances[0].matte.read_gray(), trees.alphas(5)[4])
    tri = next(s for s in again.samples if s.id == "plain").frames[0].trimap
    assert set(np.unique(tri.read_gray())) <= {0, 128, 255}
    assert (out / "test_pairs.txt").read_text() == (tmp_path / "src/test_pairs.txt").read_text()
    assert (out / "bg/test/0001.mp4").read_bytes() == (tmp_path / "src/bg/test/0001.mp4").read_bytes()


def test_both_dvm_layouts_in_one_data_root(tmp_path):
    trees.dvm_source_tree(tmp_path / "DVM data (v1)" / "sources")
    write_samples("dvm_composed", composed_samples(), tmp_path / "DVM data (v1)" / "composed")
    trees.train_tree(tmp_path / "DVM data (v1)", "I-HIM50K")
    found = detect(Tree(tmp_path))
    got = sorted((m.layout, m.path) for m in found.matches)
    assert got == [
        ("dvm_composed", "DVM data (v1)/composed"),
        ("dvm_source", "DVM data (v1)/sources"),
        ("maggie_image_train", "DVM data (v1)"),
    ]


def test_trimap_recipe():
    a = np.zeros((40, 40), np.uint8)
    a[10:30, 10:30] = 255
    a[10:30, 9] = 128
    t = trimap(a, 3, 5)
    assert t[20, 20] == 255 and t[0, 0] == 0 and t[20, 9] == 128 and t[20, 31] == 128
    assert set(np.unique(t)) == {0, 128, 255}


@pytest.mark.parametrize("alpha,size", [(False, (64, 48)), (False, (33, 17)), (True, (64, 48))])
def test_video_encoding_is_byte_deterministic(tmp_path, alpha, size):
    """Same frames, same bytes, whatever the heap holds (x264's mbtree read garbage)."""
    frames = [trees.rgb(i, *size) for i in range(10)]
    if alpha:
        frames = [f[:, :, 0].copy() for f in frames]
    outs = []
    for k in range(3):
        junk = [np.random.default_rng(k + i).integers(0, 256, 1 << 19, dtype=np.uint8) for i in range(8 * k + 4)]
        del junk
        outs.append(trees.write_mp4(tmp_path / f"{k}.mp4", frames, alpha).read_bytes())
    assert outs[0] == outs[1] == outs[2]


def test_mp4_headers_parsed_without_ffmpeg_agree_with_it(tmp_path):
    from himfmt.io.video import mp4_header

    videos = [
        trees.write_mp4(tmp_path / "c.mp4", [trees.rgb(i, 64, 48) for i in range(5)], False),
        trees.write_mp4(tmp_path / "odd.mp4", [trees.rgb(i, 63, 47) for i in range(3)], False),
        trees.write_mp4(tmp_path / "a.mp4", trees.alphas(4), True),
    ]
    write_limited_range_alpha(tmp_path / "dvm_a.mp4", trees.alphas(6), lossless=False)
    for path in [*videos, tmp_path / "dvm_a.mp4"]:
        with av.open(str(path)) as c:
            s = c.streams.video[0]
            assert mp4_header(str(path)) == (s.codec_context.width, s.codec_context.height, s.frames), path
    (tmp_path / "junk.mp4").write_bytes(b"\0\0\0\x08ftyp" + b"x" * 100)
    assert mp4_header(str(tmp_path / "junk.mp4")) is None  # then FFmpeg decides, and reports it


def test_open_decoders_are_closed_before_the_interpreter_tears_pyav_down(tmp_path):
    """A decoder left open at exit is closed by an exit handler, while PyAV is whole (left to the
    teardown, Python printed 'Exception ignored ... TypeError' from the decoder's except clause)."""
    import subprocess
    import sys

    clip = trees.write_mp4(tmp_path / "c.mp4", [trees.rgb(i, 64, 48) for i in range(4)], False)
    script = (
        "import atexit; from himfmt.io import video; from himfmt.io.tree import Tree; from himfmt.model import FileRef\n"
        f"FileRef(Tree({str(tmp_path)!r}), 'c.mp4', 1).read_rgb(); assert len(video._open) == 1\n"
        "atexit._run_exitfuncs(); print(len(video._open))\n"
    )
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=120)
    assert clip.is_file() and proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "0" and proc.stderr == ""
