"""Shared fixtures: the pMARS oracle and the human warriors in ../shared."""

from __future__ import annotations

import atexit
import fcntl
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest


def pytest_xdist_auto_num_workers(config):
    """`-n auto`: one worker more than there are cores (at most 4, `--maxprocesses`).

    Many tests wait on something other than this process (pMARS, cubff, CLI
    subprocesses, local servers, SIGKILL-and-resume runs), so a core would idle
    under one worker each. Measured on the 2-core machine, cold caches: 2
    workers 638 s, 3 workers 573 s for the same suite.
    """
    return (os.cpu_count() or 1) + 1


# Test files whose expensive module or session fixtures (the gallery's store
# of real runs and Chromium, a two-node Ray cluster) must be built by one
# worker only: each file here is sent whole to the worker that runs its group.
# xdist's own `xdist_group` marker cannot do this under pytest 9 (it rewrites
# a node id attribute pytest no longer reads, so every test stayed its own
# unit and three workers each built the gallery's store).
ONE_WORKER = {
    "tests/web/test_gallery_api.py": "web",
    "tests/web/test_gallery_browser.py": "web",
    "tests/exec/test_ray.py": "ray",
}


def pytest_xdist_make_scheduler(config, log):
    """`--dist loadgroup`: tests balanced one by one, except the files in ONE_WORKER."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class OneWorkerGroups(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return ONE_WORKER.get(nodeid.split("::", 1)[0], nodeid)

    return OneWorkerGroups(config, log)


REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("PRIMORDIUM_SHARED", REPO.parent / "shared"))

# One JAX compilation cache for the session, set before any test imports JAX:
# many tests (and the CLI processes they start) compile the same programs, and
# XLA's compile is most of their time on CPU. Compiled code is the same either
# way, so results do not change. A user's own setting wins.
#
# The xdist workers share it, without a size limit. A limit would make JAX
# lock the folder and, on every write, list and stat every entry to find what
# to evict: measured 38 s of one 135 s test file, and the suite writes
# thousands of entries. Without the lock a reader can meet an entry another
# process is still writing; entries are zlib streams, whose end marker and
# checksum make a partial one fail to decompress, and JAX then warns and
# compiles the program itself.
if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
    os.environ["JAX_COMPILATION_CACHE_DIR"] = tempfile.mkdtemp(prefix="primordium-jax-cache-")
    atexit.register(shutil.rmtree, os.environ["JAX_COMPILATION_CACHE_DIR"], True)
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0")
    os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES", "-1")


# XLA's LLVM back end without its optimisation passes: the tests' programs are
# tiny, so compiling them is nearly all of their cost, and this halves it
# (measured: the ASAL substrate and reference tests, 203 s of CPU -> 121 s).
# XLA's own graph passes (fusion, layout) are unchanged, and the reference code
# the exactness tests compare with compiles under the same flag; users' runs
# keep XLA's default.
os.environ.setdefault("XLA_FLAGS", "--xla_backend_optimization_level=0")


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    if not SHARED.is_dir():
        pytest.fail(f"../shared not found at {SHARED} (set PRIMORDIUM_SHARED)")
    return SHARED


@pytest.fixture(scope="session")
def warriors_dir(shared_dir: Path) -> Path:
    return shared_dir / "corewar" / "warriors"


@pytest.fixture(scope="session")
def human_warriors(warriors_dir: Path) -> list[Path]:
    files = sorted(warriors_dir.glob("*.red"))
    assert len(files) >= 50, f"expected the human warriors in {warriors_dir}"
    return files


def _oracle(script: Path, tmp_path_factory) -> str:
    """Run an oracle script (it builds the oracle once, then prints where it is).

    Under xdist every worker may ask at once; the scripts copy their build into
    the cache without a lock, so the workers take turns on a lock file in the
    folder they share (the parent of each worker's basetemp).
    """
    lock = tmp_path_factory.getbasetemp().parent / f"{script.name}.lock"
    with open(lock, "w") as f:
        fcntl.flock(f, fcntl.LOCK_EX)
        return subprocess.run(
            ["bash", str(script)], check=True, capture_output=True, text=True
        ).stdout.strip()


@pytest.fixture(scope="session")
def pmars(shared_dir: Path, tmp_path_factory) -> str:
    """Path of the reference pMARS binary (built once by the oracle script)."""
    path = os.environ.get("PMARS") or _oracle(
        shared_dir / "tools" / "pmars-oracle", tmp_path_factory
    )
    assert Path(path).is_file(), f"pMARS oracle not found at {path}"
    return path


@pytest.fixture(scope="session")
def cubff_dir(shared_dir: Path, tmp_path_factory) -> Path:
    """cubff's build (its `main` and one `eval_<lang>` per language): $CUBFF, or built
    once by ../shared/tools/cubff-oracle. Missing is a failure, never a skip."""
    path = os.environ.get("CUBFF") or _oracle(
        shared_dir / "tools" / "cubff-oracle", tmp_path_factory
    )
    folder = Path(path)
    assert (folder / "main").is_file() and (folder / "eval_bff").is_file(), (
        f"cubff oracle not found at {folder}"
    )
    return folder


@pytest.fixture
def store_home(tmp_path, monkeypatch) -> Path:
    """A fresh PRIMORDIUM_HOME for tests that write runs."""
    home = tmp_path / "home"
    monkeypatch.setenv("PRIMORDIUM_HOME", str(home))
    return home


@pytest.fixture
def cli(capsys):
    """Run `primordium ARGS...` in-process, as a user would; returns (exit code, stdout, stderr)."""
    from primordium.cli import main

    def run(*args: str) -> tuple[int, str, str]:
        try:
            main([str(a) for a in args])
            code = 0
        except SystemExit as e:
            code = e.code or 0
        out = capsys.readouterr()
        return code, out.out, out.err

    return run


# PRIMORDIUM_TEST_CPU_LOG=FILE: one JSON line per test with its wall time and the
# CPU seconds it used (this process's threads and the children it waited for).
# CPU time barely moves with the machine's load, so it ranks tests by what they
# cost when wall times are too noisy to compare (a loaded 2-core machine).
_CPU_LOG = os.environ.get("PRIMORDIUM_TEST_CPU_LOG")

if _CPU_LOG:
    import json
    import resource
    import time

    def _cpu() -> tuple[float, float]:
        own = resource.getrusage(resource.RUSAGE_SELF)
        kids = resource.getrusage(resource.RUSAGE_CHILDREN)
        return own.ru_utime + own.ru_stime, kids.ru_utime + kids.ru_stime

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_protocol(item, nextitem):
        (own0, kids0), t0 = _cpu(), time.perf_counter()
        yield
        (own1, kids1), t1 = _cpu(), time.perf_counter()
        row = {
            "test": item.nodeid,
            "wall": round(t1 - t0, 3),
            "cpu": round(own1 - own0, 3),
            "children": round(kids1 - kids0, 3),
            "worker": os.environ.get("PYTEST_XDIST_WORKER", "main"),
        }
        with open(_CPU_LOG, "a") as f:  # one short append per line: workers do not interleave
            f.write(json.dumps(row) + "\n")
