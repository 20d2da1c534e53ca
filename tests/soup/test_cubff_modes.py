"""cubff's experiment modes, self-replication test and CSV log, against cubff's own binary.

cubff runs on soups we write in its checkpoint format; with no mutation and
a deterministic pairing (or none at all: an empty interaction pattern), the
soup it saves and the log and scores it prints are compared with ours.
"""

from __future__ import annotations

import ctypes
import re
import subprocess
from pathlib import Path

import numpy as np
import pytest

from primordium.soup.cubff_files import read_dat, write_dat
from primordium.soup.metrics import brotli_size, cubff_log_line, shannon_h0
from primordium.soup.pattern import read_interactions
from primordium.soup.selfrep import count_selfreps, selfrep_score, selfrep_scores
from primordium.soup.soup import SoupConfig, epoch, initial_soup
from tests.soup.conftest import REPLICATOR

L = 64


@pytest.fixture(scope="module")
def cubff(cubff_dir: Path) -> Path:
    """cubff's own program."""
    return cubff_dir / "main"


def run_cubff(cubff: Path, tmp: Path, *args: str) -> str:
    out = subprocess.run([str(cubff), *args], cwd=tmp, capture_output=True, timeout=120)
    assert out.returncode == 0, out.stderr.decode(errors="replace")[-500:]
    return out.stdout.decode("utf-8", errors="replace")


def cubff_scores(stdout: str) -> list[int]:
    """The per-program scores cubff prints before each pair of its first 96 programs."""
    text = re.sub(r"\x1b\[[0-9;:]*[A-Za-z]", "", stdout)
    scores = []
    for line in text.splitlines():
        m = re.match(r"^(\d+) (\d+) ", line)
        if m:
            scores += [int(m.group(1)), int(m.group(2))]
    return scores


def libbrotli_size(soup: np.ndarray) -> int:
    """The size cubff's own brotli (the system libbrotlienc it links) gives, same settings as ours."""
    try:
        lib = ctypes.CDLL("libbrotlienc.so.1")
    except OSError:
        pytest.fail("libbrotlienc.so.1 (cubff's brotli, which the oracle installs) is not loadable")
    data = np.ascontiguousarray(soup).tobytes()
    out = ctypes.create_string_buffer(len(data) + 1024)
    size = ctypes.c_size_t(len(out))
    assert (
        lib.BrotliEncoderCompress(
            2, 24, 0, ctypes.c_size_t(len(data)), data, ctypes.byref(size), out
        )
        == 1
    )
    return size.value


def assert_log_line(line: str, soup: np.ndarray, epoch_: int, selfreps: int | None = None) -> None:
    """cubff's line is ours given cubff's brotli; with our brotli (another version) the size is within 1%."""
    size = libbrotli_size(soup)
    assert line == cubff_log_line(
        epoch_, size, len(soup), shannon_h0(soup), 8.0 * size / soup.size, selfreps
    )
    assert abs(brotli_size(soup) - size) <= 0.01 * size


def prefix_copiers(rng: np.random.Generator, n: int) -> np.ndarray:
    """`bff` programs that copy themselves forward up to a zero byte, so their score is about where the
    zero sits: h0 = 128 mod 128 = 0, h1 = 64, then [.>}] and a no-op filler; a few mutants too."""
    base = np.full(L, ord("a"), np.uint8)
    base[:7] = np.frombuffer(bytes([128, 64]) + b"[.>}]", np.uint8)
    soup = np.tile(base, (n, 1))
    for i in range(n):
        soup[i, rng.integers(7, L)] = 0
        if i % 3 == 0:
            k = int(rng.integers(1, 6))
            soup[i, rng.choice(L, k, replace=False)] = rng.integers(0, 256, k, dtype=np.uint8)
    return soup


def forth_copiers(rng: np.random.Generator, n: int, lang: str = "forthtrivial") -> np.ndarray:
    """Ordinary Forth programs (every byte, constant pushes 40-7F included): a counting copy loop over a
    filler, its mutants and uniformly random programs. forthtrivial copies with copy0 (dup, copy0, inc,
    dup, copy0, jump back 3); forth has no copy op and moves each byte through the stack (dup, dup,
    read0, write1, inc, jump back 5)."""
    base = np.full(L, 0x20, np.uint8)
    loop = (
        [0x04, 0x0C, 0x08, 0x04, 0x0C, 0xC2]
        if lang == "forthtrivial"
        else [0x04, 0x04, 0x00, 0x03, 0x08, 0xC4]
    )
    base[:6] = loop
    soup = np.tile(base, (n, 1))
    for i in range(n):
        if i % 3 == 2:
            soup[i] = rng.integers(0, 256, L, dtype=np.uint8)
        else:
            k = int(rng.integers(0, 4))
            soup[i, rng.choice(L, k, replace=False)] = rng.integers(0, 256, k, dtype=np.uint8)
    return soup


