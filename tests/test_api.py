"""The Python API as a notebook sees it: names on results, short reprs, pandas frames, bars."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from primordium.corewar import Settings, assemble_file, battle, builtin_path, tournament
from primordium.corewar.battle import BattleResults, Tournament
from primordium.progress import Bar, bar
from primordium.redqueen.archive import Archive, Elite
from primordium.store import Store

SMALL = Settings(rounds=6, cycles=2000)
SRC = Path(__file__).resolve().parents[1] / "src"


@pytest.fixture(scope="module")
def warriors():
    return [assemble_file(builtin_path(n), SMALL) for n in ("imp", "dwarf", "imp")]


def test_battle_carries_names_a_short_repr_and_its_numbers_as_a_frame(warriors):
    assert repr(warriors[1]).startswith("Warrior('Dwarf' by ") and len(repr(warriors[1])) < 120
    res = battle(warriors[:2], SMALL, seed=1)
    assert res.names == ("Imp", "Dwarf")
    text = repr(res)
    assert len(text) < 200 and "Imp, Dwarf" in text and "\n" not in text
    assert f"wins {res.wins()[0].tolist()}" in text
    df = res.to_pandas()
    assert list(df.columns) == ["battle", "warrior", "wins", "ties", "losses", "score"]
    assert df["warrior"].tolist() == ["Imp", "Dwarf"]
    for col, got in [("wins", res.wins()), ("ties", res.ties()), ("losses", res.losses())]:
        assert df[col].tolist() == got[0].tolist()
    assert df["score"].tolist() == res.scores()[0].tolist()
    # Many battles of a pool carry no names (each row may hold other warriors) and stay short.
    many = BattleResults(*(np.zeros((40, 100, 2), t) for t in (bool, int, int, int, int, int)))
    assert many.names == () and len(repr(many)) < 80
    assert many.to_pandas()["warrior"].tolist()[:2] == ["warrior 1", "warrior 2"]


def test_tournament_ranking_and_pairs_equal_its_matrices(warriors):
    t = tournament(warriors, SMALL, seed=2)
    assert t.names == ("Imp", "Dwarf", "Imp")
    assert len(repr(t)) < 200 and "Dwarf" in repr(t)
    rank = t.to_pandas()
    assert list(rank.columns) == ["warrior", "wins", "ties", "losses", "score"]
    assert sorted(rank["score"].tolist(), reverse=True) == rank["score"].tolist()
    assert sorted(rank["score"]) == sorted(t.scores().tolist())
    assert rank["wins"].sum() == t.wins.sum() and rank["ties"].sum() == t.ties.sum()
    pairs = t.to_pandas(pairs=True)
    assert len(pairs) == 6
    row = pairs[(pairs.warrior == "Dwarf") & (pairs.index == 2)].iloc[0]
    assert (row.wins, row.ties, row.losses) == (t.wins[1, 0], t.ties[1, 0], t.losses[1, 0])
    names = tuple(f"a warrior with a long name {i}" for i in range(60))
    big = Tournament(*(np.zeros((60, 60), np.int64) for _ in range(3)), names)
    assert len(repr(big)) < 200 and "more" in repr(big)


def test_store_run_reprs_and_metrics_frame(tmp_path):
    store = Store(tmp_path)
    assert repr(store) == f"Store({str(tmp_path)!r})"
    run = store.create("soup", {"x": 1}, name="a test run")
    for step in range(3):
        run.log(step, loss=1.0 / (step + 1), kind="gen")
    text = repr(run)
    assert text.startswith(f"Run({run.id!r}") and "'soup'" in text and "'a test run'" in text
    assert len(text) < 200
    runs = store.to_pandas()
    assert runs["id"].tolist() == [run.id] and runs["name"].tolist() == ["a test run"]
    df = run.to_pandas()
    assert list(df.columns) == ["step", "kind", "loss"]
    assert df.to_dict("records") == run.metrics()
    store.remove(run.id)
    assert "removed" in repr(run)


def test_elites_hide_their_source_and_archives_say_their_best():
    e = Elite(7, 0.5, (1, 2), {"spawned": 3.0}, "MOV 0, 1\n" * 500, name="imp", reply="x" * 5000)
    a = Archive(("spawned", "coverage"))
    a.place(e)
    assert len(repr(e)) < 200 and "'imp'" in repr(e)
    assert repr(a) == "Archive(1 elites over spawned x coverage; best #7 'imp' fitness 0.5)"


def test_to_pandas_without_pandas_is_one_line_naming_the_extra():
    # pandas blocked on import, as an install without the extra would lack it.
    code = textwrap.dedent(
        """
        import sys
        import numpy as np

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "pandas" or name.startswith("pandas."):
                    raise ImportError("blocked for the test")

        sys.meta_path.insert(0, Block())
        from primordium.corewar.battle import Tournament
        from primordium.errors import PrimordiumError

        t = Tournament(*(np.zeros((2, 2), np.int64) for _ in range(3)), ("a", "b"))
        print(repr(t))
        try:
            t.to_pandas()
        except PrimordiumError as e:
            print("ERROR", e)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={"PYTHONPATH": str(SRC), "PATH": "/usr/bin:/bin"},
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("Tournament(2 warriors")
    assert lines[1] == (
        "ERROR to_pandas needs the 'pandas' extra: pip install 'primordium[pandas]'"
    )


def test_bar_text_and_feeders_off_a_terminal():
    with bar("soup", where="none") as b:
        b.soup({"epoch": 512, "target": 2048, "high_order_entropy": 3.25, "transition_epoch": None})
        assert b.text().startswith("soup  [#####...............]  512/2048  H 3.250")
        assert "eta" in b.text()
        b.soup({"epoch": 2048, "target": 2048, "high_order_entropy": 1.5, "transition_epoch": 900})
        assert "2048/2048  H 1.500, transition at 900" in b.text()
    d = Bar("drq", total=10, where="none")
    d.drq({"round": 2, "iteration": 3, "best": 0.75, "completed": 7})
    assert "7/10  round 2, best 0.750" in d.text()
    s = Bar("search", total=3, where="none")
    s.search([{"gen": 0, "best_score": 2.0}, {"gen": 1, "best_score": 1.0}])
    assert "2/3  best 1.0000" in s.text()
    t = Bar("pairs", total=6, where="none")
    t.chunks(4)
    t.chunks(2)
    assert t.completed == 6
    assert '<progress value="6" max="6"' in t._repr_html_()
