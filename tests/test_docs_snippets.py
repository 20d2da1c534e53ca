"""The Python in README.md and docs/*.md is the real API.

Every fenced ``python`` block is checked. A block after a ``<!-- run -->``
line is executed as it stands (these are the short ones); any other block
has its imports executed and every call of an imported name bound to that
name's real signature (``inspect.Signature.bind``), so a renamed argument
or function fails here. A block after ``<!-- sketch -->`` (elided lines,
pseudo-code) is only parsed.
"""

from __future__ import annotations

import ast
import inspect
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
FENCE = re.compile(r"(?:^(<!-- (run|sketch)[^>]*-->)\n)?^```python\n(.*?)^```", re.M | re.S)


def _blocks():
    for doc in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]:
        text = doc.read_text("utf-8")
        for m in FENCE.finditer(text):
            line = text[: m.start(3)].count("\n")
            yield pytest.param(m.group(2) or "check", m.group(3), id=f"{doc.name}:{line}")


BLOCKS = list(_blocks())


def test_the_docs_have_python_to_check():
    kinds = [p.values[0] for p in BLOCKS]
    assert kinds.count("run") >= 2 and kinds.count("check") >= 3


def _bind_calls(tree: ast.Module, names: dict) -> list[str]:
    """Bind each call of an imported name (or a method of one) to its signature; the failures."""
    bad = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        f = node.func
        target = None
        if isinstance(f, ast.Name) and f.id in names:
            target = names[f.id]
        elif isinstance(f, ast.Attribute) and isinstance(f.value, ast.Name) and f.value.id in names:
            target = getattr(names[f.value.id], f.attr, None)
            if target is None:
                bad.append(f"{f.value.id}.{f.attr}: no such attribute")
                continue
        if target is None or not callable(target):
            continue
        try:
            sig = inspect.signature(target)
        except (TypeError, ValueError):
            continue
        args = [None] * len(node.args)
        kwargs = {k.arg: None for k in node.keywords if k.arg is not None}
        try:
            sig.bind(*args, **kwargs)
        except TypeError as e:
            bad.append(f"line {node.lineno}: {ast.unparse(node.func)}(...): {e}")
    return bad


@pytest.mark.parametrize("kind, code", BLOCKS)
def test_snippet(kind, code, tmp_path, monkeypatch):
    tree = ast.parse(code)
    if kind == "sketch":
        return
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PRIMORDIUM_HOME", str(tmp_path / "home"))
    if kind == "run":
        exec(compile(tree, "<snippet>", "exec"), {"__name__": "__snippet__"})
        return
    imports = ast.Module([n for n in tree.body if isinstance(n, ast.Import | ast.ImportFrom)], [])
    names: dict = {}
    exec(compile(imports, "<snippet imports>", "exec"), names)
    assert _bind_calls(tree, names) == []
