"""The gallery's HTTP side, byte for byte: paths sent exactly as written, hosts, JSON, errors."""

from __future__ import annotations

import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import types
from pathlib import Path

import pytest

from primordium.store import Store

# One worker builds the gallery's store (session fixture, real runs of every
# engine) once: ONE_WORKER in tests/conftest.py.


def _get(server, path: str, host: str | None = None) -> tuple[int, dict, bytes]:
    """A GET with the path exactly as given (no client-side normalisation of '..')."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    try:
        conn.putrequest("GET", path, skip_host=True)
        conn.putheader("Host", host or f"127.0.0.1:{server.port}")
        conn.endheaders()
        r = conn.getresponse()
        return r.status, dict(r.getheaders()), r.read()
    finally:
        conn.close()


@pytest.mark.parametrize(
    "tail",
    [
        "../../primordium.db",
        "..%2F..%2Fprimordium.db",
        "%2e%2e/%2e%2e/primordium.db",
        "..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2f..%2fetc/passwd",
        "/etc/passwd",
        "%2Fetc%2Fpasswd",
    ],
)
def test_traversal_refused_as_sent(server, gallery_store, tail):
    _, ids = gallery_store
    status, headers, body = _get(server, f"/files/{ids['corewar']}/{tail}")
    assert status in (403, 404), (status, body[:100])
    assert b"SQLite format" not in body and b"root:" not in body
    assert json.loads(body)["error"]


def test_traversal_through_the_run_id_refused(server, gallery_store):
    status, _, body = _get(server, "/files/..%2F..%2F/primordium.db")
    assert status in (403, 404) and b"SQLite" not in body


def test_symlink_out_of_a_run_refused(server, gallery_store, tmp_path):
    home, ids = gallery_store
    secret = tmp_path / "secret.txt"
    secret.write_text("do not serve")
    link = home / "runs" / ids["poster"] / "escape.txt"
    link.symlink_to(secret)
    try:
        status, _, body = _get(server, f"/files/{ids['poster']}/escape.txt")
    finally:
        link.unlink()
    assert status == 403 and b"do not serve" not in body


def test_files_inside_a_run_are_served_with_safe_types(server, gallery_store):
    home, ids = gallery_store
    status, headers, body = _get(server, f"/files/{ids['corewar']}/results.png")
    run_dir = home / "runs" / ids["corewar"]
    assert status == 200 and body == (run_dir / "results.png").read_bytes()
    assert headers["content-type"] == "image/png" and headers["x-content-type-options"] == "nosniff"
    status, headers, body = _get(server, f"/files/{ids['corewar']}/warriors/imp.red")
    assert (
        status == 200 and headers["content-type"].startswith("text/plain") and b";name Imp" in body
    )
    # Anything that is not a known safe type downloads instead of rendering in the gallery's origin.
    status, headers, _ = _get(server, f"/files/{ids['soup']}/checkpoint.npz")
    assert status == 200 and headers["content-type"] == "application/octet-stream"
    assert headers["content-disposition"].startswith("attachment")
    assert "script-src 'self'" in headers["content-security-policy"]


def test_other_hosts_are_refused(server):
    # A page elsewhere that rebinds its name to 127.0.0.1 still sends its own Host header.
    status, _, _ = _get(server, "/api/runs", host="evil.example")
    assert status == 400
    assert _get(server, "/api/runs", host=f"localhost:{server.port}")[0] == 200


def test_api_lists_runs_and_reports_problems(server, gallery_store):
    _, ids = gallery_store
    status, _, body = _get(server, "/api/runs")
    data = json.loads(body)
    assert status == 200
    by_id = {r["id"]: r for r in data["runs"]}
    assert by_id[ids["corewar"]]["thumbnail"] == "results.png"
    assert by_id[ids["soup"]]["thumbnail"] == "soup.png"
    assert by_id[ids["gone"]]["problems"] and not by_id[ids["corewar"]]["problems"]
    status, _, body = _get(server, f"/api/runs/{ids['garbage']}")
    assert status == 200 and "damaged config.json (not JSON" in json.loads(body)["problems"][0]
    status, _, body = _get(server, "/api/runs/soup-nope")
    assert status == 404 and "no run 'soup-nope'" in json.loads(body)["error"]
    # URLs name runs exactly: a prefix that the CLI would accept is not a page.
    assert _get(server, f"/api/runs/{ids['corewar'][:-2]}")[0] == 404


def test_non_finite_metrics_become_null(server, gallery_store):
    home, _ = gallery_store
    store = Store(home)
    run = store.create("soup", {}, name="nan metrics")
    run.log(0, x=1.0)
    run.log(1, x=float("nan"), y=float("inf"))
    run.set_status("finished")
    try:
        status, _, body = _get(server, f"/api/runs/{run.id}/metrics")
    finally:
        store.remove(run.id)
        store.close()
    assert status == 200
    rows = json.loads(body)["rows"]
    assert rows == [{"step": 0, "x": 1.0}, {"step": 1, "x": None, "y": None}]


def test_unknown_paths_are_json_404_not_tracebacks(server):
    for path in ("/nope", "/static/../app.py", "/static/%2e%2e%2fapp.py", "/api/runs/x/y/z"):
        status, headers, body = _get(server, path)
        assert status == 404, path
        assert b"Traceback" not in body and headers["content-type"] == "application/json"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_serve_command_serves_the_store(gallery_store):
    """`primordium serve` itself, as a user starts it, answering on loopback."""
    home, ids = gallery_store
    port = _free_port()
    exe = Path(sys.executable).with_name("primordium")
    proc = subprocess.Popen(
        [str(exe), "serve", "--port", str(port), "--home", str(home)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                conn.request("GET", "/api/runs")
                r = conn.getresponse()
                data = json.loads(r.read())
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(
                        f"serve did not start: {proc.communicate(timeout=5)}"
                    ) from None
                time.sleep(0.2)
        assert ids["corewar"] in {r["id"] for r in data["runs"]}
        conn.request("GET", "/")
        page = conn.getresponse().read()
        assert b"primordium gallery" in page
    finally:
        proc.terminate()
        out, err = proc.communicate(timeout=15)
    assert f"http://127.0.0.1:{port}/" in err


def test_a_corrupt_metric_row_is_a_clear_message(server, gallery_store):
    home, _ = gallery_store
    store = Store(home)
    run = store.create("soup", {}, name="bad metrics")
    run.log(3, x=1)
    store._db.execute("UPDATE metrics SET data='{bad' WHERE run_id=?", (run.id,))
    run.set_status("finished")
    try:
        status, _, body = _get(server, f"/api/runs/{run.id}/metrics")
    finally:
        store.remove(run.id)
        store.close()
    assert status == 422
    assert (
        json.loads(body)["error"] == f"run {run.id}: the metric row at step 3 is damaged "
        "(not JSON: Expecting property name enclosed in double quotes)"
    )


# -- issue 13: the gallery's edges, on a small store of their own (fast: no engine runs) --


@pytest.fixture(scope="module")
def edges(tmp_path_factory):
    """A hand-made store served by the real server: one plain run, one whose folder is a symlink."""
    from tests.web.conftest import Server

    root = tmp_path_factory.mktemp("edges")
    home = root / "home"
    store = Store(home)
    plain = store.create("soup", {}, name="plain")
    plain.write_text("notes.txt", "inside")
    plain.log(0, x=1.0)
    plain.set_status("finished")
    (plain.dir / "loop").symlink_to(plain.dir / "loop")  # a link to itself
    linked = store.create("soup", {}, name="linked folder")
    linked.set_status("finished")
    outside = root / "outside"
    outside.mkdir()
    (outside / "secret.txt").write_text("do not serve")
    (outside / "config.json").write_text("{}")
    shutil.rmtree(linked.dir)
    linked.dir.symlink_to(outside)  # the run folder itself points out of the store
    ids = {"plain": plain.id, "linked": linked.id}
    store.close()
    ids["home"] = str(home)
    with Server(home) as s:
        yield s, ids


def test_a_symlinked_run_folder_serves_nothing_outside_the_store(edges):
    server, ids = edges
    for path in (f"/files/{ids['linked']}/secret.txt", f"/files/{ids['linked']}/config.json"):
        status, _, body = _get(server, path)
        assert status == 403 and b"do not serve" not in body, (path, status, body)
    status, _, body = _get(server, f"/api/runs/{ids['linked']}")
    info = json.loads(body)
    assert status == 200 and info["files"] == [] and "symbolic link" in info["problems"][0]
    assert b"secret.txt" not in body
    assert _get(server, f"/files/{ids['plain']}/notes.txt")[2] == b"inside"


@pytest.mark.parametrize(
    ("tail", "expected"),
    [
        ("notes%00.txt", 400),  # NUL
        ("a" * 5000, 400),  # a name too long for the file system
        ("/".join(["b" * 200] * 30), 404),  # longer than PATH_MAX: its first part is not there
        ("loop", 403),  # a symlink loop
        ("loop/x", 403),
    ],
)
def test_bad_file_paths_are_refused_not_500(edges, tail, expected):
    server, ids = edges
    status, headers, body = _get(server, f"/files/{ids['plain']}/{tail}")
    assert status == expected, (tail[:30], status, body[:200])
    assert headers["content-type"] == "application/json" and json.loads(body)["error"]


def test_bad_static_names_are_404(edges):
    server, _ = edges
    for name in ("a" * 5000, "app.js%00", "%00"):
        status, headers, body = _get(server, f"/static/{name}")
        assert status == 404 and json.loads(body)["error"], (name[:20], status, body[:100])


@pytest.mark.parametrize(
    "since",
    ["99999999999999999999:0", "-1:0", "1:1e999", "1:nan", "x:y", "1:2:3", "%00"],
)
def test_bad_metric_cursors_are_400(edges, since):
    server, ids = edges
    status, _, body = _get(server, f"/api/runs/{ids['plain']}/metrics?since={since}")
    assert status == 400 and "cursor" in json.loads(body)["error"], (since, status, body)
    status, _, body = _get(server, f"/api/runs/{ids['plain']}/metrics")
    assert status == 200 and json.loads(body)["rows"] == [{"step": 0, "x": 1.0}]


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.1", True),
        ("127.0.0.2", True),
        ("2130706433", True),  # 127.0.0.1 as one number, as inet_aton reads it
        ("localhost", True),
        ("::1", True),
        ("[::1]", True),
        ("0.0.0.0", False),
        ("::", False),
        ("192.0.2.1", False),
        ("no such host.invalid", False),
    ],
)
def test_loopback_is_what_the_host_resolves_to(host, loopback):
    from primordium.cli.serve import _is_loopback

    assert _is_loopback(host) is loopback


def test_serve_on_127_1_keeps_the_host_check_and_no_warning(edges):
    """`serve --host 127.1`: loopback, so no public-bind warning, and DNS rebinding still refused."""
    home = edges[1]["home"]
    port = _free_port()
    exe = Path(sys.executable).with_name("primordium")
    proc = subprocess.Popen(
        [str(exe), "serve", "--host", "127.1", "--port", str(port), "--home", home],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )

    at = types.SimpleNamespace(port=port)
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                status = _get(at, "/api/runs", host=f"127.1:{port}")[0]
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise AssertionError(
                        f"serve did not start: {proc.communicate(timeout=5)}"
                    ) from None
                time.sleep(0.2)
        assert status == 200
        assert _get(at, "/api/runs", host="evil.example")[0] == 400
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
    assert "warning" not in err and f"http://127.1:{port}/" in err


# -- issue 15: comparing runs, key summaries, the newest picture of a running run --


@pytest.fixture(scope="module")
def compared(tmp_path_factory):
    """Hand-made runs with rows shaped like the engines' (counters, clocks, nested numbers)."""
    from tests.web.conftest import Server

    home = tmp_path_factory.mktemp("compare") / "home"
    store = Store(home)
    a = store.create("soup", {}, name="soup a")
    for e in range(5):
        a.log(e * 10, epoch=e * 10, elapsed=2.0 - 0.1 * e, high_order_entropy=0.5 * e, h0=7.0)
    a.update_summary(epochs=40, transition_epoch=None, high_order_entropy=2.0, seconds=1.5)
    a.set_status("finished")
    b = store.create("soup", {}, name="soup b")
    for e in range(3):
        b.log(e * 10, epoch=e * 10, elapsed=float(e), high_order_entropy=1.0 + e, h0=6.0)
    b.log(30, epoch=30, elapsed=3.0, high_order_entropy=float("nan"))
    b.update_summary(transition_epoch=20, high_order_entropy=3.0)
    b.set_status("finished")
    d = store.create("redqueen", {}, name="drq")
    d.log(0, kind="round", round=1, fitness=0.5, descriptors={"coverage": 0.25, "name": "x"})
    d.log(1, kind="round", round=2, fitness=0.75, descriptors={"coverage": 0.5})
    d.update_summary(round=2, rounds=2, best=0.75, champions=2, proposed=9)
    d.set_status("finished")
    live = store.create("asal", {}, name="live search")  # our pid: it reads as running
    live.write_bytes("scores.png", _png_bytes(8))
    old = time.time() - 100
    os.utime(live.artifact("scores.png"), (old, old))
    live.write_bytes("best_so_far.png", _png_bytes(16))
    ids = {"a": a.id, "b": b.id, "drq": d.id, "live": live.id}
    with Server(home) as s:
        yield s, ids
    store.close()


