"""`primordium quickstart`: short runs into a fresh store, then the command that opens the gallery."""

from __future__ import annotations

import json

import pytest

from primordium.cli import main
from primordium.store import Store


def run_cli(capsys, *argv: str) -> tuple[int, str, str]:
    try:
        main(list(argv))
        code = 0
    except SystemExit as e:
        code = e.code if isinstance(e.code, int) else 1
    out, err = capsys.readouterr()
    return code, out, err


def test_quickstart_corewar(capsys, store_home):
    code, out, err = run_cli(capsys, "quickstart", "--only", "corewar")
    assert code == 0, err
    assert "[1/1] Core War" in err and "done in" in err  # progress as it goes
    assert "primordium serve" in out and "http://127.0.0.1:8765/" in out
    runs = Store(store_home, create=False).list()
    assert [(r["engine"], r["status"]) for r in runs] == [("corewar", "finished")]
    run = Store(store_home).open(runs[0]["id"])
    files = {f["path"] for f in run.files()}
    assert {
        "results.json",
        "results.png",
        "replay.gif",
        "warriors/imp.red",
        "warriors/dwarf.red",
    } <= files
    results = json.loads((run.dir / "results.json").read_text())
    assert len(results["warriors"]) == 4 and results["rounds"] == 100
    # Round robin bookkeeping: i's wins against j are j's losses against i; each pair fought 100 rounds.
    w, lost, t = results["wins"], results["losses"], results["ties"]
    for i in range(4):
        for j in range(4):
            if i != j:
                assert w[i][j] == lost[j][i] and w[i][j] + lost[i][j] + t[i][j] == 100
    assert runs[0]["summary"]["champion"] == results["warriors"][results["ranking"][0]]["name"]


def test_corewar_experiment_same_seed_same_results(tmp_path):
    from primordium.corewar.experiment import run_tournament

    results = []
    for k in range(2):
        run, _ = run_tournament(Store(tmp_path / str(k)), rounds=30, seed=7, replay=False)
        results.append((run.dir / "results.json").read_bytes())
    other, _ = run_tournament(Store(tmp_path / "other"), rounds=30, seed=8, replay=False)
    assert results[0] == results[1] != (other.dir / "results.json").read_bytes()


def test_quickstart_bad_only_is_one_line_exit_2(capsys, store_home):
    code, _, err = run_cli(capsys, "quickstart", "--only", "corewar,chess")
    assert code == 2 and err.count("\n") == 1 and "--only" in err


@pytest.mark.slow
def test_quickstart_every_engine(capsys, store_home):
    from primordium.cli.quickstart import available

    code, out, err = run_cli(capsys, "quickstart", "--json")
    assert code == 0, err
    data = json.loads(out)
    assert data["failed"] == []
    assert [r["engine"] for r in data["runs"]] == list(available())
    assert {"corewar", "soup"} <= {r["engine"] for r in data["runs"]}
    assert data["seconds"] < 600
    store = Store(store_home, create=False)
    for row in store.list():
        run = store.open(row["id"])
        assert row["status"] == "finished" and run.problems() == []
        assert any(f["path"].endswith((".png", ".gif", ".mp4")) for f in run.files()), row["engine"]
