"""A soup run: epochs into the run store, with metrics, checkpoints, snapshots and resume.

Every epoch's randomness derives from (seed, epoch), so the checkpoint needs
only the soup and a few counters to continue bit-identically after a kill.
"""

from __future__ import annotations

import io
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from primordium.errors import ConfigError, StoreError
from primordium.soup.metrics import TransitionDetector, census, entropy, self_replication
from primordium.soup.soup import SoupConfig, epoch, initial_soup
from primordium.store import Run, Store, load_checkpoint, save_checkpoint

ENGINE = "soup"
CHECKPOINT = "checkpoint.npz"
Progress = Callable[[dict], None]


@dataclass(frozen=True)
class Schedule:
    """How often a run writes things down (in epochs)."""

    epochs: int = 16000
    log_every: int = 64
    checkpoint_every: int = 512
    snapshot_every: int = 512
    snapshot_programs: int = 1024

    def __post_init__(self) -> None:
        for name in ("epochs", "log_every", "checkpoint_every", "snapshot_every", "snapshot_programs"):
            value = getattr(self, name)
            if value < (0 if name == "epochs" else 1):
                flag = "--" + name.replace("_", "-")
                raise ConfigError(f"{flag} must be at least {0 if name == 'epochs' else 1}, got {value}")


def _snapshot_name(completed: int) -> str:
    return f"snapshots/epoch_{completed:08d}.npy"


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def snapshots(run: Run) -> list[tuple[int, "np.ndarray"]]:
    """The run's saved soup samples, oldest first, as (epoch, uint8[n, L])."""
    out = []
    for p in sorted((run.dir / "snapshots").glob("epoch_*.npy")):
        try:
            out.append((int(p.stem.split("_")[1]), np.load(p, allow_pickle=False)))
        except (ValueError, OSError) as e:
            raise StoreError(f"corrupt snapshot ({type(e).__name__})", file=p) from None
    return out


def load_soup(run: Run, at_epoch: int | None = None) -> tuple[int, np.ndarray, bool]:
    """(epoch, soup, whole) at the last checkpoint, or the snapshot sample nearest at or before ``at_epoch``."""
    if at_epoch is None:
        arrays, state = _read_checkpoint(run)
        return int(state["epoch"]), arrays["soup"], True
    snaps = [(e, s) for e, s in snapshots(run) if e <= at_epoch]
    if not snaps:
        raise StoreError(f"run {run.id} has no snapshot at or before epoch {at_epoch}")
    e, s = snaps[-1]
    return e, s, False


def _read_checkpoint(run: Run) -> tuple[dict, dict]:
    path = run.dir / CHECKPOINT
    arrays, state = load_checkpoint(path)
    soup = arrays.get("soup")
    if soup is None or soup.dtype != np.uint8 or soup.ndim != 2 or not isinstance(state.get("epoch"), int):
        raise StoreError("corrupt checkpoint (no soup or epoch)", file=path)
    return arrays, state


def _config_of(run: Run) -> tuple[SoupConfig, Schedule]:
    if run.engine != ENGINE:
        raise StoreError(f"run {run.id} is a {run.engine} run, not a soup run")
    cfg = run.config
    try:
        return SoupConfig.from_dict(cfg["soup"]), Schedule(**cfg["schedule"])
    except (KeyError, TypeError) as e:
        raise StoreError(f"run {run.id} has a damaged config ({e})") from None


