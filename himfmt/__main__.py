"""``python -m himfmt`` is the ``himfmt`` command."""
from .entry import main

main()