def replicator_family(rng: np.random.Generator, n: int) -> np.ndarray:
    """Replicators, their mutants (1-24 bytes changed), cut-short copiers and random programs."""
    rep = np.frombuffer(REPLICATOR, np.uint8)
    soup = rng.integers(0, 256, (n, L), dtype=np.uint8)
    for i in range(n):
        kind = i % 4
        if kind == 3:
            continue  # random
        soup[i] = rep
        if kind == 1:
            k = int(rng.integers(1, 25))
            soup[i, rng.choice(L, k, replace=False)] = rng.integers(0, 256, k, dtype=np.uint8)
        elif kind == 2:
            soup[i, rng.integers(6, L - 6)] = 0  # the copy loop stops at a zero
            soup[i, rng.integers(0, L)] = rng.choice(np.frombuffer(b"[]{}<>.,+-", np.uint8))
    return soup


@pytest.mark.parametrize("lang", ["bff_noheads", "bff", "forth", "forthtrivial"])
def test_selfrep_scores_and_log_line_equal_cubffs(cubff, tmp_path, lang):
    """Same soup, seed and epoch: every program's score, the count and the whole log line are cubff's."""
    rng = np.random.default_rng(11)
    (tmp_path / "none.txt").write_text("")  # no pairs: cubff's epoch leaves the soup as it is
    distinct = set()
    for seed, ep in ((0, 0), (3, 7), (12345, 4095)):
        soup = (
            forth_copiers(rng, 96, lang)
            if lang.startswith("forth")
            else {"bff_noheads": replicator_family, "bff": prefix_copiers}[lang](rng, 96)
        )
        write_dat(tmp_path / "soup.dat", soup, ep)
        out = run_cubff(
            cubff,
            tmp_path,
            "--lang",
            lang,
            "--load",
            "soup.dat",
            "--num",
            "96",
            "--seed",
            str(seed),
            "--interaction_pattern",
            "none.txt",
            "--mutation_prob",
            "0",
            "--max_epochs",
            "0",
            "--print_interval",
            "1",
            "--eval_selfrep",
            "--log",
            "log.csv",
        )
        theirs = cubff_scores(out)
        ours = selfrep_scores(soup, lang, seed=seed, epoch=ep)
        assert len(theirs) == 96 and list(ours) == theirs
        distinct |= set(theirs)
        assert_log_line(
            (tmp_path / "log.csv").read_text().splitlines()[1], soup, ep + 1, count_selfreps(ours)
        )
    # bff_noheads and Forth copiers replicate wholly or not at all; the prefix copiers give every score between.
    assert len(distinct) >= (20 if lang == "bff" else 2), sorted(distinct)


def test_single_program_score_is_a_soup_of_one(cubff):
    rep = np.frombuffer(REPLICATOR, np.uint8)
    assert selfrep_score(rep) == 64 and selfrep_score(np.full(L, ord("a"), np.uint8)) == 0


def test_log_line_of_a_large_random_soup_equals_cubffs(cubff, tmp_path):
    """brotli at cubff's quality and window, H0 summed as cubff sums it, printed as cubff prints it."""
    run_cubff(
        cubff,
        tmp_path,
        "--lang",
        "bff_noheads",
        "--num",
        "4096",
        "--seed",
        "5",
        "--max_epochs",
        "0",
        "--checkpoint_dir",
        "ck",
        "--log",
        "log.csv",
        "--disable_output",
    )
    soup, ep, _ = read_dat(tmp_path / "ck" / "0000000000.dat")
    assert ep == 1 and soup.shape == (4096, L)
    assert_log_line((tmp_path / "log.csv").read_text().splitlines()[1], soup, 1)