def _png_bytes(side: int) -> bytes:
    import io

    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (side, side), (10, 120, 200)).save(buf, format="PNG")
    return buf.getvalue()


def _api(server, path: str) -> tuple[int, dict]:
    status, _, body = _get(server, path)
    return status, json.loads(body)


def test_compare_overlays_one_metric_per_run(compared):
    server, ids = compared
    status, data = _api(server, f"/api/compare?runs={ids['a']},{ids['b']}")
    assert status == 200 and data["x"] == "step"
    # The soup's declared key is the default (not h0, first in the alphabet); counters and
    # clocks are marked.
    assert data["metric"] == "high_order_entropy"
    cols = {c["name"]: c for c in data["columns"]}
    assert {k for k, c in cols.items() if c["bookkeeping"]} == {"step", "epoch", "elapsed"}
    assert cols["high_order_entropy"] == {
        "name": "high_order_entropy",
        "bookkeeping": False,
        "runs": 2,
    }
    a, b = data["runs"]
    assert (a["id"], a["name"], a["engine"]) == (ids["a"], "soup a", "soup")
    assert a["xs"] == [0, 10, 20, 30, 40] and a["ys"] == [0.0, 0.5, 1.0, 1.5, 2.0]
    assert b["xs"] == [0, 10, 20] and b["ys"] == [1.0, 2.0, 3.0]  # the NaN row is a gap
    # Any numeric column is an x-axis; the points follow it (run a's clock runs backwards here).
    status, data = _api(server, f"/api/compare?runs={ids['a']},{ids['b']}&x=elapsed")
    assert status == 200 and data["runs"][0]["xs"] == [1.6, 1.7, 1.8, 1.9, 2.0]
    assert data["runs"][0]["ys"] == [2.0, 1.5, 1.0, 0.5, 0.0]
    # A bookkeeping series can be charted when asked for by name.
    status, data = _api(server, f"/api/compare?runs={ids['a']}&metric=epoch&x=elapsed")
    assert status == 200 and data["runs"][0]["ys"] == [40, 30, 20, 10, 0]


