"""``himfmt <command> key=value ...``: picks the command's Hydra config and runs it.

Each command is a Hydra app whose primary config is ``conf/<command>.yaml``
(shipped inside the package as ``himfmt.conf``), so ``--cfg job``, ``-m``
sweeps, launcher plugins and ``hydra.searchpath`` work as everywhere in Hydra.
"""

from __future__ import annotations

import os
import re
import signal
import sys
from typing import Any, Callable

from himfmt.cli import console
from himfmt.cli.commands import COMMANDS, load
from himfmt.cli.config import checked
from himfmt.cli.overrides import precheck
from himfmt.composition import GROUPS, normalize, register
from himfmt.errors import HimfmtError
from himfmt.io.images import one_codec_thread
from himfmt.io.memory import tune_malloc


def usage() -> str:
    lines = ["usage: himfmt <command> [key=value ...] [--help] [--cfg job] [-m]", "", "commands:"]
    width = max(map(len, COMMANDS))
    for name in COMMANDS:
        lines.append(f"  {name:<{width}}  {load(name).SUMMARY}")
    lines += ["", "Run 'himfmt <command> --help' for a command's options and examples."]
    return console.hang("\n".join(lines), more=width + 2)  # a summary's next lines under its first


def guarded(command: str, run: Callable[[], int]) -> int:
    """Run one job; any error becomes one line and its exit code, never a traceback (HIMFMT_DEBUG=1 shows it)."""
    from omegaconf.errors import InterpolationToMissingValueError, MissingMandatoryValue, OmegaConfBaseException

    try:
        return run()
    except HimfmtError as exc:
        console.error(str(exc))
        console.lines((f"  {line}" for line in exc.details), console.err)
        return exc.exit_code
    except (MissingMandatoryValue, InterpolationToMissingValueError) as exc:
        found = re.search(r"Missing mandatory value: ([\w.\-\[\]]+)", str(exc))
        console.error(f"{found.group(1) if found else exc.full_key}= is required (see himfmt {command} --help)")
    except OmegaConfBaseException as exc:  # a config the user wrote that does not hold together
        console.error(f"bad configuration: {str(exc).splitlines()[0]}")
    except MemoryError:
        console.error(
            "out of memory: the job needs more memory than this process may use (ulimit -v, prlimit --as, "
            "a container's limit); raise it, or use fewer workers="
        )
    except OSError as exc:  # the boundary: a file problem no layer turned into a message yet
        where = f"{exc.filename}: " if exc.filename else ""
        console.error(f"{where}{exc.strerror or exc}")
    except Exception as exc:
        if os.environ.get("HIMFMT_DEBUG"):
            raise
        console.error(
            f"internal error ({type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}); "
            "please report it, with HIMFMT_DEBUG=1 for the details"
        )
    return 2


def arguments(command: str, args: list[str]) -> tuple[list[str], str | None]:
    """The overrides to hand Hydra, and the first problem with them (None when they are right)."""
    argv = normalize(command, args)
    problem = precheck(command, [a for a in argv if a not in ("-m", "--multirun") and not a.startswith("-")])
    unchosen = next((g for g in GROUPS if problem and problem.startswith(f"{g}= is required")), None)
    if unchosen and "--help" in argv:  # help needs no choice: show it without one
        return [*argv, f"~{unchosen}"], None
    return argv, problem


def run_command(command: str, args: list[str]) -> int:
    import hydra
    from omegaconf import DictConfig

    from himfmt.cli.sweep_callback import SWEEP_EXIT

    module = load(command)
    codes: list[int] = []
    register()

    @hydra.main(version_base="1.3", config_path="pkg://himfmt.conf", config_name=command)
    def app(cfg: DictConfig) -> int:
        """One job; its exit code is also its return value, which launchers hand back."""

        def job() -> int:
            options = checked(command, cfg)  # typed: every range check before any work
            return int(module.run(cfg if getattr(module, "READS_CONFIG_TREE", False) else options))

        code = guarded(command, job)
        codes.append(code)
        return code

    argv, problem = arguments(command, args)
    if problem:
        console.error(problem)
        return 2
    sys.argv = [f"himfmt {command}", *argv]
    sweep = bool(argv) and argv[0] in ("-m", "--multirun")
    SWEEP_EXIT.clear()
    try:
        app()
    except ValueError as exc:  # Hydra's own argument checks (e.g. -m together with --cfg)
        if codes:
            raise
        console.error(str(exc))
        return 2
    except SystemExit as exc:
        # Hydra exits 1 on bad overrides before the command runs: that is exit 2 for us.
        if not codes and not SWEEP_EXIT and exc.code not in (0, None):
            return 2
    if "--help" in argv and hasattr(module, "help_extra"):  # what a static help text cannot know
        print(module.help_extra())
    if sweep and SWEEP_EXIT:  # jobs may have run in other processes: the sweep's verdict
        return max(SWEEP_EXIT[-1], max(codes, default=0))
    return max(codes, default=0)


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised where the process is, so that writes unwind (temporary files removed, workers killed)."""


def _terminated(signum: int, frame: Any) -> None:
    raise Terminated


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else list(argv)
    if not args or args[0] in ("-h", "--help", "help"):
        print(usage())
        sys.exit(0)
    command, rest = args[0], args[1:]
    if command not in COMMANDS:
        console.error(f"unknown command {command!r}")
        console.lines(usage().split("\n"), console.err)
        sys.exit(2)
    previous = signal.signal(signal.SIGTERM, _terminated)
    tune_malloc()  # the CLI's own process decodes too; a library caller's allocator, codecs and Hydra are left alone
    one_codec_thread()
    try:
        code = run_command(command, rest)
        sys.stdout.flush()
    except Terminated:
        console.error("stopped (SIGTERM): what was complete is kept; the same command again finishes the job")
        code = 143
    except KeyboardInterrupt:
        console.error("interrupted: what was complete is kept; the same command again finishes the job")
        code = 130
    except BrokenPipeError:  # the reader (| head) stopped reading: no traceback, and no second one at exit
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = 141  # 128 + SIGPIPE, as a shell reports it
    finally:
        signal.signal(signal.SIGTERM, previous)
    sys.exit(code)
