"""himfmt: validate, convert and synthesize human-instance-matting datasets."""
from __future__ import annotations

__version__ = "0.1.0"