def test_compare_reads_nested_numbers_and_runs_without_the_metric(compared):
    server, ids = compared
    status, data = _api(
        server, f"/api/compare?runs={ids['drq']},{ids['a']}&metric=descriptors.coverage&x=round"
    )
    assert status == 200
    assert data["runs"][0]["xs"] == [1, 2] and data["runs"][0]["ys"] == [0.25, 0.5]
    assert data["runs"][1]["xs"] == [] and data["runs"][1]["ys"] == []
    cols = {c["name"]: c for c in data["columns"]}
    assert cols["descriptors.coverage"]["runs"] == 1 and cols["round"]["bookkeeping"]
    assert "kind" not in cols and "descriptors.name" not in cols  # strings are not series


@pytest.mark.parametrize(
    "query, status, words",
    [
        ("", 400, "runs: give one or more run ids"),
        ("?runs=,,", 400, "runs: give one or more run ids"),
        ("?runs={a},soup-nosuch", 404, "no run 'soup-nosuch'"),
        ("?runs={a_prefix}", 404, "no run"),
        ("?runs={a}&metric=nosuch", 400, "metric: no run here has a metric 'nosuch'"),
        ("?runs={a}&x=nosuch", 400, "x: no run here has a metric 'nosuch'"),
        ("?runs=" + ",".join(f"r{i}" for i in range(13)), 400, "at most 12"),
    ],
)
def test_compare_bad_input_is_4xx(compared, query, status, words):
    server, ids = compared
    q = query.format(a=ids["a"], a_prefix=ids["a"][:-3])
    got, data = _api(server, "/api/compare" + q)
    assert got == status and words in data["error"], (got, data)


