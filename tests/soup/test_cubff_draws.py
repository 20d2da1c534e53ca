"""cubff's draws (``SoupConfig.draws == "cubff"``) against cubff's own binary: the same soup, byte for byte.

cubff runs from its own seed (or from a checkpoint we write) and saves the
soup after every epoch; primordium runs the same settings with cubff's draws
and must hold the very same bytes after each epoch: the initial soup, the
shuffle, the mutation coins and bytes, the pairing draws and the resets.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from primordium.soup.cubff_draws import mutation_threshold
from primordium.soup.cubff_files import read_dat, write_dat
from primordium.soup.languages import LANGUAGES
from primordium.soup.pattern import read_interactions
from primordium.soup.soup import (
    SoupConfig,
    epoch,
    fresh_soup,
    initial_soup,
    reset_soup,
    resets_after,
)

from .test_cubff_modes import run_cubff


@pytest.fixture(scope="module")
def cubff(cubff_dir: Path) -> Path:
    return cubff_dir / "main"


def cubff_epochs(
    cubff: Path, tmp: Path, config: SoupConfig, epochs: int, *flags: str, start: int = 0
):
    """cubff's soup after each of ``epochs`` epochs from ``start`` (before that epoch's reset)."""
    tmp.mkdir(parents=True, exist_ok=True)
    run_cubff(
        cubff,
        tmp,
        "--lang",
        config.lang,
        "--num",
        str(config.programs),
        "--seed",
        str(config.seed),
        "--mutation_prob",
        repr(config.mutation),
        "--print_interval",
        "1",
        "--save_interval",
        "1",
        "--max_epochs",
        str(start + epochs - 1),
        "--checkpoint_dir",
        "ck",
        "--disable_output",
        *flags,
    )
    files = sorted((tmp / "ck").glob("*.dat"))
    return [read_dat(f, config.length) for f in files]


def assert_same_epochs(
    theirs, config: SoupConfig, soup=None, start=0, reset_index=1, interactions=None
) -> None:
    """Our epochs from ``soup`` (default: our initial soup), resets included, equal cubff's files."""
    soup = initial_soup(config) if soup is None else soup
    ran = 0
    for k, (their_soup, their_epoch, their_reset) in enumerate(theirs):
        e = start + k
        soup, _, tapes = epoch(soup, config, e, interactions)
        ran += tapes
        assert their_epoch == e + 1
        assert (their_reset, e) == (reset_index, e)
        changed = int(np.count_nonzero(soup != their_soup))
        assert changed == 0, f"{config.lang} epoch {e}: {changed} bytes differ from cubff's"
        if resets_after(config, e):
            soup = reset_soup(config, reset_index, lambda s=soup: s)
            reset_index += 1
    assert ran > 0 and len(theirs) > 0


@pytest.mark.parametrize("lang", sorted(LANGUAGES))
def test_every_language_shuffled_and_mutated_equals_cubff(cubff, tmp_path, lang):
    """cubff's default mode (a fresh shuffle each epoch), mutation on: its seed gives our soup."""
    config = SoupConfig(lang=lang, programs=256, seed=11 + len(lang), mutation=0.01)
    assert_same_epochs(cubff_epochs(cubff, tmp_path, config, 3), config)


def test_defaults_and_mutation_rounding_equal_cubff(cubff, tmp_path):
    """cubff's default mutation rate, a larger soup, a seed above 2^32, and a rate that 2^30 does not
    divide (rounded half away from zero as cubff's std::round)."""
    assert mutation_threshold(1 / 4096) == 2**18 and mutation_threshold(2.5 / 2**30) == 3
    config = SoupConfig(programs=1024, seed=2**40 + 5)
    assert_same_epochs(cubff_epochs(cubff, tmp_path, config, 3), config)
    odd = SoupConfig(programs=128, seed=3, mutation=0.0123456789)
    assert_same_epochs(cubff_epochs(cubff, tmp_path / "odd", odd, 2), odd)


