"""scripts/soup_transition_study.py: one criterion read the same way from both engines' logs."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "soup_transition_study.py"


@pytest.fixture(scope="module")
def study():
    spec = importlib.util.spec_from_file_location("soup_transition_study", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_crossing_is_the_first_row_below_the_threshold(study, tmp_path):
    log = tmp_path / "log.csv"
    # 4 programs of 64 bytes = 256 bytes: bits per byte = brotli_size / 32.
    log.write_text(
        "epoch,brotli_size,soup_size,higher_entropy\n"
        "1,260,4,0.0\n17,140,4,3.0\n33,120,4,3.5\n49,300,4,0.0\n"
    )
    assert study.crossing(log, 4.0, 64) == (33, 49, 3.75)
    assert study.crossing(log, 2.0, 64) == (None, 49, 3.75)


def test_table_counts_only_seeds_both_engines_finished(study, tmp_path, capsys):
    rows = [
        {
            "engine": e,
            "lang": "forth",
            "programs": 64,
            "seed": s,
            "epochs": 32,
            "every": 16,
            "bpb": 4.0,
            "transition_epoch": t,
        }
        for e, s, t in (
            ("cubff", 1, 17),
            ("cubff", 2, None),
            ("primordium", 1, None),
            ("primordium", 3, 33),
        )
    ]
    (tmp_path / "results.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    study.cmd_table(type("Args", (), {"out": str(tmp_path)}))
    lines = capsys.readouterr().out.splitlines()
    assert "| cubff | forth | 64 | 1 | 32 | bpb < 4 (rows every 16) | 1/1 | 17 / 17 / 17 |" in lines
    assert "| primordium | forth | 64 | 1 | 32 | bpb < 4 (rows every 16) | 0/1 | - |" in lines


def test_both_engines_log_the_same_epochs(study, tmp_path, cubff_dir, monkeypatch):
    """A tiny study: cubff's --max_epochs ends at its first row past the cap; primordium runs to that same row."""
    monkeypatch.setenv("CUBFF", str(cubff_dir))
    jobs = [
        {
            "engine": e,
            "lang": "forthtrivial",
            "programs": 64,
            "seed": 3,
            "epochs": 40,
            "every": 16,
            "bpb": 4.0,
        }
        for e in ("cubff", "primordium")
    ]
    results = [study.run_job(j) for j in jobs]
    for r in results:
        epochs = [int(line.split(",")[0]) for line in r["log"].splitlines()[1:]]
        assert epochs == [1, 17, 33, 49], (r["engine"], epochs)
        assert r["min_bpb"] > 7.5  # 49 epochs of a random soup: nothing compresses


def test_rank_sum_is_mann_whitneys(study):
    """Against scipy.stats.mannwhitneyu(a, b, method="asymptotic", use_continuity=False): p = 0.1275377 here
    (runs that never crossed tie beyond the cap)."""
    inf = float("inf")
    z, p = study.rank_sum([2977, 2193, 4049, 1585, inf, 3000], [1489, 929, 2305, 1601, inf, 900])
    assert abs(p - 0.12753770929748698) < 1e-9 and z > 0
    assert study.rank_sum([1, 2], [1, 2]) == (0.0, 1.0)
