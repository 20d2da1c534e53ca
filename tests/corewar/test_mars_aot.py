"""The ahead-of-time MARS: the same kernel as the JIT one, and a safe fallback to it."""

from __future__ import annotations

import itertools
import os
import random
import shutil
import subprocess
import sys
from dataclasses import replace

import numpy as np
import pytest

from primordium.corewar import Settings, assemble_file, builtin_path, mars_aot
from primordium.corewar.battle import battle, position_seed, run_battles
from primordium.errors import ConfigError
from tests.corewar.conftest import same_results


@pytest.fixture(scope="module")
def built() -> object:
    """The extension for this source, in the package's cache (built once if missing)."""
    module = mars_aot.module()
    assert module is not None, "the ahead-of-time MARS did not build (is there a C compiler?)"
    return module


def test_aot_and_jit_agree_on_every_output(built, human_warriors, monkeypatch):
    """Pairs and melees, trace counters on and off, pMARS's rule and DRQ's, P-space PINs."""
    s = Settings(rounds=4)
    rng = random.Random(11)
    files = rng.sample(human_warriors, 16)
    pool = [assemble_file(f, s) for f in files]
    pool += [replace(pool[0], pin=7), replace(pool[1], pin=7)]  # two warriors share a P-space
    pairs = list(itertools.combinations(range(len(pool)), 2))
    rng.shuffle(pairs)
    pairs = np.array(pairs[:30] + [(len(pool) - 2, len(pool) - 1)], np.int64)
    seeds = np.array([position_seed(rng.randrange(100, 7901), s) for _ in pairs], np.int64)
    trios = np.array([rng.sample(range(len(pool)), 3) for _ in range(6)], np.int64)
    trio_seeds = np.array([rng.randrange(1, 2**31 - 2) for _ in trios], np.int64)
    given = np.array(
        [[[0, rng.randrange(100, 7901)] for _ in range(s.rounds)] for _ in range(4)], np.int64
    )
    cases = [
        (pairs, seeds, {"track": False}),
        (pairs, seeds, {"track": True}),
        (pairs, seeds, {"track": True, "until": "all_dead"}),
        (trios, trio_seeds, {"track": True}),
        (trios, trio_seeds, {"track": False, "until": "all_dead"}),
        (pairs[:4], seeds[:4], {"track": True, "positions": given}),
    ]
    for battles, sds, kw in cases:
        got = {}
        for kernel in ("jit", "aot"):
            monkeypatch.setenv("PRIMORDIUM_MARS", kernel)
            got[kernel] = run_battles(pool, battles, s, sds, **kw)
        assert same_results(got["jit"], got["aot"]), kw
        assert got["aot"].executed.sum() > 0


def test_one_battle_takes_the_aot_kernel_by_default(built, monkeypatch):
    """`auto` runs one battle on the extension and batches on the JIT kernel."""
    monkeypatch.delenv("PRIMORDIUM_MARS", raising=False)
    assert mars_aot.kernels(1) is built
    assert mars_aot.kernels(2) is None
    monkeypatch.setenv("PRIMORDIUM_MARS", "jit")
    assert mars_aot.kernels(1) is None
    monkeypatch.setenv("PRIMORDIUM_MARS", "aot")
    assert mars_aot.kernels(5) is built
    monkeypatch.setenv("PRIMORDIUM_MARS", "fast")
    with pytest.raises(ConfigError, match="PRIMORDIUM_MARS: unknown value 'fast'"):
        mars_aot.kernels(1)


def _imp_dwarf(rounds: int = 6):
    s = Settings(rounds=rounds)
    return [assemble_file(builtin_path(n), s) for n in ("imp", "dwarf")], s


def test_corrupt_module_falls_back_to_jit(built, tmp_path, monkeypatch):
    """A module file that does not load: the battle runs on the JIT kernel, the file goes."""
    ws, s = _imp_dwarf()
    monkeypatch.setenv("PRIMORDIUM_MARS", "jit")
    expected = battle(ws, s, seed=5)
    monkeypatch.setenv("PRIMORDIUM_MARS", "auto")
    monkeypatch.setenv("PRIMORDIUM_MARS_CACHE", str(tmp_path))
    bad = mars_aot.path(tmp_path, mars_aot.key())
    bad.write_bytes(b"\x7fELF but not really a shared object")
    assert same_results(battle(ws, s, seed=5), expected)
    assert not bad.exists()  # the next process builds a good one
    assert mars_aot.kernels(1) is None  # this one stays on the JIT kernel


def test_stale_module_is_refused(built, tmp_path):
    """A module that reports another key than its file name (built from other source)."""
    other = "0" * 15
    stale = mars_aot.path(tmp_path, other)
    shutil.copyfile(built.__file__, stale)
    assert mars_aot.load(tmp_path, other) is None
    assert not stale.exists()
    good = mars_aot.path(tmp_path, mars_aot.key())
    shutil.copyfile(built.__file__, good)
    assert mars_aot.load(tmp_path, mars_aot.key()) is not None


def test_failed_build_is_noted_and_falls_back(tmp_path, monkeypatch):
    """No C compiler: the JIT kernel runs, a note says why, and `aot` refuses in one line."""
    ws, s = _imp_dwarf()
    monkeypatch.setenv("PRIMORDIUM_MARS", "jit")
    expected = battle(ws, s, seed=9)
    monkeypatch.setenv("PRIMORDIUM_MARS_CACHE", str(tmp_path))
    monkeypatch.setenv("CC", str(tmp_path / "no-such-cc"))
    monkeypatch.setenv("PRIMORDIUM_MARS", "auto")
    assert same_results(battle(ws, s, seed=9), expected)
    note = tmp_path / f"mars-aot.{mars_aot.key()}.failed"
    assert "no C compiler" in note.read_text()
    assert not mars_aot.path(tmp_path, mars_aot.key()).exists()
    monkeypatch.setenv("PRIMORDIUM_MARS", "aot")
    with pytest.raises(ConfigError, match="unavailable: RuntimeError: no C compiler"):
        battle(ws, s, seed=9)


def test_cli_battle_starts_without_numba(built):
    """With the extension built, `primordium corewar battle` never imports numba."""
    imp, dwarf = builtin_path("imp"), builtin_path("dwarf")
    script = (
        "import sys\n"
        "from primordium.cli import main\n"
        f"sys.argv = ['primordium', 'corewar', 'battle', {str(imp)!r}, {str(dwarf)!r},\n"
        "            '-r', '3', '-F', '4000', '--json']\n"
        "main()\n"
        "print('NUMBA', 'numba' in sys.modules)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "PRIMORDIUM_MARS"}
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env=env)
    assert p.returncode == 0, p.stderr
    assert '"wins"' in p.stdout
    assert "NUMBA False" in p.stdout, p.stdout
