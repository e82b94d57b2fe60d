"""A good library citizen: importing and calling himfmt changes nothing in the caller's process."""

from __future__ import annotations

import subprocess
import sys

CALLER = r"""
import copy, signal, sys, cv2
from PIL import Image
from hydra.core.config_store import ConfigStore
before = (Image.MAX_IMAGE_PIXELS, cv2.getNumThreads(), signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
import himfmt
root, work = sys.argv[1], sys.argv[2]
found = himfmt.open(root + "/sources/HHM")
report = himfmt.validate(root + "/data/HIM2K_M-HIM2K", deep=True, workers=1)
himfmt.convert(root + "/data/I-HIM50K", work + "/conv", "maggie_image_val", workers=1)
made = himfmt.fill("demo", out=root, workers=1)
after = (Image.MAX_IMAGE_PIXELS, cv2.getNumThreads(), signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT))
from hydra._internal.core_plugins.importlib_resources_config_source import ImportlibResourcesConfigSource as S
assert before == after, (before, after)
assert not getattr(S._read_config, "himfmt_cached", False), "Hydra's classes patched"
assert copy.deepcopy(ConfigStore.instance()) is not ConfigStore.instance(), "Hydra's store patched"
assert found and not report.findings and made == (0, 0)
print("unchanged")
"""


def test_importing_and_calling_himfmt_leaves_the_callers_process_alone(demo_root, tmp_path):
    done = subprocess.run([sys.executable, "-c", CALLER, str(demo_root), str(tmp_path)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout == "unchanged\n"  # the API printed nothing: it returns its results
    assert done.stderr == ""
