"""``python -m himfmt`` is the ``himfmt`` command."""

from himfmt.cli.entry import main

main()
