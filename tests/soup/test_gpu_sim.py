"""The soup's GPU path (soup/gpu.py) against the CPU path and against cubff, without a GPU.

numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``) runs the kernels as
Python threads; it must be chosen before ``numba.cuda`` is first imported, so
every simulated check runs in a child process (``_sim``). The simulator is
slow, so the soups are small. Under the simulator the run kernel's local
tape is a numpy array, so the CPU-compiled ``run_tape`` (the one definition
both paths share) runs on it; that the same function compiles for a real
GPU is checked by compiling every language's kernel to PTX for sm_90 with
CUDA's libnvvm (slow, and skipped where no CUDA toolkit is installed).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from primordium.errors import ConfigError
from primordium.soup.gpu import check_memory, device_bytes_needed
from primordium.soup.languages import LANGUAGES
from primordium.soup.soup import SoupConfig

from .test_languages_cubff import TAPE, cubff_eval, tapes_for

REPO = Path(__file__).resolve().parents[2]
CLI = [sys.executable, "-c", "from primordium.cli import main; main()"]


def _sim(code: str, tmp_path: Path, *, sim: bool = True, timeout: int = 600) -> dict:
    """Run ``code`` in a child Python (simulator on); it leaves a JSON-able ``result``."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"))
    if sim:
        env["NUMBA_ENABLE_CUDASIM"] = "1"
    else:
        env.pop("NUMBA_ENABLE_CUDASIM", None)
    out = tmp_path / "result.json"
    wrapped = f"{code}\nimport json\nopen({str(out)!r}, 'w').write(json.dumps(result))\n"
    done = subprocess.run(
        [sys.executable, "-c", wrapped],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(out.read_text())


# The child's comparison: every epoch of each soup on the CPU (soup.epoch) and
# on the simulated device (GpuSoup), soup bytes and op counts.
EPOCHS_CODE = """
import numpy as np
from primordium.soup.gpu import GpuSoup
from primordium.soup.pattern import read_interactions
from primordium.soup.soup import SoupConfig, epoch, initial_soup
result = []
for kw in CASES:
    epochs = kw.pop("epochs")
    config = SoupConfig(**kw)
    inter = read_interactions(config.interactions, config.programs) if config.interactions else None
    cpu = initial_soup(config)
    gpu = GpuSoup(cpu, config)
    total = 0
    for e in range(epochs):
        cpu, ops, tapes = epoch(cpu, config, e, inter)
        gtapes = gpu.epoch(e, inter)
        total += ops
        result.append([kw["lang"], e, bool(np.array_equal(cpu, gpu.host())), total,
                       gpu.ops_through(e), tapes, gtapes])
"""


def _check_epochs(cases: list[dict], tmp_path: Path) -> None:
    rows = _sim(f"CASES = {cases!r}\n{EPOCHS_CODE}", tmp_path)
    assert len(rows) == sum(c["epochs"] for c in cases)
    for lang, e, same, ops, gops, tapes, gtapes in rows:
        assert same, f"{lang} epoch {e}: the GPU soup differs from the CPU soup"
        assert (ops, tapes) == (gops, gtapes), f"{lang} epoch {e}"
    # The soups did compute: a check over soups that never run proves nothing.
    assert sum(r[3] for r in rows) > 0


def test_gpu_epochs_equal_cpu_in_every_pairing(tmp_path):
    (tmp_path / "ring.txt").write_text("".join(f"{i} {(i + 1) % 32}\n" for i in range(32)))
    base = dict(programs=32, length=32, max_steps=1024, mutation=0.02, seed=5, epochs=2)
    cases = [
        dict(base, lang="bff_noheads"),
        dict(base, lang="forthtrivial_reset", pairing="cyclic"),
        dict(base, lang="subleq", pairing="fixed"),
        dict(base, lang="bff", grid=(8, 4), radius=1),
        dict(base, lang="forth", interactions=str(tmp_path / "ring.txt")),
    ]
    # cubff's draws (the shuffle and the mutation coins computed on the device) and numpy's (uploaded).
    _check_epochs([dict(c, draws=d) for d in ("cubff", "numpy") for c in cases], tmp_path)


def test_every_language_on_the_gpu_equals_the_cpu(tmp_path):
    cases = [
        dict(lang=lang, programs=16, length=16, max_steps=256, mutation=0.02, seed=1, epochs=2)
        for lang in sorted(LANGUAGES)
    ]
    _check_epochs(cases, tmp_path)


def test_gpu_tapes_equal_cubffs_eval(cubff_dir, tmp_path):
    """Each language's device kernel on 48 tapes: the final tapes and op counts of cubff's eval_<lang>."""
    tapes = {lang: tapes_for(lang, 48, seed=17) for lang in sorted(LANGUAGES)}
    np.savez(tmp_path / "tapes.npz", **tapes)
    code = f"""
import numpy as np
from primordium.soup.gpu import run_tapes_device
from primordium.soup.languages import LANGUAGES
tapes = dict(np.load({str(tmp_path / "tapes.npz")!r}))
result = {{}}
for lang, t in tapes.items():
    ops = run_tapes_device(LANGUAGES[lang].id, t, 8192)
    result[lang] = [t.tobytes().hex(), ops.tolist()]
"""
    got = _sim(code, tmp_path)
    for lang, t in tapes.items():
        want_tapes, want_ops = cubff_eval(cubff_dir, lang, t, 8192)
        gpu_tapes = np.frombuffer(bytes.fromhex(got[lang][0]), dtype=np.uint8).reshape(-1, TAPE)
        assert np.array_equal(gpu_tapes, want_tapes), lang
        assert np.array_equal(np.array(got[lang][1]), want_ops), lang


RUN_CODE = """
import numpy as np
from primordium.soup.experiment import Schedule, run_soup
from primordium.soup.soup import SoupConfig
from primordium.store import Store
from primordium.store import load_checkpoint
# 34 programs: a reset (as cubff's) leaves the last 34 mod 32 = 2 alone, read from the device.
config = SoupConfig(programs=34, length=32, max_steps=512, mutation=0.01, seed=2, reset_interval=3)
schedule = Schedule(epochs=4, log_every=2, checkpoint_every=2, save_every=2, snapshot_every=2)
result = {}
for device in ("cpu", "gpu"):
    run, res = run_soup(Store(device), config, schedule, device=device, pictures=False)
    # Half on this device, the rest resumed on the other one.
    run2, _ = run_soup(Store(device), config, schedule, epochs=2, device=device, pictures=False)
    other = "cpu" if device == "gpu" else "gpu"
    _, res2 = run_soup(Store(device), resume=run2.id, epochs=4, device=other, pictures=False)
    arrays, state = load_checkpoint(run.dir / "checkpoint.npz")
    arrays2, _ = load_checkpoint(run2.dir / "checkpoint.npz")
    result[device] = dict(
        soup=arrays["soup"].tobytes().hex(),
        resumed=arrays2["soup"].tobytes().hex(),
        dat=(run.dir / "checkpoints" / "0000000004.dat").read_bytes().hex(),
        ops=res["ops"], ops2=res2["ops"], log=(run.dir / "log.csv").read_text(),
    )
from primordium.soup.sweep import soup_task
small = SoupConfig(programs=16, length=16, max_steps=256, mutation=0.02, seed=4).to_dict()
result["sweep"] = [soup_task((small, 4, 2, None, device)) for device in ("cpu", "gpu")]
"""


def test_a_gpu_run_its_resume_and_a_sweep_equal_the_cpu(tmp_path):
    got = _sim(RUN_CODE, tmp_path)
    cpu, gpu = got["cpu"], got["gpu"]
    assert cpu["ops"] > 0
    for key in ("soup", "dat", "ops", "log"):
        assert cpu[key] == gpu[key], key
    # A run moves between devices mid-way and ends where the uninterrupted one does.
    assert cpu["resumed"] == gpu["resumed"] == cpu["soup"]
    # A sweep's soup (soup_task) gives the same curve on either device.
    sweep_cpu, sweep_gpu = got["sweep"]
    assert sweep_cpu["ops"] > 0 and len(sweep_cpu["curve"]) == 2
    assert sweep_cpu == sweep_gpu


def test_device_gpu_without_a_gpu_is_one_line_and_exit_2(tmp_path):
    """This machine (and CI) has no CUDA driver: the real check, not a simulated one."""
    env = dict(os.environ, PYTHONPATH=str(REPO / "src"), PRIMORDIUM_HOME=str(tmp_path))
    env.pop("NUMBA_ENABLE_CUDASIM", None)
    probe = subprocess.run(
        [sys.executable, "-c", "from numba import cuda; print(cuda.is_available())"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    if probe.stdout.strip() == "True":
        pytest.skip("a CUDA device is present here")
    for cmd in (
        ["run", "--programs", "16", "--epochs", "1"],
        ["sweep", "--programs", "16", "--epochs", "1", "--seeds", "0"],
    ):
        done = subprocess.run(
            [*CLI, "soup", *cmd, "--device", "gpu"],
            env=env,
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 2, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "no usable CUDA device" in lines[0], done.stderr
    assert not any((tmp_path / "runs").glob("*")), "a refused run leaves nothing behind"
    # auto falls back to the CPU and runs.
    done = subprocess.run(
        [*CLI, "soup", "run", "--programs", "16"] + ["--epochs", "1", "--device", "auto", "--json"],
        env=env,
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["epochs"] == 1


def test_too_little_gpu_memory_is_refused():
    config = SoupConfig(programs=2**17, length=64)
    need = device_bytes_needed(config)
    assert need > 3 * 2**17 * 64
    check_memory(config, free=need)
    with pytest.raises(ConfigError, match="MiB of GPU memory"):
        check_memory(config, free=need - 1)


PTX_CODE = """
import shutil
import numba.cuda.dispatcher as dispatcher
from numba import cuda, types
from primordium.soup.gpu import _kernels, _movers
from primordium.soup.languages import LANGUAGES

class SM90:  # no GPU here: tell numba which one to compile the called functions for
    compute_capability = (9, 0)

dispatcher.get_current_device = lambda: SM90()
sig = (types.uint8[:, ::1], types.int64, types.int64[::1], types.int64[::1])
# The cubff-draws kernel: soup, new soup, order, pairs that run, epoch stream, coin threshold,
# step budget, op total.
cubff_sig = (types.uint8[:, ::1],) * 2 + (types.int64[::1], types.int64, types.uint64) + (
    types.int64, types.int64, types.int64[::1])
result = {}
for name in LANGS:
    run_all, run_cubff = _kernels(LANGUAGES[name].id, 128)
    ptx, _ = cuda.compile_ptx(run_all.py_func, sig, cc=(9, 0))
    result[name] = ".target sm_90" in ptx
    if name == "bff_noheads":
        # The cubff-draws kernel's own code (gather, hashed coins, scatter, counter) does not
        # depend on the language, whose run_tape the kernel above compiles: one language is
        # enough, and each compilation takes minutes on 2 busy cores.
        ptx, _ = cuda.compile_ptx(run_cubff.py_func, cubff_sig, cc=(9, 0))
        result["cubff draws"] = ".target sm_90" in ptx
for mover in _movers():
    cuda.compile_ptx(mover.py_func, ARGS[mover.__name__], cc=(9, 0))
"""


def _nvvm() -> bool:
    home = os.environ.get("CUDA_HOME", "/usr/local/cuda")
    return any(Path(home).glob("**/libnvvm.so*")) if Path(home).is_dir() else False


@pytest.mark.slow
@pytest.mark.timeout(3000)  # as long as the child it waits for: 14 kernels compile for minutes
@pytest.mark.skipif(not _nvvm(), reason="no CUDA toolkit (libnvvm) to compile PTX with")
def test_every_language_kernel_compiles_for_sm90(tmp_path):
    args = {
        "gather_perm": "(types.uint8[:, ::1], types.int64[::1], types.uint8[:, ::1])",
        "write_bytes": "(types.uint8[::1], types.int64[::1], types.uint8[::1])",
        "gather_pairs": "(types.uint8[:, ::1],) + (types.int64[::1],) * 2 + (types.uint8[:, ::1],)",
        "scatter_pairs": "(types.uint8[:, ::1],) + (types.int64[::1],) * 2 + (types.uint8[:, ::1],)",
        "copy": "(types.uint8[::1], types.uint8[::1])",
        "shuffle_draws": "(types.uint64, types.uint64, types.int64[::1], types.int64[::1])",
        "shuffle_swaps": "(types.int64[::1], types.int64[::1])",
        "mark": "(types.int64[::1], types.int64[::1], types.int64)",
    }
    args_code = "ARGS = {" + ", ".join(f"{k!r}: {v}" for k, v in args.items()) + "}\n"
    code = f"LANGS = {sorted(LANGUAGES)!r}\n" + PTX_CODE.replace(
        "result = {}", args_code + "result = {}"
    )
    got = _sim(code, tmp_path, sim=False, timeout=3000)
    assert got == {name: True for name in [*LANGUAGES, "cubff draws"]}


QUIET_CODE = """
import numpy as np
from primordium.soup import gpu as g
from primordium.soup.soup import SoupConfig, epoch, initial_soup
config = SoupConfig(programs=32, length=16, max_steps=256, mutation=0.02, seed=5)
held = g.GpuSoup(initial_soup(config), config)
moves = []
array = type(held._d)
for name in ("copy_to_host", "copy_to_device"):
    def spy(self, *a, _name=name, _f=getattr(array, name), **k):
        moves.append(_name)
        return _f(self, *a, **k)
    setattr(array, name, spy)
to_device = g.cuda.to_device
g.cuda.to_device = lambda *a, **k: moves.append("to_device") or to_device(*a, **k)
for e in range(3):
    held.epoch(e)
during = list(moves)
ops = held.ops_through(2)
cpu, total = initial_soup(config), 0
for e in range(3):
    cpu, k, _ = epoch(cpu, config, e)
    total += k
result = dict(during=during, after=moves[len(during):], same=[ops == total, bool(
    np.array_equal(held.host(), cpu))], ops=total)
"""


def test_a_shuffled_gpu_epoch_moves_nothing_between_host_and_device(tmp_path):
    """With cubff's draws a shuffled soup's epochs upload nothing and read nothing back: the op
    count is read once, when asked, and equals the CPU's."""
    got = _sim(QUIET_CODE, tmp_path)
    assert got["during"] == [], got["during"]
    assert got["after"] == ["copy_to_host"] and got["same"] == [True, True] and got["ops"] > 0
