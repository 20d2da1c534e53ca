"""The Ray executor against a real Ray cluster on 127.0.0.1: a head and a worker node.

The cluster is started with `ray start`, as a user would, and at the end its own
processes (found by a marker in their environment) are stopped, no others.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import ray  # noqa: E402 (the ray extra: `make test` installs it; missing fails)
import tasks

from primordium.corewar import Settings, assemble_file, builtin_warriors  # noqa: E402
from primordium.corewar.battle import tournament  # noqa: E402
from primordium.exec import get_executor  # noqa: E402

RAY = str(Path(sys.executable).parent / "ray")

# One worker starts the test cluster (module fixture) and runs every test on it
# (ONE_WORKER in tests/conftest.py): split across xdist workers, each would
# start its own two nodes.


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _ray(*args: str, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([RAY, *args], capture_output=True, text=True, timeout=180, env=env)


def _marked(marker: str) -> list[int]:
    """Pids of the processes whose environment carries ``marker``: this cluster's, no one else's."""
    needle = f"PRIMORDIUM_TEST_RAY={marker}".encode()
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit() or int(d.name) == os.getpid():
            continue
        try:
            if needle in (d / "environ").read_bytes().split(b"\0"):
                pids.append(int(d.name))
        except OSError:
            continue  # gone, or not ours to read
    return pids


def _stop(marker: str) -> None:
    """Stop the nodes this fixture started (never `ray stop`, which stops every cluster here)."""
    for sig, wait in ((signal.SIGTERM, 10.0), (signal.SIGKILL, 5.0)):
        for pid in _marked(marker):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.time() + wait
        while _marked(marker) and time.time() < deadline:
            time.sleep(0.2)
    assert not _marked(marker), "the test cluster's processes outlived SIGKILL"


@pytest.fixture(scope="module")
def cluster():
    port = _free_port()
    env = dict(os.environ)
    # Every process of this cluster inherits the marker, so teardown finds exactly them.
    marker = env["PRIMORDIUM_TEST_RAY"] = secrets.token_hex(8)
    # Workers must import the test task module too.
    env["PYTHONPATH"] = os.pathsep.join(
        [str(Path(tasks.__file__).parent), env.get("PYTHONPATH", "")]
    )
    env["RAY_USAGE_STATS_ENABLED"] = "0"
    # The nodes themselves are pinned to loopback by --node-ip-address; the
    # drivers' loopback switch (conftest) would refuse a second node here.
    env.pop("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", None)
    common = ["--num-cpus=1", "--object-store-memory=100000000", "--disable-usage-stats"]
    head = _ray(
        "start",
        "--head",
        "--node-ip-address=127.0.0.1",
        f"--port={port}",
        "--include-dashboard=false",
        *common,
        env=env,
    )
    address = f"127.0.0.1:{port}"
    try:
        assert head.returncode == 0, head.stderr[-2000:]
        worker = _ray(
            "start", f"--address={address}", "--node-ip-address=127.0.0.1", *common, env=env
        )
        assert worker.returncode == 0, worker.stderr[-2000:]
        deadline = time.time() + 60
        probe = [
            sys.executable,
            "-c",
            f"import ray; ray.init(address='{address}', logging_level='ERROR'); print(len([n for n in ray.nodes() if n['Alive']]))",
        ]
        while True:
            r = subprocess.run(probe, capture_output=True, text=True, env=env)
            if r.stdout.strip() == "2" or time.time() > deadline:
                break
            time.sleep(1)
        assert r.stdout.strip() == "2", r.stderr[-2000:]
        # The drivers (this process, the CLI it starts) import the task module too;
        # the change ends with the module's tests.
        with pytest.MonkeyPatch.context() as mp:
            mp.setenv("PYTHONPATH", env["PYTHONPATH"])
            yield address
    finally:
        if ray.is_initialized():
            ray.shutdown()
        _stop(marker)


def test_ray_map_matches_local(cluster):
    items = list(range(12))
    ex = get_executor("ray", address=cluster)
    try:
        assert ex.workers == 2
        done = []
        out = ex.map(tasks.square, items, on_done=lambda i, r: done.append(i))
    finally:
        ex.close()
    assert out == [x * x for x in items]
    assert sorted(done) == items


def test_tournament_on_ray_equals_local(cluster):
    s = Settings(rounds=6)
    ws = [assemble_file(p, s) for p in builtin_warriors().values()]
    ref = tournament(ws, s, seed=9)
    ex = get_executor("ray", address=cluster)
    try:
        got = tournament(ws, s, seed=9, executor=ex)
    finally:
        ex.close()
    assert np.array_equal(ref.wins, got.wins) and np.array_equal(ref.losses, got.losses)


def test_a_worker_killed_mid_task_is_survived(cluster, tmp_path):
    items = [(k, str(tmp_path)) for k in range(4)]
    ex = get_executor("ray", address=cluster)
    try:
        out = ex.map(tasks.die_once, items)
    finally:
        ex.close()
    assert out == [k + 100 for k in range(4)]
    assert len(list(tmp_path.glob("attempt-*"))) == 4


def test_cli_tournament_on_ray(cluster, tmp_path):
    files = [str(p) for p in builtin_warriors().values()]
    exe = str(Path(sys.executable).parent / "primordium")
    base = [exe, "corewar", "tournament", *files, "--rounds", "4", "--seed", "2", "--json"]
    local = subprocess.run(base, capture_output=True, text=True, timeout=300)
    remote = subprocess.run(
        base + ["--executor", "ray", "--address", cluster],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert local.returncode == 0 and remote.returncode == 0, remote.stderr[-2000:]
    assert local.stdout == remote.stdout


def test_unreachable_cluster_is_one_line_exit_2():
    exe = str(Path(sys.executable).parent / "primordium")
    files = [str(p) for p in builtin_warriors().values()]
    port = _free_port()
    r = subprocess.run(
        [
            exe,
            "corewar",
            "tournament",
            *files,
            "--executor",
            "ray",
            "--address",
            f"127.0.0.1:{port}",
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert r.returncode == 2, r.stderr[-2000:]
    assert len(r.stderr.strip().splitlines()) == 1 and "Traceback" not in r.stderr


def test_drq_on_ray_equals_local(cluster, tmp_path):
    from primordium.redqueen.config import CoreConfig, DRQConfig
    from primordium.redqueen.loop import candidates, run_drq
    from primordium.store import Store

    core = CoreConfig(core_size=800, cycles=1500, processes=200, length=20, distance=20)
    cfg = DRQConfig(
        seed=1,
        rounds=2,
        iterations=6,
        history=2,
        n_init=3,
        battle_rounds=4,
        batch=2,
        threshold=10.0,
        operator="offline",
        core=core,
    ).validate()
    store = Store(tmp_path / "home")
    ref = [c["fitness"] for c in candidates(run_drq(store, cfg))]
    ex = get_executor("ray", address=cluster)
    try:
        got = [c["fitness"] for c in candidates(run_drq(store, cfg, executor=ex))]
    finally:
        ex.close()
    assert ref == got and len(ref) > 0


def test_soup_sweep_on_ray_equals_local(cluster, tmp_path):
    from primordium.soup.soup import SoupConfig
    from primordium.soup.sweep import run_sweep
    from primordium.store import Store

    cfg = SoupConfig(programs=256, max_steps=1024)
    store = Store(tmp_path / "home")
    _, ref = run_sweep(store, cfg, [0, 1, 2, 3], epochs=32, log_every=16)
    ex = get_executor("ray", address=cluster)
    try:
        _, got = run_sweep(store, cfg, [0, 1, 2, 3], epochs=32, log_every=16, executor=ex)
    finally:
        ex.close()
    assert ref == got


def test_asal_population_on_ray_equals_local(cluster, tmp_path):
    from primordium.asal.config import AsalConfig
    from primordium.asal.experiment import run_search, search_result
    from primordium.store import Store

    cfg = dict(
        substrate="life_like",
        substrate_options={"grid": 16},
        mode="open-endedness",
        fm="pixels",
        pop=6,
        gens=2,
        seed=5,
        steps=16,
        frames=4,
        size=16,
        sigma=0.5,
    )
    store = Store(tmp_path / "home")
    ref = search_result(run_search(AsalConfig(**cfg), store))
    ex = get_executor("ray", address=cluster)
    try:
        got = search_result(run_search(AsalConfig(**cfg), store, executor=ex))
    finally:
        ex.close()
    # Same frames; the in-graph pixels embedding is compiled per batch size, so
    # a split population may differ from the whole one in the last bit.
    assert len(got["history"]) == len(ref["history"])
    for a, b in zip(got["history"], ref["history"], strict=False):
        assert a == pytest.approx(b, rel=1e-5, abs=1e-6)
    np.testing.assert_allclose(
        got["best_params"]["rule"], ref["best_params"]["rule"], rtol=1e-5, atol=1e-6
    )
