"""Plain command-line values (whole numbers, paths) converted without pydantic.

typer 0.29 converts every parameter through a pydantic ``TypeAdapter``:
importing pydantic and building a dozen adapters costs a quarter of
`primordium corewar battle`'s start-up, for values that are mostly ``100``
or ``imp.red``. Here, a value in one obvious form (ASCII digits with an
optional minus sign for an ``int``; a non-empty string for a ``Path``) is
converted directly, to what pydantic would return for it (a bool flag's
value is a bool already); any other value,
and every other type or constraint, goes to typer's own converter, so
errors and the odd forms pydantic accepts (``" 7"``, ``1_000``) read and
behave exactly as before. tests/corewar/test_startup.py checks the two agree.

A typer without these hooks is left alone.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

_DIGITS = re.compile(r"-?[0-9]+")


def plain_int(value: Any) -> int | None:
    """``value`` as an int where that is its obvious reading, else None."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, str) and _DIGITS.fullmatch(value):
        return int(value)
    return None


def install_plain_coercion() -> None:
    """Make typer's parameters convert plain ints and paths themselves (once)."""
    try:
        from typer import _coercion, _param_types
        from typer.core import _TyperParameter
    except ImportError:  # pragma: no cover - another typer
        return
    needed = (
        hasattr(_TyperParameter, "get_runtime_param")
        and hasattr(_coercion, "RuntimeParam")
        and hasattr(_coercion, "build_runtime_param")
        and hasattr(_param_types, "coerce_cli_path")
    )
    if not needed or getattr(_TyperParameter, "_primordium_plain", False):
        return

    class PlainRuntimeParam(_coercion.RuntimeParam):
        """bools, ints and Paths (alone or in a list) in their obvious form; else typer's way."""

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            listed = getattr(self.annotation, "__origin__", None) is list
            if listed != isinstance(value, (list, tuple)):
                return self._typer_way(value, param, ctx)
            items = list(value) if listed else [value]
            leaf = self.annotation.__args__[0] if listed else self.annotation
            out = []
            for item in items:
                got: Any
                if leaf is bool:
                    got = item if isinstance(item, bool) else None
                elif leaf is int:
                    got = plain_int(item)
                else:
                    got = _plain_path(item, self, param, ctx)
                if got is None:
                    return self._typer_way(value, param, ctx)
                out.append(got)
            return out if listed else out[0]

        def _typer_way(self, value: Any, param: Any, ctx: Any) -> Any:
            return _coercion.build_runtime_param(param.type_descriptor)._coerce_value(
                value, param=param, ctx=ctx
            )

    def _plain_path(item: Any, rp: Any, param: Any, ctx: Any) -> Any:
        if not isinstance(item, str) or not item or "\0" in item:
            return None
        # typer's own path checks (exists, file_okay, ...) on the Path
        # pydantic would have made: Path(item).
        return _param_types.coerce_cli_path(
            Path(item), rp.parameter_info, path_type=Path, param=param, ctx=ctx
        )

    def plain(descriptor: Any) -> Any:
        ann, info = descriptor.annotation, descriptor.parameter_info
        if descriptor.file_annotation is not None or info.parser is not None:
            return None
        if descriptor.is_choice or info.min is not None or info.max is not None:
            return None
        leaf = ann
        if getattr(ann, "__origin__", None) is list and len(ann.__args__) == 1:
            leaf = ann.__args__[0]
        if leaf is int or leaf is bool:
            return PlainRuntimeParam(parameter_info=info, annotation=ann)
        path_type = info.path_type if info.path_type is not None else leaf
        if leaf is Path and path_type is Path:
            return PlainRuntimeParam(parameter_info=info, annotation=ann)
        return None

    original = _TyperParameter.get_runtime_param

    def get_runtime_param(self: Any) -> Any:
        if self._runtime_param is None:
            self._runtime_param = plain(self.type_descriptor)
        return original(self)

    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign]
    _TyperParameter._primordium_plain = True  # type: ignore[attr-defined]