def test_compare_a_damaged_metric_row_is_422(compared):
    server, ids = compared
    store = Store(_home(server, ids))
    run = store.create("soup", {}, name="bad metrics")
    run.log(3, x=1)
    store._db.execute("UPDATE metrics SET data='{bad' WHERE run_id=?", (run.id,))
    run.set_status("finished")
    try:
        got, data = _api(server, f"/api/compare?runs={ids['a']},{run.id}")
    finally:
        store.remove(run.id)
        store.close()
    assert got == 422 and "the metric row at step 3 is damaged" in data["error"]


def _home(server, ids) -> Path:
    return Path(_api(server, f"/api/runs/{ids['a']}")[1]["home"])


def test_cards_carry_each_engines_key_summary(compared):
    server, ids = compared
    status, data = _api(server, "/api/runs")
    by_id = {r["id"]: r for r in data["runs"]}
    # Declared keys first (a soup with no transition says so), not the alphabet's first four.
    assert by_id[ids["a"]]["key_summary"] == [
        ["transition_epoch", None],
        ["high_order_entropy", 2.0],
    ]
    assert by_id[ids["b"]]["key_summary"] == [["transition_epoch", 20], ["high_order_entropy", 3.0]]
    assert by_id[ids["drq"]]["key_summary"] == [["best", 0.75], ["round", 2]]
    status, info = _api(server, f"/api/runs/{ids['drq']}")
    assert info["key_summary"] == [["best", 0.75], ["round", 2]]


