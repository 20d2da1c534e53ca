"""Help screens that print every help string as written, without typer's stray type tags.

Two things in typer 0.29's rich help get in a reader's way:

- Help strings are parsed as rich markup, so a default written in brackets,
  ``Epochs to run [default: 16000]``, vanishes as an unknown style tag. No
  primordium help string means markup, so they are printed literally.
- A type follows every parameter: ``--json <bool>`` reads as if the flag took
  a value, and ``FILE <list[Path]>`` repeats in Python's words what the
  argument's name says. Those two tags go; options that take a value keep
  theirs (``--rounds <int>``), and a repeatable one shows what each use
  takes (``--prompt <str>``, not ``<list[str]>``).

The help renderer is patched only when a help screen is drawn, so commands
that print no help never import it (it pulls in markdown and pygments).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any


def tidy_typer_help() -> None:
    """Patch typer's parameter and command classes once; a typer without these hooks is left alone."""
    from typer import core

    option, argument = getattr(core, "TyperOption", None), getattr(core, "TyperArgument", None)
    found = [getattr(core, n, None) for n in ("TyperCommand", "TyperGroup")]
    commands = [c for c in found if c is not None]
    if option is None or argument is None or len(commands) < len(found):
        return
    if getattr(option, "_primordium_tidy", False):
        return
    option_type, argument_type = option.display_type_rich, argument.display_type_rich

    def option_display_type(self: Any, ctx: Any) -> Any:
        if self.is_flag and not self.count:  # a flag takes no value: no type to show
            return None
        return _element_type(option_type(self, ctx))

    def argument_display_type(self: Any, ctx: Any) -> Any:
        if self.metavar is not None:  # the metavar already names what to give
            return None
        return _element_type(argument_type(self, ctx))

    option.display_type_rich = option_display_type
    argument.display_type_rich = argument_display_type
    option._primordium_tidy = True
    for cls in commands:
        cls.format_help = _literal_first(cls.format_help)


def _element_type(shown: Any) -> Any:
    """``<list[str]>`` -> ``<str>``: the name's "..." or the help's "repeat" says there may be more."""
    if isinstance(shown, str) and shown.startswith("<list[") and shown.endswith("]>"):
        return "<" + shown[len("<list[") : -len("]>")] + ">"
    return shown


def _literal_first(format_help: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(self: Any, ctx: Any, formatter: Any) -> Any:
        _literal_help_strings()
        return format_help(self, ctx, formatter)

    return wrapped


def _literal_help_strings() -> None:
    import inspect

    from rich.text import Text
    from typer import rich_utils

    make = getattr(rich_utils, "_make_rich_text", None)
    if make is None or getattr(make, "_primordium_literal", False):
        return
    highlight = getattr(rich_utils, "highlighter", None)

    def literal(*, text: str, style: str = "", markup_mode: Any) -> Any:
        if markup_mode != "rich":
            return make(text=text, style=style, markup_mode=markup_mode)
        shown = Text(inspect.cleandoc(text), style=style)
        return highlight(shown) if highlight is not None else shown

    literal._primordium_literal = True  # type: ignore[attr-defined]
    rich_utils._make_rich_text = literal
