"""`primordium corewar battle`'s start-up: plain flag values convert without pydantic,
exactly as typer's own (pydantic) conversion would."""

from __future__ import annotations

import pytest

from primordium.cli import build_app
from primordium.corewar import builtin_path


def _params():
    import typer.main

    group = typer.main.get_command(build_app("corewar")).commands["corewar"]
    battle, assemble = group.commands["battle"], group.commands["assemble"]
    by_name = {p.name: p for p in battle.params}
    return battle, {
        "int": by_name["rounds"],
        "int|None": by_name["position"],
        "list[Path]": by_name["files"],
        "Path": next(p for p in assemble.params if p.name == "file"),
        "bool": by_name["json"],
    }


def _outcome(convert, value):
    try:
        return "ok", convert(value)
    except Exception as e:  # the error a user would read
        return type(e).__name__, str(e)


INTS = ["7", "-3", "0", "007", "-007", "+7", " 7", "7 ", "1_000", "x", "1.5", "0x10", "", "٣"]
INTS += ["9" * 30, 12, True]
PATHS = [str(builtin_path("imp")), "no/such/file.red", "", "-", "a\0b", "~/x.red"]


@pytest.mark.parametrize("kind", ["int", "int|None", "list[Path]", "Path", "bool"])
def test_plain_values_convert_as_typer_does(kind):
    from typer import _coercion
    from typer._click import Context

    command, params = _params()
    param = params[kind]
    ctx = Context(command)
    ours = param.get_runtime_param()
    assert type(ours).__name__ == "PlainRuntimeParam"
    theirs = _coercion.build_runtime_param(param.type_descriptor)
    values = {
        "int": INTS,
        "int|None": INTS,
        "Path": PATHS,
        "list[Path]": [tuple(PATHS[:2]), (PATHS[0],), ("",), [PATHS[1], "a\0b"], PATHS[0]],
        "bool": [True, False, "true", "0", "no", ""],
    }[kind]
    for value in values:
        mine = _outcome(lambda v: ours.coerce(v, param=param, ctx=ctx), value)
        ref = _outcome(lambda v: theirs.coerce(v, param=param, ctx=ctx), value)
        assert mine == ref, (kind, value)
        assert type(mine[1]) is type(ref[1]), (kind, value)
