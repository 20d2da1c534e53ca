"""LifeGPT trains: it learns Life on a tiny torus, repeats itself from a seed, and a run
killed with SIGKILL resumes onto the curve of one that never stopped."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch  # the learn extra: missing fails, never skips

from primordium.learn.gpt import GPTConfig
from primordium.learn.lifegpt import LifeConfig, train_lifegpt
from primordium.learn.train import TrainConfig
from primordium.store import Store

PRIMORDIUM = [sys.executable, "-c", "from primordium.cli import main; main()"]


def _train(store, size=3, steps=30, seed=0, **model):
    life = LifeConfig(size=size)
    shape = {"n_layer": 1, "n_head": 2, "d_model": 16} | model
    return train_lifegpt(
        store,
        life,
        GPTConfig(4, life.context, **shape),
        TrainConfig(steps=steps, batch=16, lr=1e-2, warmup=10, seed=seed, threads=1, log_every=5),
        eval_samples=2,
    )


def _curve(run) -> list[tuple[int, float, float]]:
    return [(r["step"], r["loss"], r["val_loss"]) for r in run.metrics()]


def test_a_tiny_model_learns_b3s23_beyond_both_baselines(store_home):
    life = LifeConfig(size=3)
    run, summary = train_lifegpt(
        Store(),
        life,
        GPTConfig(4, life.context, n_layer=1, n_head=4, d_model=32),
        TrainConfig(steps=300, batch=32, lr=1e-2, warmup=20, threads=1, log_every=50),
        eval_samples=8,
    )
    # Held-out grids at every density (the 0.4-0.5 band never seen in training).
    baseline = max(summary["copy_cell_accuracy"], summary["dead_cell_accuracy"])
    assert summary["cell_accuracy"] >= baseline + 0.05, summary
    rows = run.metrics()
    assert rows[-1]["loss"] < rows[0]["loss"] / 4
    assert run.status == "finished" and (run.dir / "eval.json").is_file()
    assert (run.dir / "rollout.gif").stat().st_size > 0
    listed = {r["id"]: r for r in Store().list()}
    assert listed[run.id]["engine"] == "learn"


def test_the_same_seed_gives_the_same_curve_and_another_seed_does_not(store_home):
    store = Store()
    a, _ = _train(store, seed=4)
    b, _ = _train(store, seed=4)
    c, _ = _train(store, seed=5)
    assert len(_curve(a)) == 6
    assert _curve(a) == _curve(b)
    assert _curve(a) != _curve(c)


def _args(*extra: str) -> list[str]:
    return [
        "learn", "lifegpt", "train", "--size", "3", "--layers", "1", "--heads", "2",
        "--d-model", "16", "--steps", "160", "--batch", "8", "--lr", "1e-2", "--warmup", "10",
        "--seed", "2", "--threads", "1", "--log-every", "10", "--checkpoint-every", "20",
        "--eval-samples", "1", "--json", *extra,
    ]  # fmt: skip


def test_sigkill_then_resume_gives_the_uninterrupted_curve(store_home):
    env = dict(os.environ, PRIMORDIUM_HOME=str(store_home))
    proc = subprocess.Popen(
        PRIMORDIUM + _args(), env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    store = Store(store_home)
    deadline = time.time() + 120
    try:
        while time.time() < deadline:
            assert proc.poll() is None, "the run ended before it could be killed"
            runs = store.list()
            if runs and any(r["step"] >= 50 for r in store.open(runs[0]["id"]).metrics()):
                break
            time.sleep(0.02)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.wait()
    run = store.open(store.list()[0]["id"])
    assert run.status == "interrupted" and run.metrics()[-1]["step"] < 160
    resumed = subprocess.run(
        PRIMORDIUM + ["learn", "lifegpt", "train", "--resume", run.id, "--json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert resumed.returncode == 0, resumed.stderr
    assert json.loads(resumed.stdout)["run"] == run.id
    # The same settings run whole in this process (one process start fewer).
    life = LifeConfig(size=3)
    other, _ = train_lifegpt(
        store,
        life,
        GPTConfig(4, life.context, n_layer=1, n_head=2, d_model=16),
        TrainConfig(steps=160, batch=8, lr=1e-2, warmup=10, seed=2, threads=1, log_every=10,
                    checkpoint_every=20),
        eval_samples=1,
    )  # fmt: skip
    assert [r["step"] for r in run.metrics()] == list(range(10, 161, 10))
    assert _curve(run) == _curve(other)
    assert run.status == "finished"


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (["--rule", "B9/S3"], "--rule"),
        (["--size", "-3"], "--size"),
        (["--steps", "0"], "--steps"),
        (["--layers", "0"], "--layers"),
        (["--d-model", "30", "--heads", "4"], "--d-model"),
        (["--device", "tpu"], "--device"),
    ],
)
def test_bad_settings_are_one_line_and_exit_2(cli, store_home, args, words):
    code, out, err = cli("learn", "lifegpt", "train", *args)
    assert code == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("error: ") and words in err, err
    assert Store().list() == []


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA device")
def test_device_gpu_without_cuda_is_one_line_and_exit_2(cli, store_home):
    code, _, err = cli("learn", "lifegpt", "train", "--size", "3", "--device", "gpu")
    assert code == 2 and err.count("\n") == 1 and "--device gpu" in err and "CUDA" in err


def test_eval_and_rollout_of_a_trained_run(cli, store_home, tmp_path):
    run, _ = _train(Store(), size=3, steps=10)
    code, out, err = cli("learn", "lifegpt", "eval", run.id, "--sizes", "3", "--samples", "2",
                         "--rollout-steps", "2", "--json")  # fmt: skip
    assert code == 0, err
    (result,) = json.loads(out)["sizes"]
    assert len(result["by_density"]) == 10 and len(result["rollout_cell_accuracy"]) == 2
    assert [b["seen"] for b in result["by_density"]].count(False) == 1
    code, _, err = cli("learn", "lifegpt", "eval", run.id, "--sizes", "4")
    assert code == 2 and "context" in err and err.count("\n") == 1
    gif = tmp_path / "r.gif"
    code, out, err = cli("learn", "lifegpt", "rollout", run.id, "--steps", "3", "--out", gif,
                         "--json")  # fmt: skip
    assert code == 0, err
    assert len(json.loads(out)["cell_accuracy"]) == 3
    from PIL import Image

    with Image.open(gif) as im:
        # (GIF writers merge repeated frames, so the count is not checked here.)
        assert im.width > 2 * im.height


def test_rollout_frames_show_model_truth_and_wrong_cells():
    import numpy as np

    from primordium.learn.pictures import rollout_frames

    model = np.zeros((3, 4, 4), np.uint8)
    truth = model.copy()
    truth[1, 2, 3] = 1
    frames = rollout_frames(model, truth, target=32)
    assert frames.shape[0] == 3 and frames.dtype == np.uint8
    third = frames.shape[2] // 3
    # The only red is the one wrong cell of frame 1, in the right-hand panel.
    red = (frames[..., 0] > 200) & (frames[..., 1] < 100)
    assert red[1].any() and not red[0].any() and not red[2].any()
    assert red[1][:, : 2 * third].sum() == 0
    # Below the panels, each frame carries its step in the toolkit's font.
    assert frames.shape[1] > 32
    captions = frames[:, 32:]
    assert (captions < 128).any(axis=(1, 2, 3)).all()  # text drawn on every frame
    assert not np.array_equal(captions[0], captions[1])  # "step 0" is not "step 1"


def test_numba_kernels_leave_pytorch_its_threads():
    """After a parallel numba kernel (a tournament), torch must not share OpenMP with it."""
    import subprocess
    import sys

    code = (
        "import primordium, numba, numpy as np\n"
        "@numba.njit(parallel=True)\n"
        "def f(a):\n"
        "    for i in numba.prange(a.shape[0]):\n"
        "        a[i] += 1\n"
        "f(np.zeros(8))\n"
        "print(numba.threading_layer())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "workqueue"