def test_fixed_and_cyclic_pairing_with_mutation_equal_cubff(cubff, tmp_path):
    fixed = SoupConfig(programs=256, seed=4, mutation=0.02, pairing="fixed")
    assert_same_epochs(cubff_epochs(cubff, tmp_path / "f", fixed, 4, "--fixed_shuffle"), fixed)
    cyclic = SoupConfig(programs=256, seed=4, mutation=0.02, pairing="cyclic")
    theirs = cubff_epochs(cubff, tmp_path / "c", cyclic, 4, "--nopermute_programs")
    assert_same_epochs(theirs, cyclic)


def test_interaction_pattern_with_conflicts_equals_cubff(cubff, tmp_path):
    """A ring with both neighbours and a few repeated lines: the visit order, the partner draws, the
    unpaired programs (mutated, not run) and the order they are mutated in are cubff's."""
    n = 256
    lines = [f"{a} {(a + 1) % n}\n{a} {(a - 1) % n}\n" for a in range(n) if a % 17]
    lines += [f"{a} {(a + 5) % n}\n" for a in range(0, n, 7)]
    (tmp_path / "ring.txt").write_text("".join(lines))
    config = SoupConfig(programs=n, seed=9, mutation=0.02, interactions="ring.txt")
    graph = read_interactions(tmp_path / "ring.txt", n)
    theirs = cubff_epochs(cubff, tmp_path, config, 3, "--interaction_pattern", "ring.txt")
    assert_same_epochs(theirs, config, interactions=graph)
    # Some programs were left unpaired: a count of pairs below N/2 is part of what matched.
    assert epoch(initial_soup(config), config, 0, graph)[2] < n // 2


def test_grid_is_cubffs_2d_pattern(cubff, tmp_path, shared_dir):
    """A 16x16 grid with radius 2 pairs as cubff along the pattern its make_2d_pattern.py writes."""
    script = shared_dir / "reference" / "cubff" / "make_2d_pattern.py"
    pattern = subprocess.run(
        [sys.executable, str(script), "16", "16"], capture_output=True, text=True, check=True
    ).stdout
    (tmp_path / "grid.txt").write_text(pattern)
    config = SoupConfig(programs=256, seed=21, mutation=0.02, grid=(16, 16), radius=2)
    theirs = cubff_epochs(cubff, tmp_path, config, 3, "--interaction_pattern", "grid.txt")
    assert_same_epochs(theirs, config)


def test_resets_zero_init_and_initial_program_equal_cubff(cubff, tmp_path):
    """Resets draw from seed(reset number); cubff's reset leaves the last N mod 32 programs alone."""
    config = SoupConfig(programs=200, seed=5, mutation=0.02, reset_interval=2)
    assert_same_epochs(
        cubff_epochs(cubff, tmp_path / "r", config, 5, "--reset_interval", "2"), config
    )
    text = "[{.>]" * 20
    zero = SoupConfig(
        programs=64, seed=6, mutation=0.03, zero_init=True, initial_program=text, reset_interval=3
    )
    theirs = cubff_epochs(
        cubff,
        tmp_path / "z",
        zero,
        5,
        "--zero_init",
        "--initial_program",
        text,
        "--reset_interval",
        "3",
    )
    assert_same_epochs(theirs, zero)


def test_a_loaded_checkpoint_continues_as_in_cubff(cubff, tmp_path):
    """From a checkpoint at epoch 37 with reset number 4: epoch 37's streams, and reset number 4 next."""
    config = SoupConfig(programs=96, seed=8, mutation=0.02, reset_interval=19)
    start = fresh_soup(SoupConfig(programs=96, seed=99), 0)
    write_dat(tmp_path / "start.dat", start, 37, 4)
    theirs = cubff_epochs(
        cubff, tmp_path, config, 3, "--load", "start.dat", "--reset_interval", "19", start=37
    )
    # cubff names its files by epoch index: 37, 38 (after which 38 % 19 == 0 resets), 39.
    assert_same_epochs(theirs, config, soup=start, start=37, reset_index=4)


