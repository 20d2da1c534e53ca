"""cubff's experiment modes in `soup run`: stopping, the CSV log, resume and load, and bad input."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.soup.cubff_files import write_dat
from primordium.soup.experiment import Schedule, run_soup
from primordium.soup.programs import parse_program
from primordium.soup.soup import SoupConfig, epoch, fresh_soup, initial_soup, resets_after
from primordium.store import Store, load_checkpoint
from tests.soup.conftest import REPLICATOR


def _csv(run) -> list[str]:
    return (run.dir / "log.csv").read_text().splitlines()


def test_stop_at_bits_per_byte(store_home):
    config = SoupConfig(programs=64, zero_init=True, mutation=0.0)
    run, result = run_soup(
        Store(), config, Schedule(epochs=100, log_every=4, stop_bpb=1.0), pictures=False
    )
    assert result["epochs"] == 4 and result["stopped"] == "bpb"
    assert _csv(run)[0] == "epoch,brotli_size,soup_size,higher_entropy" and _csv(run)[1].startswith(
        "4,"
    )


def test_stop_at_a_count_of_self_replicators(store_home, tmp_path):
    write_dat(
        tmp_path / "reps.dat", np.tile(np.frombuffer(REPLICATOR, np.uint8), (64, 1)), epoch=10
    )
    schedule = Schedule(epochs=100, log_every=2, stop_selfreps=60)
    assert schedule.eval_selfrep  # the count the stop needs is switched on
    run, result = run_soup(
        Store(),
        SoupConfig(programs=64, mutation=0.0),
        schedule,
        load=str(tmp_path / "reps.dat"),
        pictures=False,
    )
    assert result == result | {"epochs": 12, "stopped": "selfreps", "selfreps": 64}
    assert _csv(run) == ["epoch,brotli_size,soup_size,higher_entropy,number_selfreps", _csv(run)[1]]
    assert _csv(run)[1].startswith("12,") and _csv(run)[1].endswith(",64")
    census = (run.dir / "census.json").read_text()
    assert '"selfrep_score": 64' in census and '"copies": true' in census


def test_resume_rebuilds_the_csv_and_pattern_runs_resume_exactly(store_home, tmp_path):
    (tmp_path / "p.txt").write_text(
        "".join(f"{a} {(a + 1) % 64}\n{a} {(a + 7) % 64}\n" for a in range(64))
    )
    config = SoupConfig(
        programs=64, interactions=str(tmp_path / "p.txt"), mutation=0.01, seed=3, reset_interval=5
    )
    schedule = Schedule(epochs=12, log_every=4, eval_selfrep=True)
    store = Store()
    whole, _ = run_soup(store, config, schedule, pictures=False)
    half, _ = run_soup(store, config, schedule, epochs=8, pictures=False)
    (tmp_path / "p.txt").unlink()  # the run keeps its own copy of the pattern
    half, _ = run_soup(store, resume=half.id, epochs=12, pictures=False)
    assert _csv(half) == _csv(whole) and len(_csv(whole)) == 4
    a, sa = load_checkpoint(whole.dir / "checkpoint.npz")
    b, sb = load_checkpoint(half.dir / "checkpoint.npz")
    assert np.array_equal(a["soup"], b["soup"]) and sa["reset_index"] == sb["reset_index"] == 4


def test_resets_follow_cubffs_schedule():
    config = SoupConfig(programs=8, reset_interval=3, seed=2)
    assert [e for e in range(10) if resets_after(config, e)] == [0, 3, 6, 9]
    assert np.array_equal(fresh_soup(config, 0), initial_soup(config))
    assert not np.array_equal(fresh_soup(config, 1), fresh_soup(config, 2))


def test_pairings_keep_slots_first_members_as_cubff_lists_them():
    # '+' at a program's start adds to tape[0] once per '+' run: only the pair's first program changes.
    soup = np.zeros((16, 64), np.uint8)
    soup[:, 0] = ord("+")
    for pairing, index, firsts in (
        ("cyclic", 0, [15, 1, 3, 5, 7, 9, 11, 13]),
        ("cyclic", 1, list(range(0, 16, 2))),
        ("fixed", 0, list(range(0, 16, 2))),
        ("fixed", 1, list(range(1, 16, 2))),
    ):
        out, _, tapes = epoch(soup, SoupConfig(programs=16, pairing=pairing, mutation=0.0), index)
        assert tapes == 8 and sorted(np.flatnonzero(out[:, 0] != ord("+"))) == sorted(firsts), (
            pairing,
            index,
        )


def test_parse_program_reads_cubffs_notation():
    assert parse_program("[{0Ā}A", "bff_noheads").tolist() == [91, 123, 0, 0, 125, 196]
    assert parse_program("00fFa1", "forth").tolist() == [0, 255, 161]


BAD_INPUT = [
    (
        ["--interaction-pattern", "{pattern}"],
        "0 1\n2 3\nnot numbers\n",
        "p.txt:3: expected two program numbers",
    ),
    (
        ["--interaction-pattern", "{pattern}"],
        "0 1\n\n5 64\n",
        "p.txt:3: program 64 is outside the soup",
    ),
    (["--interaction-pattern", "{pattern}"], "0 1 2\n", "p.txt:1: expected two program numbers"),
    (
        ["--interaction-pattern", "{pattern}"],
        "4 4\n",
        "p.txt:1: program 4 cannot interact with itself",
    ),
    (["--interaction-pattern", "{pattern}", "--grid", "8x8"], "0 1\n", "choose one"),
    (["--interaction-pattern", "{tmp}/missing.txt"], None, "missing.txt: no such file"),
    (["--initial-program", "[{.x"], None, "character 4 ('x') is not a BFF op"),
    (["--initial-program", "0a1", "--lang", "subleq"], None, "3 hex digits"),
    (["--initial-program", "[" * 4097], None, "initial_program has 4097 bytes"),
    (["--pairing", "fixed", "--programs", "48"], None, "power-of-two"),
    (["--pairing", "sorted"], None, "pairing must be one of"),
    (["--reset-interval", "0"], None, "reset_interval must be at least 1"),
    (["--load", "{tmp}/cut.dat"], None, "cut.dat: truncated or foreign checkpoint"),
    (["--load", "{tmp}/tiny.dat"], None, "tiny.dat: truncated checkpoint"),
    (["--load", "{tmp}/nothere.dat"], None, "nothere.dat: no such checkpoint"),
    (["--load", "{tmp}/cut.dat", "--resume", "x"], None, "use one"),
    (["--stop-bpb", "-1"], None, "stop_bpb must be a positive"),
]


@pytest.mark.parametrize("flags, pattern, message", BAD_INPUT)
def test_bad_input_is_one_line_and_exit_2(store_home, tmp_path, cli, flags, pattern, message):
    if pattern is not None:
        (tmp_path / "p.txt").write_text(pattern)
    good = np.zeros((64, 64), np.uint8)
    write_dat(tmp_path / "cut.dat", good, 5)
    (tmp_path / "cut.dat").write_bytes((tmp_path / "cut.dat").read_bytes()[:-64])
    (tmp_path / "tiny.dat").write_bytes(b"\x01\x00")
    args = [
        f.replace("{pattern}", str(tmp_path / "p.txt")).replace("{tmp}", str(tmp_path))
        for f in flags
    ]
    if "--programs" not in args:
        args += ["--programs", "64"]
    code, out, err = cli("soup", "run", "--epochs", "2", *args)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1, err
    assert not Store().list()  # nothing started


def test_selfrep_command_runs_cubffs_test_or_the_copy_check(cli):
    import json

    code, out, _ = cli("soup", "selfrep", "--program", REPLICATOR.hex(), "--json")
    assert code == 0 and json.loads(out) == {
        "check": "cubff",
        "score": 64,
        "threshold": 5,
        "replicates": True,
    }
    code, out, _ = cli(
        "soup", "selfrep", "--program", REPLICATOR.hex(), "--check", "copy", "--json"
    )
    assert code == 0 and json.loads(out)["left"]["replicates"] is True
    code, _, err = cli("soup", "selfrep", "--program", REPLICATOR.hex(), "--check", "both")
    assert code == 2 and "--check must be cubff or copy" in err


def test_cli_modes_and_cubffs_log_rows(store_home, tmp_path, cli):
    (tmp_path / "p.txt").write_text("".join(f"{a} {a ^ 1}\n" for a in range(64)))
    code, _, err = cli(
        "soup",
        "run",
        "--programs",
        "64",
        "--epochs",
        "10",
        "--log-every",
        "4",
        "--log-offset",
        "1",
        "--interaction-pattern",
        tmp_path / "p.txt",
        "--eval-selfrep",
        "--quiet",
    )
    assert code == 0, err
    run = Store().open(Store().list()[0]["id"])
    assert [line.split(",")[0] for line in _csv(run)[1:]] == ["1", "5", "9", "10"]
    assert run.config["soup"]["interactions"] == str(tmp_path / "p.txt")
    code, _, err = cli(
        "soup",
        "run",
        "--programs",
        "64",
        "--epochs",
        "5",
        "--pairing",
        "cyclic",
        "--zero-init",
        "--initial-program",
        "[{.>]" + "Š" * 54 + "]>.{[",
        "--reset-interval",
        "3",
        "--quiet",
    )
    assert code == 0, err
    code, _, err = cli("soup", "run", "--log-every", "4", "--log-offset", "4")
    assert code == 2 and "log_offset must be in 0..3" in err