def run_soup(store: Store, config: SoupConfig | None = None, schedule: Schedule | None = None, *,
             resume: str | None = None, epochs: int | None = None, name: str | None = None,
             stop_after_transition: int | None = None, pictures: bool = True,
             progress: Progress | None = None) -> tuple[Run, dict]:
    """Start (or with ``resume``, continue) a soup run; return the run and its result.

    The result holds ``epochs``, ``ops``, ``seconds``, ``high_order_entropy`` and
    ``transition_epoch``. ``epochs`` overrides the run's planned length (a
    resumed run can be extended). With ``stop_after_transition`` the run ends
    that many epochs after the transition is detected.
    """
    if resume is not None:
        run = store.open(resume)
        config, schedule = _config_of(run)
        if run.status == "running":
            raise StoreError(f"run {run.id} is still running in another process")
        arrays, state = _read_checkpoint(run)  # read before anything is written
        soup = arrays["soup"]
        if soup.shape != (config.programs, config.length):
            raise StoreError(f"corrupt checkpoint (soup shape {soup.shape})", file=run.dir / CHECKPOINT)
        target = int(epochs if epochs is not None else state.get("target", schedule.epochs))
        if target < state["epoch"]:
            raise ConfigError(f"--epochs {target} is fewer than the {state['epoch']} epochs the run already has")
        run.claim()
        run.truncate_metrics(state["epoch"])
        done, total_ops, seconds = state["epoch"], int(state["total_ops"]), float(state["seconds"])
        detector = TransitionDetector.from_state(state["detector"])
        last = state.get("last") or entropy(soup)
        if stop_after_transition is None:
            stop_after_transition = state.get("stop_after_transition")
        # Ops since the last metric row, so the next row is the one an uninterrupted run logs.
        interval = tuple(state.get("interval", (0, 0, 0.0)))
    else:
        config = config or SoupConfig()
        schedule = schedule or Schedule()
        target = int(epochs if epochs is not None else schedule.epochs)
        run = store.create(ENGINE, {"soup": config.to_dict(), "schedule": schedule.__dict__}, name=name)
        soup = initial_soup(config)
        done, total_ops, seconds = 0, 0, 0.0
        detector = TransitionDetector()
        last = entropy(soup)
        run.write_bytes(_snapshot_name(0), _npy_bytes(soup[: schedule.snapshot_programs]))
        run.log(0, epoch=0, ops=0, ops_per_tape=0.0, total_ops=0, mops=0.0, elapsed=0.0, **last)
        interval = (0, 0, 0.0)
    def consistent() -> tuple[np.ndarray, dict]:
        return soup, {"epoch": done, "total_ops": total_ops, "seconds": seconds, "target": target,
                      "stop_after_transition": stop_after_transition, "interval": list(interval),
                      "detector": detector.state(), "last": last}

    def checkpoint(safe: tuple[np.ndarray, dict]) -> None:
        save_checkpoint(run.dir / CHECKPOINT, {"soup": safe[0]}, safe[1])

    # `safe` is replaced in one assignment after each whole epoch, so an
    # interrupt at any point finds a soup and counters that belong together.
    safe = consistent()
    if resume is None:
        checkpoint(safe)
    run.update_summary(epochs=done, target=target, lang=config.lang, programs=config.programs)
    interval_ops, interval_tapes, interval_t = int(interval[0]), int(interval[1]), float(interval[2])
    try:
        for e in range(done, target):
            t0 = time.perf_counter()
            soup, ops, tapes = epoch(soup, config, e)
            dt = time.perf_counter() - t0
            seconds += dt
            total_ops += ops
            interval_ops += ops
            interval_tapes += tapes
            interval_t += dt
            completed = e + 1
            if (stop_after_transition is not None and detector.transition_epoch is not None
                    and completed >= detector.transition_epoch + stop_after_transition):
                target = completed  # this epoch ends the run: the end-of-run writes below happen now
            if completed % schedule.log_every == 0 or completed == target:
                last = entropy(soup)
                ops_per_tape = interval_ops / max(interval_tapes, 1)
                detector.update(completed, last["high_order_entropy"], ops_per_tape)
                run.log(completed, epoch=completed, ops=interval_ops, ops_per_tape=ops_per_tape,
                        total_ops=total_ops, mops=interval_ops / max(interval_t, 1e-9) / 1e6,
                        elapsed=seconds, **last)
                interval_ops, interval_tapes, interval_t = 0, 0, 0.0
            if completed % schedule.snapshot_every == 0 or completed == target:
                run.write_bytes(_snapshot_name(completed), _npy_bytes(soup[: schedule.snapshot_programs]))
            done = completed
            interval = (interval_ops, interval_tapes, interval_t)
            safe = consistent()
            if completed % schedule.checkpoint_every == 0 or completed == target:
                checkpoint(safe)
                run.update_summary(epochs=completed, ops=total_ops, high_order_entropy=last["high_order_entropy"],
                                   transition_epoch=detector.transition_epoch)
            if progress is not None:
                progress({"run": run.id, "epoch": completed, "target": target, "mops": ops / max(dt, 1e-9) / 1e6,
                          "h0": last["h0"], "high_order_entropy": last["high_order_entropy"],
                          "transition_epoch": detector.transition_epoch})
            if completed == target:
                break
    except KeyboardInterrupt:
        # Keep the last whole epoch so --resume loses nothing.
        checkpoint(safe)
        run.set_status("interrupted")
        raise
    except BaseException:
        run.set_status("failed")
        raise
    result = {"epochs": done, "ops": total_ops, "seconds": round(seconds, 3),
              "high_order_entropy": last["high_order_entropy"], "transition_epoch": detector.transition_epoch}
    run.write_json("result.json", result)
    run.write_json("census.json", final_census(soup, config))
    if pictures:
        from primordium.soup.pictures import write_run_pictures

        write_run_pictures(run, config.lang)
    run.update_summary(**result)
    run.set_status("finished")
    return run, result


def final_census(soup: np.ndarray, config: SoupConfig, top: int = 10) -> dict:
    """The census of the whole soup, each top program marked by the self-replication check."""
    c = census(soup, config.lang, top=top)
    for p in c["programs"]:
        prog = np.frombuffer(bytes.fromhex(p["hex"]), dtype=np.uint8)
        p["replicates"] = self_replication(prog, config.lang, partner="random", max_steps=config.max_steps,
                                           seed=config.seed)["replicates"]
    return c


def quickstart_run(store: Store, seed: int = 0, progress: Progress | None = None,
                   lang: str = "bff_noheads") -> Run:
    """A short soup (2^12 programs, up to 2048 epochs; about 10-20 s) into ``store``.

    BFF soups this small rarely reach the transition so soon; ``lang="forthtrivial",
    seed=1`` does (at about epoch 1.7k), and then stops 64 epochs later.
    """
    config = SoupConfig(lang=lang, programs=2**12, seed=seed)
    schedule = Schedule(epochs=2048, log_every=16, checkpoint_every=512, snapshot_every=128, snapshot_programs=512)
    run, _ = run_soup(store, config, schedule, name=f"quickstart soup ({lang}, seed {seed})",
                      stop_after_transition=64, progress=progress)
    return run