def test_a_run_with_defaults_writes_cubffs_checkpoints(cubff, tmp_path, store_home, cli):
    """A run with the defaults (cubff's draws, 1/4096) and cubff's main with the same seed save the
    same soups: ours after n epochs (checkpoints/n.dat) is cubff's after epoch index n - 1."""
    from primordium.soup.experiment import Schedule, run_soup
    from primordium.store import Store

    config = SoupConfig(programs=128, seed=31)
    theirs = cubff_epochs(cubff, tmp_path, config, 4)
    run, result = run_soup(
        Store(), config, Schedule(epochs=4, log_every=2, save_every=1), pictures=False
    )
    assert result["epochs"] == 4 and result["ops"] > 0
    for k, (their_soup, their_epoch, _) in enumerate(theirs):
        ours, our_epoch, _ = read_dat(run.dir / "checkpoints" / f"{k + 1:010d}.dat")
        assert our_epoch == their_epoch and np.array_equal(ours, their_soup), k
    # The CLI's --draws is the field, worded as a field when wrong.
    code, _, err = cli("soup", "run", "--programs", "16", "--epochs", "1", "--draws", "pcg")
    assert code == 2 and "draws must be one of cubff, numpy" in err and len(err.splitlines()) == 1


def test_draws_field_errors_and_old_configs_read_as_numpy():
    with pytest.raises(Exception, match="draws must be one of cubff, numpy"):
        SoupConfig(draws="pcg")
    with pytest.raises(Exception, match="below 2\\^64 with draws cubff"):
        SoupConfig(seed=2**64)
    assert SoupConfig(seed=2**64, draws="numpy").seed == 2**64
    stored = SoupConfig(programs=64).to_dict()
    assert stored["draws"] == "cubff" and SoupConfig.from_dict(stored).draws == "cubff"
    del stored["draws"]  # a config written before the field existed
    assert SoupConfig.from_dict(stored).draws == "numpy"


def test_a_run_stored_before_draws_existed_resumes_with_numpys(store_home, monkeypatch):
    """A run whose stored config has no ``draws`` (written before the field) continues with numpy's
    draws, bit-identical to an uninterrupted numpy run, and not with cubff's."""
    from primordium.soup.experiment import Schedule, run_soup
    from primordium.store import Store, load_checkpoint

    config = SoupConfig(programs=64, seed=3, mutation=0.01, draws="numpy")
    schedule = Schedule(epochs=6, log_every=2, checkpoint_every=2)
    whole, _ = run_soup(Store(), config, schedule, pictures=False)
    plain = SoupConfig.to_dict
    with monkeypatch.context() as m:
        m.setattr(
            SoupConfig, "to_dict", lambda c: {k: v for k, v in plain(c).items() if k != "draws"}
        )
        half, _ = run_soup(Store(), config, schedule, epochs=3, pictures=False)
    assert "draws" not in half.config["soup"]
    run_soup(Store(), resume=half.id, epochs=6, pictures=False)
    cubff_run, _ = run_soup(
        Store(), SoupConfig(programs=64, seed=3, mutation=0.01), schedule, pictures=False
    )

    def soup_of(run):
        return load_checkpoint(run.dir / "checkpoint.npz")[0]["soup"]

    assert np.array_equal(soup_of(half), soup_of(whole))
    assert not np.array_equal(soup_of(half), soup_of(cubff_run))


def test_a_sweep_task_draws_as_its_config_says():
    """A sweep's soup (soup_task) follows the config's draws: its ops are those of our epochs with them."""
    from primordium.soup.sweep import soup_task

    got = {}
    for draws in ("cubff", "numpy"):
        config = SoupConfig(
            programs=32, length=16, max_steps=256, mutation=0.02, seed=4, draws=draws
        )
        soup, ops = initial_soup(config), 0
        for e in range(3):
            soup, k, _ = epoch(soup, config, e)
            ops += k
        got[draws] = soup_task((config.to_dict(), 3, 3, None))
        assert got[draws]["ops"] == ops > 0
    assert got["cubff"]["curve"] != got["numpy"]["curve"]
