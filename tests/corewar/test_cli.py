"""The `primordium corewar` commands, run as a user would."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from primordium.corewar import builtin_path


def test_battle_json_matches_pmars(cli, pmars, kernel):
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


def test_battle_prints_names_and_authors_as_written(cli, tmp_path):
    """Brackets in a name are text, not console markup (an author "[b]me" lost its "[b]")."""
    red = tmp_path / "b.red"
    red.write_text(";redcode\n;name [RS] Imp\n;author [b]me\n;assert 1\nmov 0, 1\nend\n")
    code, out, err = cli("corewar", "battle", str(red), str(builtin_path("dwarf")), "--rounds", "2")
    assert code == 0, err
    assert "[RS] Imp by [b]me scores" in out


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


def test_tournament_pair_equals_battle_at_fixed_position(cli, kernel):
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
    """`primordium corewar battle` starts without other engines, scipy.linalg, pydantic or a progress bar."""
    imp, dwarf = builtin_path("imp"), builtin_path("dwarf")
    script = (
        "import sys\n"
        "from primordium.cli import main\n"
        f"sys.argv = ['primordium', 'corewar', 'battle', {str(imp)!r}, {str(dwarf)!r}, '-r', '1']\n"
        "main()\n"
        "heavy = ('jax', 'torch', 'flax', 'transformers', 'scipy.linalg', 'rich.progress', 'pydantic',\n"
        "         'primordium.cli.soup', 'primordium.cli.asal', 'primordium.cli.redqueen')\n"
        "print('LOADED', [m for m in heavy if sys.modules.get(m) is not None])\n"
    )
    p = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    assert "Results: " in p.stdout
    assert "LOADED []" in p.stdout, p.stdout


def test_pmars_one_letter_flags_match_long_flags_and_pmars(cli, pmars, kernel):
    imp, dwarf = str(builtin_path("imp")), str(builtin_path("dwarf"))
    short = ["-r", "10", "-s", "8000", "-c", "80000", "-p", "8000", "-l", "100", "-d", "100"]
    long_ = ["--rounds", "10", "--core-size", "8000", "--cycles", "80000", "--processes", "8000"]
    long_ += ["--length", "100", "--distance", "100"]
    code, a, err = cli("corewar", "battle", *short, "-F", "200", "-b", imp, dwarf, "--json")
    assert code == 0, err
    _, b, _ = cli("corewar", "battle", *long_, "--position", "200", imp, dwarf, "--json")
    assert json.loads(a) == json.loads(b)
    # Settings off pMARS's defaults prove each letter reaches its setting.
    odd = ["-r", "6", "-s", "4000", "-c", "3000", "-p", "64", "-l", "50", "-d", "50", "-F", "1234"]
    code, c, err = cli("corewar", "battle", *odd, "-b", imp, dwarf, "--json")
    assert code == 0, err
    for flags, data in ((short + ["-F", "200"], json.loads(a)), (odd, json.loads(c))):
        k = subprocess.run(
            [pmars, "-b", "-k", *flags, imp, dwarf], capture_output=True, text=True, check=True
        )
        (w0, t0), (w1, t1) = [tuple(map(int, ln.split())) for ln in k.stdout.split("\n")[:2]]
        ws = data["warriors"]
        assert (ws[0]["wins"], ws[0]["ties"], ws[1]["wins"], ws[1]["ties"]) == (w0, t0, w1, t1)


def test_tournament_ranking_fits_80_columns_with_the_human_warriors(cli, human_warriors):
    from rich.cells import cell_len

    files = [str(f) for f in human_warriors]
    # One short round per pair: the test is about the layout, not the fights.
    code, out, err = cli("corewar", "tournament", *files, "-r", "1", "-c", "500")
    assert code == 0, err
    lines = out.splitlines()
    assert max(cell_len(line) for line in lines) <= 80
    assert "│" not in out and len(lines) == len(files) + 2
    # Names are whole where they fit (accents too), the ranks run 1..60.
    assert "Dwarf Avançado" in out
    assert [int(line.split()[0]) for line in lines[2:]] == list(range(1, len(files) + 1))


def test_ranking_cuts_long_names_with_an_ellipsis():
    from rich.cells import cell_len

    from primordium.cli.corewar import ranking_lines

    long = "An Extraordinarily Long Warrior Name That Goes On And On"
    results = {
        "rounds": 3,
        "ranking": [1, 0],
        "warriors": [
            {
                "name": long,
                "author": "Somebody With A Very Long Name Indeed",
                "score": 3,
                "wins": 1,
                "losses": 2,
                "ties": 0,
            },
            {"name": "[RS] Imp 漢字", "author": "A", "score": 6, "wins": 2, "losses": 1, "ties": 0},
        ],
    }
    lines = ranking_lines(results)
    assert all(cell_len(line) <= 80 for line in lines)
    assert "An Extraordinarily Long" in lines[3] and "…" in lines[3]
    assert "[RS] Imp 漢字" in lines[2]
    narrow = ranking_lines(results, width=50)
    assert all(cell_len(line) <= 50 for line in narrow)


def test_tournament_csv_and_save(cli, tmp_path, store_home):
    import csv

    files = [str(builtin_path(n)) for n in ("imp", "dwarf", "scanner")]
    csv_path = tmp_path / "pairs.csv"
    code, out, err = cli(
        "corewar",
        "tournament",
        *files,
        "-r",
        "4",
        "--seed",
        "2",
        "--out",
        csv_path,
        "--save",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == 6  # every ordered pair
    by_pair = {(r["warrior"], r["opponent"]): r for r in rows}
    names = data["warriors"]
    for r in data["results"]:
        row = by_pair[(names[r["a"]], names[r["b"]])]
        assert (int(row["wins"]), int(row["losses"]), int(row["ties"])) == (
            r["wins"],
            r["losses"],
            r["ties"],
        )
        back = by_pair[(names[r["b"]], names[r["a"]])]
        assert int(back["wins"]) == r["losses"]
    assert [r["file"] for r in rows[::2]] == [files[i] for i in data["ranking"]]
    # --save: the same tournament as a run, with its heat map and matrix.
    run_dir = next((store_home / "runs").glob(f"*{data['run']}*"))
    for name in ("results.json", "results.png", "results.csv", "config.json"):
        assert (run_dir / name).is_file(), name
    saved = json.loads((run_dir / "results.json").read_text())
    assert [w["score"] for w in saved["warriors"]] == data["scores"]
    # Without --save: the same numbers (same seed), nothing new in the store.
    code, out2, _ = cli("corewar", "tournament", *files, "-r", "4", "--seed", "2", "--json")
    assert json.loads(out2)["results"] == data["results"]


def test_tournament_unwritable_out_is_one_line(cli, tmp_path):
    imp, dwarf = str(builtin_path("imp")), str(builtin_path("dwarf"))
    for bad in (tmp_path / "no" / "such" / "dir.csv", tmp_path):
        code, out, err = cli("corewar", "tournament", imp, dwarf, "-r", "1", "--out", bad)
        assert code == 2 and out == ""
        assert len(err.strip().splitlines()) == 1 and str(bad) in err


def _all_command_paths():
    import typer

    from primordium.cli import build_app

    def walk(cmd, path):
        yield path
        for name, sub in getattr(cmd, "commands", {}).items():
            yield from walk(sub, (*path, name))

    return list(walk(typer.main.get_command(build_app()), ()))


def test_every_help_screen_fits_80_columns_without_stray_artefacts(cli, monkeypatch):
    from rich.cells import cell_len

    monkeypatch.setenv("COLUMNS", "80")
    paths = _all_command_paths()
    assert ("corewar", "tournament") in paths and len(paths) > 20
    for args in paths:
        code, out, err = cli(*args, "--help")
        assert code == 0, (args, err)
        assert max(cell_len(line) for line in out.splitlines()) <= 80, args
        for junk in ("<bool>", "list[", "`"):
            assert junk not in out, (args, junk)
        if args == ("corewar", "battle"):
            for flag in ("-r", "-F", "-s", "-c", "-p", "-l", "-d", "-b"):
                assert f" {flag} " in out, flag
            assert "[default: 80000]" in out and "[default: 100]" in out
        if args == ("soup", "run"):  # bracketed defaults in help strings survive
            assert "Epochs to run [default:" in out and "16000]" in out
