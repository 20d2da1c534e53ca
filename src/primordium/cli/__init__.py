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

app = typer.Typer(
    name="primordium",
    help="A laboratory for open-ended artificial life.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _print_version(value: bool) -> None:
    if value:
        from primordium import __version__

        print(f"primordium {__version__}")
        raise typer.Exit()


@app.callback()
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


def _register() -> None:
    # Imported here so `primordium --help` stays cheap and each engine's
    # heavy dependencies load only when its commands run.
    from primordium.cli import corewar, quickstart, serve

    app.add_typer(corewar.app, name="corewar", help="Core War: assemble, battle, tournament.")
    app.command("quickstart")(quickstart.quickstart)
    app.command("serve")(serve.serve)
    for name in ("soup", "asal", "redqueen", "runs"):
        try:
            module = __import__(f"primordium.cli.{name}", fromlist=["app"])
        except ModuleNotFoundError as e:
            if e.name != f"primordium.cli.{name}":
                raise
            continue
        app.add_typer(module.app, name=name, help=module.__doc__)


_register()


def main(argv: list[str] | None = None) -> None:
    """Entry point: user mistakes become one line on stderr and exit code 2."""
    try:
        code = app(args=argv, prog_name="primordium", standalone_mode=False)
        if code == 130:
            # Typer turns Ctrl-C (and SIGTERM inside a run) into a returned 130 when not
            # standalone; without this the shell would see success.
            raise KeyboardInterrupt
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
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        sys.exit(130)