def _two_epochs_of_cubff(cubff, tmp_path, soup, start, *flags) -> list[np.ndarray]:
    write_dat(tmp_path / "soup.dat", soup, start)
    run_cubff(
        cubff,
        tmp_path,
        "--lang",
        "bff_noheads",
        "--load",
        "soup.dat",
        "--num",
        str(len(soup)),
        "--mutation_prob",
        "0",
        "--print_interval",
        "1",
        "--save_interval",
        "1",
        "--max_epochs",
        str(start + 1),
        "--checkpoint_dir",
        "ck",
        "--disable_output",
        *flags,
    )
    return [read_dat(tmp_path / "ck" / f"{e:010d}.dat")[0] for e in (start, start + 1)]


@pytest.mark.parametrize(
    "pairing, flag, start",
    [
        ("cyclic", "--nopermute_programs", 6),
        ("cyclic", "--nopermute_programs", 11),
        ("fixed", "--fixed_shuffle", 4),
        ("fixed", "--fixed_shuffle", 9),
    ],
)
def test_deterministic_pairings_equal_cubffs(cubff, tmp_path, pairing, flag, start):
    """With no mutation, cyclic and fixed pairing make the very soups cubff makes, epoch after epoch."""
    rng = np.random.default_rng(start)
    soup = replicator_family(rng, 128)
    theirs = _two_epochs_of_cubff(cubff, tmp_path, soup, start, flag)
    config = SoupConfig(programs=128, pairing=pairing, mutation=0.0)
    ours = soup
    for k, e in enumerate((start, start + 1)):
        ours, _, _ = epoch(ours, config, e)
        assert np.array_equal(ours, theirs[k]), f"epoch {e}"
    assert not np.array_equal(ours, soup)


def test_one_way_interaction_pattern_equals_cubff(cubff, tmp_path):
    """A pattern whose pairs cannot collide (2k -> 2k+1 only, some programs left out) pairs as cubff does."""
    lines = [f"{a} {a + 1}" for a in range(0, 128, 2) if a % 6]
    (tmp_path / "pattern.txt").write_text("\n".join(lines) + "\n")
    soup = replicator_family(np.random.default_rng(3), 128)
    theirs = _two_epochs_of_cubff(cubff, tmp_path, soup, 2, "--interaction_pattern", "pattern.txt")
    config = SoupConfig(programs=128, interactions="pattern.txt", mutation=0.0)
    graph = read_interactions(tmp_path / "pattern.txt", 128)
    ours = soup
    for k, e in enumerate((2, 3)):
        ours, _, tapes = epoch(ours, config, e, graph)
        assert tapes == len(lines) and np.array_equal(ours, theirs[k])
    left_out = [p for a in range(0, 128, 6) for p in (a, a + 1)]
    assert np.array_equal(ours[left_out], soup[left_out])


