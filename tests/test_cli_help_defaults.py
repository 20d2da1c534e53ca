"""Every option's --help says what happens when it is left out, None defaults included."""

from __future__ import annotations

import re

# A default written into the help text: "[16000]", "[default: last]", "(default: all ...)".
WRITTEN = re.compile(r"\[[^\[\]]+\]\.?$|default")


def _options():
    import typer

    from primordium.cli import build_app

    def walk(cmd, path):
        yield path, cmd
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, (*path, name))

    for path, cmd in walk(typer.main.get_command(build_app()), ()):
        for p in cmd.params:
            if p.param_type_name == "option" and not p.is_flag and not p.required:
                yield path, p


def test_every_option_without_a_value_says_what_leaving_it_out_means():
    silent = [
        (" ".join(path), p.opts[0])
        for path, p in _options()
        if p.default is None
        and not isinstance(p.show_default, str)
        and not WRITTEN.search((p.help or "").strip())
    ]
    assert silent == []


def test_the_meaning_is_printed_in_the_help_screen(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # one line per option, so the text is whole
    code, out, _ = cli("soup", "run", "--help")
    assert code == 0
    assert "[default: (none: a new run)]" in out and "[default: (the run's id)]" in out
    code, out, _ = cli("runs", "list", "--help")
    assert code == 0 and "[default: (all)]" in out
