"""``python -m himfmt`` is the ``himfmt`` command."""
from .cli import main

main()