@pytest.mark.parametrize(
    "lang, text", [("bff_noheads", "[{.>]0šĀAL]>.{[" * 6), ("subleq", "00ff10Ab" * 20)]
)
def test_initial_program_zero_init_and_reset_equal_cubffs(cubff, tmp_path, lang, text):
    """The program is read as cubff reads it and written over the start of a zero soup (spilling past one
    program); cubff's reset after epoch index 0 wipes it."""
    run_cubff(
        cubff,
        tmp_path,
        "--lang",
        lang,
        "--num",
        "64",
        "--zero_init",
        "--initial_program",
        text,
        "--nopermute_programs",
        "--mutation_prob",
        "0",
        "--print_interval",
        "1",
        "--save_interval",
        "1",
        "--max_epochs",
        "1",
        "--reset_interval",
        "5",
        "--checkpoint_dir",
        "ck",
        "--disable_output",
    )
    after0, _, reset0 = read_dat(tmp_path / "ck" / "0000000000.dat")
    after1, _, reset1 = read_dat(tmp_path / "ck" / "0000000001.dat")
    config = SoupConfig(
        lang=lang,
        programs=64,
        zero_init=True,
        initial_program=text,
        pairing="cyclic",
        mutation=0.0,
        reset_interval=5,
    )
    start = initial_soup(config)
    assert start.reshape(-1)[len(text) if lang.startswith("bff") else len(text) // 2 :].max() == 0
    assert np.array_equal(epoch(start, config, 0)[0], after0)
    assert after1.max() == 0 and (reset0, reset1) == (1, 2)


def test_cubff_checkpoint_loads_and_ours_load_in_cubff(cubff, tmp_path, store_home, cli):
    run_cubff(
        cubff,
        tmp_path,
        "--lang",
        "bff_noheads",
        "--num",
        "128",
        "--max_epochs",
        "0",
        "--checkpoint_dir",
        "ck",
        "--disable_output",
    )
    code, out, err = cli(
        "soup",
        "run",
        "--load",
        tmp_path / "ck" / "0000000000.dat",
        "--epochs",
        "9",
        "--log-every",
        "4",
        "--save-every",
        "4",
        "--json",
        "--log",
        tmp_path / "ours.csv",
    )
    assert code == 0, err
    from primordium.store import Store

    run = Store().list()[0]
    run_dir = store_home / "runs" / run["id"]
    csv = (tmp_path / "ours.csv").read_text().splitlines()
    assert csv[0] == "epoch,brotli_size,soup_size,higher_entropy"
    assert [int(r.split(",")[0]) for r in csv[1:]] == [4, 8, 9]
    assert (run_dir / "log.csv").read_text().splitlines() == csv
    assert sorted(p.name for p in (run_dir / "checkpoints").iterdir()) == [
        "0000000004.dat",
        "0000000008.dat",
    ]
    # cubff continues from our numbered checkpoint.
    run_cubff(
        cubff,
        tmp_path,
        "--lang",
        "bff_noheads",
        "--load",
        str(run_dir / "checkpoints" / "0000000008.dat"),
        "--max_epochs",
        "8",
        "--print_interval",
        "1",
        "--log",
        "again.csv",
        "--disable_output",
    )
    assert (tmp_path / "again.csv").read_text().splitlines()[1].startswith("9,")


def test_mutation_law_equals_cubffs(cubff, tmp_path):
    """One epoch of a zero soup with no pairs: every byte is replaced by a uniform byte with probability μ,
    in cubff and here (the streams differ, so the counts agree within their spread, not exactly)."""
    n, mu = 4096, 1 / 64
    (tmp_path / "none.txt").write_text("")
    run_cubff(
        cubff,
        tmp_path,
        "--lang",
        "bff_noheads",
        "--num",
        str(n),
        "--zero_init",
        "--interaction_pattern",
        "none.txt",
        "--mutation_prob",
        str(mu),
        "--max_epochs",
        "0",
        "--checkpoint_dir",
        "ck",
        "--disable_output",
    )
    theirs = read_dat(tmp_path / "ck" / "0000000000.dat")[0]
    config = SoupConfig(programs=n, zero_init=True, interactions="none.txt", mutation=mu)
    ours, _, tapes = epoch(
        initial_soup(config), config, 0, read_interactions(tmp_path / "none.txt", n)
    )
    expected = n * L * mu * 255 / 256  # a replacement byte may be the old one
    spread = (n * L * mu) ** 0.5
    assert tapes == 0
    for soup in (theirs, ours):
        changed = soup[soup != 0]
        assert abs(len(changed) - expected) < 5 * spread
        # the new bytes are uniform over 1..255
        assert np.bincount(changed, minlength=256)[1:].max() < 5 * expected / 255


def test_pattern_pairing_with_conflicts_pairs_as_many_as_cubff(cubff, tmp_path):
    """On a ring (each program may pair with either neighbour) the pairs formed per epoch follow cubff's law:
    '>'-only programs do 128 ops a tape and never change, so cubff's op total counts its pairs."""
    n, epochs = 1024, 30
    (tmp_path / "ring.txt").write_text(
        "".join(f"{a} {(a + 1) % n}\n{a} {(a - 1) % n}\n" for a in range(n))
    )
    soup = np.full((n, L), ord(">"), np.uint8)
    write_dat(tmp_path / "ring.dat", soup, 0)
    out = run_cubff(
        cubff,
        tmp_path,
        "--lang",
        "bff_noheads",
        "--load",
        "ring.dat",
        "--interaction_pattern",
        "ring.txt",
        "--mutation_prob",
        "0",
        "--print_interval",
        "1",
        "--max_epochs",
        str(epochs - 1),
    )
    totals = [
        int(x) for x in re.findall(r"ops:\s+(\d+)", re.sub(r"\x1b\[[0-9;:]*[A-Za-z]", "", out))
    ]
    theirs = np.diff([0] + totals) / 128
    graph = read_interactions(tmp_path / "ring.txt", n)
    config = SoupConfig(programs=n, interactions="ring.txt", mutation=0.0, seed=1)
    ours = np.array([epoch(soup, config, e, graph)[2] for e in range(epochs)])
    assert len(theirs) == epochs and theirs.min() > n / 3
    spread = np.sqrt((theirs.var() + ours.var()) / epochs)
    assert abs(theirs.mean() - ours.mean()) < 5 * spread, (theirs.mean(), ours.mean())
