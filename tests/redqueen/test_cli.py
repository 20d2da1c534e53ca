"""`primordium redqueen` as a user runs it: run, show, eval, compare, plot, resume after SIGKILL, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from primordium.store import Store
from tests.redqueen.conftest import SMALL_FLAGS, fingerprint, one_line_error


def test_run_show_plot_json(cli, store_home):
    code, out, err = cli(
        "redqueen",
        "run",
        *SMALL_FLAGS,
        "--rounds",
        "2",
        "--iterations",
        "6",
        "--seed",
        "3",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["status"] == "finished" and len(data["rounds"]) == 2
    assert all(Path(r["champion"]).is_file() for r in data["rounds"])
    assert data["stats"]["evaluated"] == 2 * (4 + 6)
    code, out, err = cli("redqueen", "show", data["run"][:24], "--json")
    assert code == 0, err
    shown = json.loads(out)
    assert shown["rounds"] == data["rounds"] and shown["config"]["seed"] == 3
    code, out, err = cli("redqueen", "show", data["run"])
    assert code == 0 and "champions" in out and "finished" in out
    code, out, err = cli("redqueen", "plot", data["run"], "--json")
    assert code == 0
    assert {Path(f).name for f in json.loads(out)["files"]} == {"fitness.png", "archives.png"}


def test_eval_against_human_warriors_and_compare(cli, store_home, warriors_dir, tmp_path):
    # The human warriors assume the standard core; keep it, shorten the battles.
    flags = [
        "--cycles",
        "2000",
        "--processes",
        "800",
        "--battle-rounds",
        "2",
        "--history",
        "2",
        "--n-init",
        "3",
        "--threshold",
        "10",
        "--rounds",
        "2",
        "--iterations",
        "2",
        "--operator",
        "offline",
    ]
    ids = []
    for seed in (1, 2):
        code, out, err = cli("redqueen", "run", *flags, "--seed", str(seed), "--json")
        assert code == 0, err
        ids.append(json.loads(out)["run"])
    code, out, err = cli(
        "redqueen", "eval", ids[0], "--against", str(warriors_dir), "--rounds", "4", "--json"
    )
    assert code == 0, err
    res = json.loads(out)
    assert [r["round"] for r in res["rounds"]] == [1, 2]
    n = res["opponents"]
    assert n + len(res["skipped"]) == len(list(warriors_dir.glob("*.red"))) and n >= 40
    for r in res["rounds"]:
        assert r["wins"] + r["ties"] + r["losses"] == n
        assert r["generality"] == pytest.approx((r["wins"] + r["ties"]) / n)
        assert set(r) >= {"round", "champion", "generality", "wins", "ties", "losses"}
    run = Store().open(ids[0])
    assert (run.dir / "eval.json").is_file() and (run.dir / "generality.png").is_file()
    # The card's headline: the latest champion and its generality.
    summary = run.summary
    assert summary["champion_generality"] == res["rounds"][-1]["generality"]
    assert isinstance(summary["champion"], str) and summary["champion"]
    code, out, err = cli(
        "redqueen", "eval", ids[0], "--against", str(warriors_dir), "--rounds", "4"
    )
    assert code == 0 and "generality" in out
    png = tmp_path / "conv.png"
    code, out, err = cli(
        "redqueen",
        "compare",
        *ids,
        "--against",
        str(warriors_dir),
        "--rounds",
        "2",
        "--json",
        "--out",
        str(png),
    )
    assert code == 0, err
    conv = json.loads(out)
    assert [r["runs"] for r in conv["rounds"]] == [2, 2] and conv["opponents"] == n
    assert 0 <= conv["rounds"][0]["genotype_distance"] <= 1 and png.is_file()


@pytest.mark.parametrize(
    "args,words",
    [
        (["run", "--descriptors", "spawned,color"], ["descriptors", "color"]),
        (["run", "--operator", "genius"], ["operator", "genius"]),
        (["run", "--p-new", "1.5"], ["p_new"]),
        (["show", "redqueen-nope"], ["no run"]),
        (["eval", "redqueen-nope", "--against", "."], ["no run"]),
        (["run", "--opponent", "no-such-warrior"], ["no-such-warrior"]),
        (["run", "--history", "some"], ["history", "'all'"]),
        (["run", "--max-tokens", "lots"], ["llm.max_tokens", "'none'"]),
        (["run", "--responses", "0"], ["responses"]),
        (["run", "--parent-text", "both"], ["llm.parent"]),
    ],
)
def test_bad_input_is_one_line_exit_2(cli, store_home, args, words):
    one_line_error(*cli("redqueen", *args), *words)


def test_bad_config_file_field(cli, store_home, tmp_path):
    bad = tmp_path / "drq.toml"
    bad.write_text("rounds = 3\n[core]\ncore_size = 'big'\n")
    one_line_error(*cli("redqueen", "run", "--config", str(bad)), "drq.toml", "core.core_size")
    bad.write_text("roundz = 3\n")
    one_line_error(*cli("redqueen", "run", "--config", str(bad)), "roundz")


def test_unreachable_llm_endpoint(cli, store_home):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    code, out, err = cli(
        "redqueen",
        "run",
        *SMALL_FLAGS,
        "--operator",
        "llm",
        "--base-url",
        f"http://127.0.0.1:{port}/v1",
        "--llm-retries",
        "1",
        "--rounds",
        "1",
        "--iterations",
        "1",
    )
    one_line_error(code, out, err, "cannot reach LLM endpoint", str(port))


def test_resume_flags_conflict(cli, store_home):
    one_line_error(*cli("redqueen", "run", "--resume", "x", "--rounds", "3"), "--resume", "rounds")


def test_sigkill_mid_round_then_resume_matches_uninterrupted(tmp_path):
    """A real `primordium redqueen run` killed with SIGKILL mid-round, resumed, equals a run never killed."""
    exe = [sys.executable, "-c", "from primordium.cli import main; main()"]
    flags = [
        "redqueen",
        "run",
        *SMALL_FLAGS,
        "--rounds",
        "3",
        "--iterations",
        "40",
        "--batch",
        "1",
        "--seed",
        "7",
        "--quiet",
    ]
    env_a = os.environ | {"PRIMORDIUM_HOME": str(tmp_path / "a")}
    env_b = os.environ | {"PRIMORDIUM_HOME": str(tmp_path / "b")}
    subprocess.run(exe + flags, env=env_a, check=True, timeout=300)

    proc = subprocess.Popen(exe + flags, env=env_b)
    runs = tmp_path / "b" / "runs"
    deadline = time.monotonic() + 240
    killed_at = None
    while time.monotonic() < deadline and proc.poll() is None:
        cand = list(runs.glob("*/candidates.jsonl")) if runs.exists() else []
        if cand:
            n = cand[0].read_bytes().count(b"\n")
            if n >= 4 + 40 + 4 + 10:  # into round 2's iterations
                proc.send_signal(signal.SIGKILL)
                killed_at = n
                break
        time.sleep(0.005)
    proc.wait(timeout=60)
    assert killed_at is not None, "the run finished before it could be killed; make it longer"
    assert proc.returncode == -signal.SIGKILL
    store_b = Store(tmp_path / "b")
    (info,) = store_b.list()
    assert info["status"] == "interrupted"
    assert not (
        runs / info["id"] / "rounds" / "round_003.json"
    ).exists()  # it really stopped mid-run
    subprocess.run(
        exe + ["redqueen", "run", "--resume", info["id"], "--quiet"],
        env=env_b,
        check=True,
        timeout=300,
    )

    store_a = Store(tmp_path / "a")
    (info_a,) = store_a.list()
    a = fingerprint(store_a.open(info_a["id"]))
    b = fingerprint(store_b.open(info["id"]))
    assert store_b.open(info["id"]).status == "finished"
    assert a[0] == b[0]  # every candidate, in order
    assert a[1] == b[1]  # every round's archive
    assert a[2] == b[2]  # every champion
    assert a[3] == b[3]  # every metric row


def test_placement_flag_and_config_field(cli, store_home, tmp_path):
    toml = tmp_path / "drq.toml"
    toml.write_text('placement = "pmars"\n')
    for extra, want in (
        (["--config", str(toml)], "pmars"),
        (["--placement", "drq"], "drq"),
        (["--config", str(toml), "--placement", "drq"], "drq"),
    ):
        code, out, err = cli(
            "redqueen", "run", *SMALL_FLAGS, "--rounds", "1", "--iterations", "2", *extra, "--json"
        )
        assert code == 0, err
        run_id = json.loads(out)["run"]
        code, out, err = cli("redqueen", "show", run_id, "--json")
        assert code == 0 and json.loads(out)["config"]["placement"] == want
    one_line_error(*cli("redqueen", "run", "--placement", "middle"), "placement", "middle")
    toml.write_text('placement = "middle"\n')
    one_line_error(
        *cli("redqueen", "run", "--config", str(toml)), "drq.toml", "placement", "middle"
    )


def test_eval_measures(cli, store_home, warriors_dir):
    """--measure drq (default: the DRQ code's scores) and pmars (W/L) on the same champions; bad values: one line."""
    flags = [
        "--cycles",
        "1000",
        "--processes",
        "800",
        "--battle-rounds",
        "2",
        "--history",
        "1",
        "--n-init",
        "2",
        "--threshold",
        "10",
        "--rounds",
        "1",
        "--iterations",
        "1",
        "--operator",
        "offline",
    ]
    code, out, err = cli("redqueen", "run", *flags, "--json")
    assert code == 0, err
    run_id = json.loads(out)["run"]
    code, out, err = cli(
        "redqueen", "eval", run_id, "--against", str(warriors_dir), "--rounds", "2", "--json"
    )
    assert code == 0, err
    drq = json.loads(out)
    assert drq["measure"] == "drq" and "seed" not in drq
    n = drq["opponents"]
    (row,) = drq["rounds"]
    assert len(row["scores"]) == n == len(drq["opponent_files"])
    assert row["wins"] == sum(a > b for a, b in row["scores"]) and row["ties"] == sum(
        a == b for a, b in row["scores"]
    )
    assert row["score"] == pytest.approx(sum(a for a, _ in row["scores"]) / n)
    code, out, err = cli(
        "redqueen",
        "eval",
        run_id,
        "--against",
        str(warriors_dir),
        "--rounds",
        "2",
        "--measure",
        "pmars",
        "--seed",
        "4",
        "--json",
    )
    assert code == 0, err
    pm = json.loads(out)
    assert pm["measure"] == "pmars" and pm["seed"] == 4 and "scores" not in pm["rounds"][0]
    assert pm["rounds"][0]["wins"] + pm["rounds"][0]["ties"] + pm["rounds"][0]["losses"] == n
    one_line_error(
        *cli("redqueen", "eval", run_id, "--against", str(warriors_dir), "--measure", "elo"),
        "measure",
        "elo",
    )
    one_line_error(
        *cli("redqueen", "eval", run_id, "--against", str(warriors_dir), "--seed", "3"), "--seed"
    )
