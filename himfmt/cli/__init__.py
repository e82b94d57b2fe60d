"""The command line: the only part of himfmt that knows Hydra and the terminal.

``entry`` is the console script (it imports nothing heavy), ``main`` picks
the command and runs it as a Hydra app, ``commands/`` holds one module per
command, ``config`` the typed schema registration and range checks,
``console`` the two Rich consoles and tables that fit 80 columns.
"""
