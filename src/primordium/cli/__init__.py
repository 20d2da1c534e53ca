"""The ``primordium`` command. Each engine's commands live in their own module."""

from __future__ import annotations

import sys

import typer

try:  # newer typer carries its own copy of click
    from typer._click.exceptions import ClickException as _ClickException
    from typer._click.exceptions import NoArgsIsHelpError as _NoArgsIsHelp
except ImportError:  # pragma: no cover - older typer on the real click
    from click.exceptions import ClickException as _ClickException  # type: ignore[assignment]
    from click.exceptions import NoArgsIsHelpError as _NoArgsIsHelp  # type: ignore[assignment]

from primordium.errors import PrimordiumError

# Engine groups and top-level commands, each in its own module. Only the one
# a command line names is imported (see ``main``), so `primordium corewar
# battle` never loads another engine's heavy dependencies.
_GROUPS = ("corewar", "soup", "asal", "redqueen", "learn", "runs")
_COMMANDS = ("quickstart", "serve")


def _print_version(value: bool) -> None:
    if value:
        from primordium import __version__

        print(f"primordium {__version__}")
        raise typer.Exit()


def _root(
    version: bool = typer.Option(
        False,
        "--version",
        callback=_print_version,
        is_eager=True,
        help="Print the version and exit.",
    ),
) -> None:
    """A laboratory for open-ended artificial life."""


def build_app(only: str | None = None) -> typer.Typer:
    """The ``primordium`` command; with ``only`` (a group's name), just that group.

    (A lone top-level command would make typer treat the app as that command,
    so those always come with everything.)
    """
    from primordium.cli.coercion import install_plain_coercion
    from primordium.cli.helptext import tidy_typer_help

    tidy_typer_help()
    install_plain_coercion()
    app = typer.Typer(
        name="primordium",
        help="A laboratory for open-ended artificial life.",
        no_args_is_help=True,
        add_completion=False,
        pretty_exceptions_enable=False,
    )
    app.callback()(_root)
    for name in _GROUPS + _COMMANDS:
        if only in _GROUPS and name != only:
            continue
        try:
            module = __import__(f"primordium.cli.{name}", fromlist=["app"])
        except ModuleNotFoundError as e:
            # An engine whose optional dependencies are absent has no commands.
            if e.name != f"primordium.cli.{name}":
                raise
            continue
        if name in _COMMANDS:
            app.command(name)(getattr(module, name))
        elif name == "corewar":
            app.add_typer(module.app, name=name, help="Core War: assemble, battle, tournament.")
        else:
            app.add_typer(module.app, name=name, help=module.__doc__)
    return app


def __getattr__(name: str) -> typer.Typer:
    # ``primordium.cli.app``, the whole command, built on first use.
    if name == "app":
        return build_app()
    raise AttributeError(name)


def _skip_blas_probe() -> None:
    """Spare a Core War process numba's probe for BLAS.

    The first kernel numba loads makes it import all of scipy.linalg (about
    half of `primordium corewar battle`'s start-up, measured) only to learn
    whether ``np.dot`` may use BLAS. Core War's kernels do no linear algebra,
    so a process that runs only a corewar command tells numba there is none.
    Only ``main`` run as the program does this: a caller's process (tests,
    notebooks) keeps its scipy.
    """
    if "scipy.linalg" not in sys.modules:
        sys.modules["scipy.linalg"] = None  # type: ignore[assignment]


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2."""
    args = sys.argv[1:] if argv is None else list(argv)
    first = args[0] if args and not args[0].startswith("-") else None
    if argv is None and first == "corewar":
        _skip_blas_probe()
    try:
        code = build_app(first)(args=args, prog_name="primordium", standalone_mode=False)
        if code == 130:
            # Typer turns Ctrl-C (and SIGTERM inside a run) into a returned 130 when not
            # standalone; without this the shell would see success.
            raise KeyboardInterrupt
        if isinstance(code, int) and code != 0:
            sys.exit(code)
    except PrimordiumError as e:
        from primordium.cli.flags import render

        print(f"error: {render(e)}", file=sys.stderr)
        sys.exit(2)
    except typer.Abort:
        print("aborted", file=sys.stderr)
        sys.exit(130)
    except _NoArgsIsHelp as e:
        # A bare group name: show its help, as a user typing it expects.
        print(e.ctx.get_help() if e.ctx is not None else "", file=sys.stderr)
        sys.exit(2)
    except _ClickException as e:
        # Usage errors (unknown flag, bad number) are user mistakes too.
        msg = e.format_message().replace("\n", " ")
        ctx = getattr(e, "ctx", None)
        cmd = ctx.command_path if ctx is not None else "primordium"
        print(f"error: {cmd}: {msg}", file=sys.stderr)
        sys.exit(2)
    except typer.Exit as e:
        sys.exit(e.exit_code)
    except MemoryError as e:
        # Settings this machine cannot hold (millions of rounds, a huge soup): say so
        # in one line; what the run wrote before stays as it was.
        print(
            f"error: not enough memory: {' '.join(str(e).split()) or 'allocation failed'}",
            file=sys.stderr,
        )
        sys.exit(2)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
