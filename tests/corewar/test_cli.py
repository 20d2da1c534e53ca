"""The `primordium corewar` commands, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from primordium.corewar import builtin_path


def test_battle_json_matches_pmars(cli, pmars):
    imp, dwarf = builtin_path("imp"), builtin_path("dwarf")
    code, out, err = cli(
        "corewar", "battle", str(imp), str(dwarf), "--rounds", "10", "--position", "4000", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["rounds"] == 10
    assert [w["name"] for w in data["warriors"]] == ["Imp", "Dwarf"]
    k = subprocess.run(
        [pmars, "-b", "-k", "-r", "10", "-F", "4000", str(imp), str(dwarf)],
        capture_output=True,
        text=True,
    )
    (w0, t0), (w1, t1) = [tuple(map(int, line.split())) for line in k.stdout.split("\n")[:2]]
    assert (data["warriors"][0]["wins"], data["warriors"][0]["ties"]) == (w0, t0)
    assert (data["warriors"][1]["wins"], data["warriors"][1]["ties"]) == (w1, t1)
    assert data["warriors"][0]["losses"] == w1
    assert data["warriors"][0]["score"] == 3 * w0 + t0


def test_battle_plain_output_and_three_warriors(cli):
    files = [str(builtin_path(n)) for n in ("imp", "dwarf", "paper")]
    code, out, err = cli("corewar", "battle", *files, "--rounds", "5", "--seed", "3")
    assert code == 0, err
    assert "Imp by" in out and "Dwarf by" in out and "Paper by" in out and "scores" in out
    code, out2, _ = cli("corewar", "battle", *files, "--rounds", "5", "--seed", "3")
    assert out2 == out  # same seed, same result


def test_battle_quiet_prints_nothing(cli):
    files = [str(builtin_path(n)) for n in ("imp", "dwarf")]
    code, out, err = cli("corewar", "battle", *files, "--rounds", "2", "--quiet")
    assert code == 0 and out == "" and err == ""


def test_tournament_json(cli):
    files = [str(builtin_path(n)) for n in ("imp", "dwarf", "scanner", "paper")]
    code, out, err = cli("corewar", "tournament", *files, "--rounds", "8", "--seed", "1", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["warriors"] == ["Imp", "Dwarf", "Scanner", "Paper"]
    assert len(data["results"]) == 6
    for r in data["results"]:
        assert r["wins"] + r["losses"] + r["ties"] == 8
    code, table, err = cli("corewar", "tournament", *files, "--rounds", "8", "--seed", "1")
    assert code == 0 and "Paper" in table


def test_tournament_pair_equals_battle_at_fixed_position(cli):
    imp, dwarf = str(builtin_path("imp")), str(builtin_path("dwarf"))
    _, out, _ = cli(
        "corewar", "tournament", imp, dwarf, "--rounds", "6", "--position", "2000", "--json"
    )
    _, out2, _ = cli(
        "corewar", "battle", imp, dwarf, "--rounds", "6", "--position", "2000", "--json"
    )
    t, b = json.loads(out)["results"][0], json.loads(out2)["warriors"][0]
    assert (t["wins"], t["losses"], t["ties"]) == (b["wins"], b["losses"], b["ties"])


def test_assemble_prints_pmars_listing(cli, pmars):
    for name in ("imp", "dwarf", "scanner", "paper"):
        path = builtin_path(name)
        code, out, err = cli("corewar", "assemble", str(path))
        assert code == 0, err
        ref = subprocess.run([pmars, "-r", "0", str(path)], capture_output=True, text=True).stdout
        assert out == ref


@pytest.mark.parametrize(
    "content, needle",
    [
        (b"", ("empty", "no instructions")),
        (b"mov 0, 1\nfoo 1, 2\n", (":2:",)),
        (b"jmp nowhere\n", (":1:",)),
        (b"\x00\x01\x02binary", ("binary",)),
        (b";assert CORESIZE == 1\nmov 0, 1\n", (":1:",)),
    ],
)
def test_bad_warriors_give_one_line_and_exit_2(cli, tmp_path, content, needle):
    f = tmp_path / "bad.red"
    f.write_bytes(content)
    code, out, err = cli("corewar", "battle", str(f), str(builtin_path("imp")), "--rounds", "1")
    assert code == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert str(f) in lines[0] and any(n in lines[0].lower() for n in needle)


def test_missing_file_and_bad_flags(cli, tmp_path):
    code, _, err = cli("corewar", "battle", str(tmp_path / "nope.red"), str(builtin_path("imp")))
    assert code == 2 and "nope.red" in err and len(err.strip().splitlines()) == 1
    imp = str(builtin_path("imp"))
    code, _, err = cli("corewar", "battle", imp, imp, "--position", "50")
    assert code == 2 and "--position" in err
    code, _, err = cli("corewar", "battle", imp, imp, "--rounds", "0")
    assert code == 2 and "rounds" in err
    code, _, err = cli("corewar", "battle", imp, imp, "--bogus")
    assert code == 2 and len(err.strip().splitlines()) == 1
    code, _, err = cli("corewar", "tournament", imp)
    assert code == 2 and "two" in err


def test_warrior_longer_than_length_is_refused(cli, tmp_path):
    f = tmp_path / "long.red"
    f.write_text("mov 0, 1\n" * 30)
    code, _, err = cli("corewar", "battle", str(f), str(f), "--length", "20", "--distance", "20")
    assert code == 2 and str(f) in err


def test_console_script_entry_point(tmp_path):
    exe = Path(sys.executable).parent / "primordium"
    r = subprocess.run(
        [str(exe), "corewar", "battle", str(tmp_path / "x.red"), "y.red"],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 2
    assert r.stderr.count("\n") == 1 and "Traceback" not in r.stderr


def test_battle_process_loads_only_core_war():
    """`primordium corewar battle` starts without other engines, scipy.linalg or a progress bar."""
    imp, dwarf = builtin_path("imp"), builtin_path("dwarf")
    script = (
        "import sys\n"
        "from primordium.cli import main\n"
        f"sys.argv = ['primordium', 'corewar', 'battle', {str(imp)!r}, {str(dwarf)!r}, '-r', '1']\n"
        "main()\n"
        "heavy = ('jax', 'torch', 'flax', 'transformers', 'scipy.linalg', 'rich.progress',\n"
        "         'primordium.cli.soup', 'primordium.cli.asal', 'primordium.cli.redqueen')\n"
        "print('LOADED', [m for m in heavy if sys.modules.get(m) is not None])\n"
    )
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "Results: " in p.stdout
    assert "LOADED []" in p.stdout, p.stdout
