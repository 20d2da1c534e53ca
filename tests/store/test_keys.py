"""Each engine's key summary and the bookkeeping rule, and `runs list` showing them at 80 columns."""

from __future__ import annotations

import pytest

from primordium.cli import main
from primordium.store import Store
from primordium.store.keys import SUMMARY_KEYS, is_bookkeeping, key_summary, numeric_columns


def test_declared_keys_come_first_in_declared_order():
    summary = {"a": 1, "epochs": 64, "high_order_entropy": 2.5, "transition_epoch": None}
    assert key_summary("soup", summary) == [("transition_epoch", None), ("high_order_entropy", 2.5)]
    drq = {"best": 0.75, "champion_generality": 0.4, "champions": 3, "round": 3, "rounds": 4}
    assert key_summary("redqueen", drq) == [
        ("champion_generality", 0.4),
        ("best", 0.75),
        ("round", 3),
    ]
    assert key_summary("corewar", {"champion": "Imp", "champion_score": 30, "rounds": 9}) == [
        ("champion", "Imp"),
        ("champion_score", 30),
    ]
    assert key_summary("asal", {"best_score": -0.5, "gens": 4, "best": {"x": 1}}) == [
        ("best_score", -0.5),
        ("best", "…"),
        ("gens", 4),
    ]


def test_without_declared_keys_a_run_shows_its_first_plain_values():
    summary = {"a": None, "b": [1], "c": 1, "d": "x", "e": 2.0, "f": 3}
    assert key_summary("someday", summary) == [("c", 1), ("d", "x"), ("e", 2.0)]
    assert key_summary("soup", {"lang": "bff"}) == [("lang", "bff")]
    assert key_summary("soup", {}) == []
    assert set(SUMMARY_KEYS) == {"soup", "redqueen", "asal", "corewar", "learn"}


@pytest.mark.parametrize(
    "name",
    ["step", "epoch", "epochs", "round", "iteration", "gen", "generation", "time", "elapsed",
     "seconds", "mops", "total_ops", "pairs_done", "seeds_done", "wall_s", "prompt_tokens",
     "llm_calls", "x.iteration"],
)  # fmt: skip
def test_counters_clocks_and_tallies_are_bookkeeping(name):
    assert is_bookkeeping(name)


@pytest.mark.parametrize(
    "name",
    ["high_order_entropy", "h0", "brotli_bits_per_byte", "ops_per_tape", "best", "best_score",
     "fitness", "archive", "descriptors.coverage", "generality", "transitioned", "loss"],
)  # fmt: skip
def test_science_is_not_bookkeeping(name):
    assert not is_bookkeeping(name)


def test_numeric_columns_flatten_one_level_and_skip_flags_and_text():
    row = {
        "step": 3,
        "initial": True,
        "kind": "round",
        "x": 1.5,
        "d": {"c": 2, "n": "s", "f": False},
    }
    assert numeric_columns(row) == {"step": 3, "x": 1.5, "d.c": 2}


def test_runs_list_fits_80_columns_with_name_engine_status_and_key_summary(
    capsys, store_home, monkeypatch
):
    monkeypatch.setenv("COLUMNS", "80")
    s = Store(store_home)
    soup = s.create("soup", {}, name="a soup whose name is far too long for one narrow column")
    soup.update_summary(epochs=64, high_order_entropy=2.3456789, transition_epoch=None, ops=9)
    soup.set_status("finished")
    cw = s.create("corewar", {}, name="classic")
    cw.update_summary(champion="Avançado, a champion with a very long name indeed", rounds=9)
    cw.set_status("finished")
    drq = s.create("redqueen", {}, name="drq")
    drq.update_summary(best=0.875, round=2, llm_calls=0)
    s.close()
    try:
        main(["runs", "list"])
    except SystemExit as e:
        assert e.code in (0, None)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert max(len(line.rstrip()) for line in lines) <= 80, out
    text = " ".join(out.split())
    for run in (soup, cw, drq):
        assert any(line.startswith(run.id + " ") for line in lines), out  # ids are never cut
    assert "transition_epoch=none" in text and "high_order_entropy=2.346" in text
    assert "champion=Avançado" in text and "…" in text  # a long value is cut, not wrapped
    assert "best=0.875" in text and "round=2" in text and "llm_calls" not in text
    assert "classic" in text and "finished" in text and "redqueen" in text