def test_real_engine_runs_show_their_declared_keys(server, gallery_store):
    _, ids = gallery_store
    by_id = {r["id"]: r for r in _api(server, "/api/runs")[1]["runs"]}
    keys = {e: [k for k, _ in by_id[ids[e]]["key_summary"]] for e in ids if ids[e] in by_id}
    assert keys["corewar"] == ["champion", "champion_score"]
    assert keys["soup"][0] == "transition_epoch"
    if "asal" in ids:
        assert keys["asal"][0] == "best_score"
    if "redqueen" in ids:
        assert keys["redqueen"][0] in ("champion", "champion_generality", "best")


def test_a_running_run_shows_its_newest_picture(compared):
    server, ids = compared
    by_id = {r["id"]: r for r in _api(server, "/api/runs")[1]["runs"]}
    live = by_id[ids["live"]]
    # Not the best-named picture (scores.png) but the one written last, stamped with its time.
    assert live["status"] == "running" and live["thumbnail"] == "best_so_far.png"
    folder = _home(server, ids) / "runs" / ids["live"]
    assert live["thumbnail_mtime"] == (folder / "best_so_far.png").stat().st_mtime
    info = _api(server, f"/api/runs/{ids['live']}")[1]
    assert info["latest_picture"]["path"] == "best_so_far.png"


def test_metrics_name_their_bookkeeping_columns(compared):
    server, ids = compared
    status, data = _api(server, f"/api/runs/{ids['a']}/metrics")
    assert status == 200 and data["bookkeeping"] == ["elapsed", "epoch", "step"]
