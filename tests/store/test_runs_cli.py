"""`primordium runs ...` and `primordium serve` bad input: one line on stderr, exit code 2."""

from __future__ import annotations

import json
import socket
import tarfile

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


@pytest.fixture
def store(store_home):
    s = Store(store_home)
    a = s.create("corewar", {"rounds": 10}, name="alpha")
    a.log(1, score=3)
    a.write_text("warriors/imp.red", ";name Imp\nmov 0, 1\n")
    a.update_summary(champion="Imp")
    a.set_status("finished")
    b = s.create("soup", {"lang": "bff"}, name="beta")
    b.set_status("failed")
    yield s
    s.close()


def test_list_json_and_filters(capsys, store):
    code, out, _ = run_cli(capsys, "runs", "list", "--json")
    rows = json.loads(out)
    assert code == 0 and {r["name"] for r in rows} == {"alpha", "beta"}
    code, out, _ = run_cli(capsys, "runs", "list", "--engine", "corewar", "--json")
    assert [r["name"] for r in json.loads(out)] == ["alpha"]
    code, out, _ = run_cli(capsys, "runs", "list", "--status", "failed", "--json")
    assert [r["name"] for r in json.loads(out)] == ["beta"]
    code, out, _ = run_cli(capsys, "runs", "list")
    assert code == 0 and "corewar" in out and "failed" in out


def test_show(capsys, store):
    rid = store.list(engine="corewar")[0]["id"]
    code, out, _ = run_cli(capsys, "runs", "show", rid[:12], "--json", "--metrics")
    info = json.loads(out)
    assert code == 0 and info["id"] == rid and info["summary"] == {"champion": "Imp"}
    assert info["metrics"] == [{"step": 1, "score": 3}] and info["last_metrics"] == {
        "step": 1,
        "score": 3,
    }
    assert {f["path"] for f in info["files"]} == {"config.json", "warriors/imp.red"}
    code, out, _ = run_cli(capsys, "runs", "show", rid)
    assert code == 0 and "alpha" in out and "warriors/imp.red" in out


@pytest.mark.parametrize(
    "argv",
    [
        ["runs", "show", "nope"],
        ["runs", "rm", "nope", "--yes"],
        ["runs", "export", "nope"],
        ["runs", "path", "nope"],
    ],
)
def test_unknown_run_is_one_line_exit_2(capsys, store, argv):
    code, out, err = run_cli(capsys, *argv)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and "no run 'nope'" in err


def test_ambiguous_prefix_is_one_line_exit_2(capsys, store):
    code, _, err = run_cli(capsys, "runs", "show", "")
    assert code == 2 and "ambiguous" in err and err.count("\n") == 1


def test_a_folder_that_is_not_a_store(capsys, tmp_path):
    for home in (tmp_path, tmp_path / "missing"):
        for argv in (["runs", "list"], ["serve"]):
            code, out, err = run_cli(capsys, *argv, "--home", str(home))
            assert code == 2 and err.count("\n") == 1 and err.startswith("error: "), (argv, err)
    (tmp_path / "primordium.db").write_bytes(b"garbage" * 1000)
    code, _, err = run_cli(capsys, "runs", "list", "--home", str(tmp_path))
    assert code == 2 and "not a primordium store index" in err
    assert not (tmp_path / "runs").exists() or not any((tmp_path / "runs").iterdir())


def test_rm(capsys, store, monkeypatch):
    rid = store.list(engine="soup")[0]["id"]
    run_dir = store.open(rid).dir
    # No terminal to ask and no --yes: refuse, keep everything.
    monkeypatch.setattr("sys.stdin.isatty", lambda: False)
    code, _, err = run_cli(capsys, "runs", "rm", rid)
    assert code == 2 and "--yes" in err and run_dir.is_dir()
    code, out, _ = run_cli(capsys, "runs", "rm", rid, "--yes", "--json")
    assert code == 0 and json.loads(out) == {"removed": [rid]}
    assert not run_dir.exists() and rid not in {r["id"] for r in store.list()}


def test_rm_refuses_a_running_run(capsys, store):
    live = store.create("soup", {})  # this process is alive: the run is running
    code, _, err = run_cli(capsys, "runs", "rm", live.id, "--yes")
    assert code == 2 and "is running" in err and live.dir.is_dir()
    code, _, _ = run_cli(capsys, "runs", "rm", live.id, "--yes", "--force")
    assert code == 0 and not live.dir.exists()


def test_export(capsys, store, tmp_path):
    rid = store.list(engine="corewar")[0]["id"]
    dest = tmp_path / "alpha.tar.gz"
    code, out, _ = run_cli(capsys, "runs", "export", rid, "-o", str(dest), "--json")
    assert code == 0 and json.loads(out)["archive"] == str(dest)
    with tarfile.open(dest) as t:
        names = set(t.getnames())
    assert {
        f"{rid}/config.json",
        f"{rid}/metrics.jsonl",
        f"{rid}/run.json",
        f"{rid}/warriors/imp.red",
    } <= names
    code, _, err = run_cli(capsys, "runs", "export", rid, "-o", str(tmp_path / "x.7z"))
    assert code == 2 and "unknown archive type" in err


def test_serve_port_in_use_is_one_line_exit_2(capsys, store):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        port = s.getsockname()[1]
        code, out, err = run_cli(capsys, "serve", "--port", str(port))
    assert code == 2 and err.count("\n") == 1 and f"port {port}" in err and "in use" in err


def test_serve_bad_host_and_port(capsys, store):
    code, _, err = run_cli(capsys, "serve", "--port", "70000")
    assert code == 2 and "not a port" in err
    code, _, err = run_cli(capsys, "serve", "--host", "no.such.host.invalid")
    assert code == 2 and err.count("\n") == 1 and "--host" in err
