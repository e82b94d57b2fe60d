"""The command line: the only part of himfmt that prints, and that runs Hydra apps, sweeps and launchers.

``entry`` is the console script (it imports nothing heavy), ``main`` picks
the command and runs it as a Hydra app, ``commands/`` holds one module per
command, ``config`` turns a composed config into the command's typed options,
``console`` holds the two Rich consoles and tables that fit 80 columns,
``views`` draws the core's result objects and ``voice`` is the terminal's
:class:`himfmt.feedback.Voice`.
"""
