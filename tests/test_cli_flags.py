"""Engines word errors about config fields; the CLI shows its flags (cli/flags.py)."""

from __future__ import annotations

import pytest

from primordium.cli.flags import flag, render
from primordium.corewar.isa import Settings
from primordium.errors import ConfigError
from primordium.soup.soup import SoupConfig


def test_engines_name_fields_and_the_cli_names_flags():
    with pytest.raises(ConfigError) as e:
        SoupConfig(programs=3)
    assert str(e.value) == "programs must be an even number of at least 2, got 3"
    assert render(e.value) == "--programs must be an even number of at least 2, got 3"

    with pytest.raises(ConfigError) as e:
        SoupConfig(max_steps=0)
    assert str(e.value) == "max_steps must be at least 1, got 0"
    assert render(e.value) == "--steps must be at least 1, got 0"

    with pytest.raises(ConfigError) as e:
        Settings(core_size=1).validate()
    assert render(e.value) == "--core-size: value 1 is out of range"


def test_render_keeps_the_location_and_touches_whole_words_only():
    err = ConfigError("steps (4) must be at least frames (8); max_steps", field=("steps", "frames"))
    assert render(err) == "--steps (4) must be at least --frames (8); max_steps"
    err = ConfigError("seed must be non-negative", file="a.toml", line=3, field="seed")
    assert render(err) == "a.toml:3: --seed must be non-negative"
    assert flag("substrate_options") == "--set" and flag("log_every") == "--log-every"


def test_the_cli_prints_the_flag(cli):
    code, _, err = cli("soup", "run", "--programs", "3", "--epochs", "1")
    assert code == 2
    assert err.strip() == "error: --programs must be an even number of at least 2, got 3"


def test_numbers_beyond_the_kernels_words_or_the_memory_are_one_line(cli, shared_dir):
    """A 32-bit field given more (was a numpy traceback); settings that do not fit in memory."""
    import resource
    import subprocess
    import sys

    from primordium.corewar.isa import INT32_MAX

    warriors = [str(shared_dir / "corewar" / "warriors" / f"{n}.red") for n in ("tiny", "wisp")]
    code, _, err = cli("corewar", "battle", *warriors, "--rounds", "99999999999999999999999")
    assert (code, err) == (2, "error: --rounds: value 99999999999999999999999 is out of range\n")

    def four_gib() -> None:  # the same refusal on any machine, however much memory it has
        resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))

    argv = ["corewar", "battle", *warriors, "--rounds", str(INT32_MAX)]
    done = subprocess.run(
        [sys.executable, "-c", "from primordium.cli import main; main()", *argv],
        capture_output=True,
        text=True,
        timeout=300,
        preexec_fn=four_gib,
    )
    assert done.returncode == 2, done.stderr
    assert done.stderr.startswith("error: not enough memory: ") and done.stderr.count("\n") == 1
