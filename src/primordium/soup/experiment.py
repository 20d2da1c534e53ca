"""A soup run: epochs into the run store, with metrics, checkpoints, snapshots and resume.

Every epoch's randomness derives from (seed, epoch), so the checkpoint needs
only the soup and a few counters to continue bit-identically after a kill.
"""

from __future__ import annotations

import io
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from primordium.errors import ConfigError, StoreError
from primordium.soup.cubff_files import read_dat, write_dat
from primordium.soup.device import hold
from primordium.soup.metrics import TransitionDetector, census, copy_check, cubff_log_line, entropy
from primordium.soup.pattern import Interactions, read_interactions
from primordium.soup.selfrep import SELFREP_THRESHOLD, count_selfreps, selfrep_scores
from primordium.soup.soup import SoupConfig, initial_soup, reset_soup, resets_after
from primordium.store import Run, Store, load_checkpoint, save_checkpoint
from primordium.store.atomic import atomic_write_text

ENGINE = "soup"
CHECKPOINT = "checkpoint.npz"
INTERACTIONS = "interactions.npy"
CSV_LOG = "log.csv"
Progress = Callable[[dict], None]


class SoupResult(dict):
    """``run_soup``'s result: a dict of the numbers it reports, plus the run and its language.

    It stays a plain dict to JSON and to the run's summary; ``lang`` and
    ``run`` ride along as attributes for a reader (a notebook) to use.
    """

    def __init__(self, fields: dict, *, lang: str, run: Run):
        super().__init__(fields)
        self.lang = lang
        self.run = run

    def __repr__(self) -> str:
        t = self.get("transition_epoch")
        seen = f"transition at epoch {t}" if t is not None else "no transition"
        h = self.get("high_order_entropy")
        entropy_text = f", high-order entropy {h:.3f}" if h is not None else ""
        return (
            f"SoupResult({self.lang}, run {self.run.id}: {self.get('epochs')} epochs, "
            f"{seen}{entropy_text})"
        )

    def to_pandas(self):
        """The run's metrics, one row per logged epoch (``Run.to_pandas``)."""
        return self.run.to_pandas()


@dataclass(frozen=True)
class Schedule:
    """How often a run writes things down (in epochs)."""

    epochs: int = 16000
    log_every: int = 64
    checkpoint_every: int = 512
    snapshot_every: int = 512
    snapshot_programs: int = 1024
    # A numbered series of cubff-format checkpoints (checkpoints/<epoch>.dat) every this many epochs.
    save_every: int | None = None
    # Count cubff's self-replicators at every logged row (the CSV's number_selfreps).
    eval_selfrep: bool = False
    # Stop at a logged row whose brotli bits per byte is below this, or that counts this many replicators.
    stop_bpb: float | None = None
    stop_selfreps: int | None = None
    # Another place for the CSV log (the run folder always holds log.csv).
    log: str | None = None
    # Rows after epochs offset, offset + log_every, ...: 1 gives cubff's rows (1, 65, 129, ...).
    log_offset: int = 0

    def __post_init__(self) -> None:
        for name in (
            "epochs",
            "log_every",
            "checkpoint_every",
            "snapshot_every",
            "snapshot_programs",
            "save_every",
            "stop_selfreps",
        ):
            value = getattr(self, name)
            if value is not None and value < (0 if name == "epochs" else 1):
                raise ConfigError(
                    f"{name} must be at least {0 if name == 'epochs' else 1}, got {value}"
                )
        if not 0 <= self.log_offset < self.log_every:
            raise ConfigError(
                f"log_offset must be in 0..{self.log_every - 1} (below log_every), got {self.log_offset}"
            )
        if self.stop_bpb is not None and not self.stop_bpb > 0:
            raise ConfigError(
                f"stop_bpb must be a positive number of bits per byte, got {self.stop_bpb}"
            )
        if self.stop_selfreps is not None:
            # Stopping on a count needs the count (cubff refuses the flag without --eval_selfrep).
            object.__setattr__(self, "eval_selfrep", True)


def _snapshot_name(completed: int) -> str:
    return f"snapshots/epoch_{completed:08d}.npy"


def _npy_bytes(a: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.save(buf, a, allow_pickle=False)
    return buf.getvalue()


def snapshots(run: Run) -> list[tuple[int, np.ndarray]]:
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
    if (
        soup is None
        or soup.dtype != np.uint8
        or soup.ndim != 2
        or not isinstance(state.get("epoch"), int)
    ):
        raise StoreError("corrupt checkpoint (no soup or epoch)", file=path)
    return arrays, state


def config_of(run: Run) -> tuple[SoupConfig, Schedule]:
    if run.engine != ENGINE:
        raise StoreError(f"run {run.id} is a {run.engine} run, not a soup run")
    cfg = run.config
    try:
        return SoupConfig.from_dict(cfg["soup"]), Schedule(**cfg["schedule"])
    except (KeyError, TypeError) as e:
        raise StoreError(f"run {run.id} has a damaged config ({e})") from None


def _interactions_of(run: Run, config: SoupConfig) -> Interactions | None:
    if config.interactions is None:
        return None
    path = run.dir / INTERACTIONS
    try:
        edges = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as e:
        raise StoreError(
            f"missing or corrupt interaction pattern ({type(e).__name__})", file=path
        ) from None
    return Interactions.from_edges(edges, config.programs)


def _csv_text(lines: list[str], eval_selfrep: bool) -> str:
    header = "epoch,brotli_size,soup_size,higher_entropy" + (
        ",number_selfreps" if eval_selfrep else ""
    )
    return header + "\n" + "".join(line + "\n" for line in lines)


def run_soup(
    store: Store,
    config: SoupConfig | None = None,
    schedule: Schedule | None = None,
    *,
    resume: str | None = None,
    load: str | None = None,
    epochs: int | None = None,
    name: str | None = None,
    stop_after_transition: int | None = None,
    pictures: bool = True,
    progress: Progress | None = None,
    device: str = "cpu",
) -> tuple[Run, SoupResult]:
    """Start (or with ``resume``, continue) a soup run; return the run and its result.

    The result holds ``epochs``, ``ops``, ``seconds``, ``high_order_entropy``,
    ``transition_epoch``, ``selfreps`` (cubff's count at the last row, or
    None) and ``stopped`` (why the run ended early, or None). ``epochs``
    overrides the run's planned length (a resumed run can be extended). With
    ``stop_after_transition`` the run ends that many epochs after the
    transition is detected. ``load`` starts a new run from a cubff-format
    checkpoint (cubff's own or one of a run's numbered series), at its epoch.
    ``device`` runs the epochs on ``cpu``, ``gpu`` or ``auto`` (the GPU when
    one is usable); the bytes are the same, so a run may resume on another.
    """
    if resume is not None:
        run = store.open(resume)
        config, schedule = config_of(run)
        if run.status == "running":
            raise StoreError(f"run {run.id} is still running in another process")
        arrays, state = _read_checkpoint(run)  # read before anything is written
        soup = arrays["soup"]
        if soup.shape != (config.programs, config.length):
            raise StoreError(
                f"corrupt checkpoint (soup shape {soup.shape})", file=run.dir / CHECKPOINT
            )
        interactions = _interactions_of(run, config)
        target = int(epochs if epochs is not None else state.get("target", schedule.epochs))
        if target < state["epoch"]:
            raise ConfigError(
                f"epochs {target} is fewer than the {state['epoch']} epochs the run already has"
            )
        held = hold(soup, config, device)
        run.truncate_metrics(state["epoch"])
        done, total_ops, seconds = state["epoch"], int(state["total_ops"]), float(state["seconds"])
        reset_index = int(state.get("reset_index", 1))
        detector = TransitionDetector.from_state(state["detector"])
        last = state.get("last") or entropy(soup)
        selfreps = state.get("selfreps")
        if stop_after_transition is None:
            stop_after_transition = state.get("stop_after_transition")
        # Ops since the last metric row, so the next row is the one an uninterrupted run logs.
        interval = tuple(state.get("interval", (0, 0, 0.0)))
        csv_lines = [
            _csv_line_of(r, config, schedule)
            for r in run.metrics()
            if r.get("epoch", 0) > 0 and not r.get("initial")
        ]
    else:
        config = config or SoupConfig()
        schedule = schedule or Schedule()
        # Read every input before the run exists, so a bad one leaves nothing behind.
        interactions = (
            read_interactions(config.interactions, config.programs) if config.interactions else None
        )
        if load is not None:
            soup, done, reset_index = read_dat(load, config.length)
            if soup.shape[0] != config.programs:
                raise ConfigError(
                    f"programs is {config.programs} but the checkpoint holds {soup.shape[0]}",
                    file=load,
                )
        else:
            soup, done, reset_index = initial_soup(config), 0, 1
        target = int(epochs if epochs is not None else schedule.epochs)
        if target < done:
            raise ConfigError(
                f"epochs {target} is fewer than the {done} epochs the loaded checkpoint already has"
            )
        held = hold(soup, config, device)
        record = {"soup": config.to_dict(), "schedule": schedule.__dict__}
        if load is not None:
            record["loaded_from"] = {"file": str(load), "epoch": done, "reset_index": reset_index}
        run = store.create(ENGINE, record, name=name)
        if interactions is not None:
            run.write_bytes(INTERACTIONS, _npy_bytes(interactions.edges))
        total_ops, seconds = 0, 0.0
        detector = TransitionDetector()
        last = entropy(soup)
        selfreps = None
        run.write_bytes(_snapshot_name(done), _npy_bytes(soup[: schedule.snapshot_programs]))
        # The starting soup's row; cubff logs no such row, so the CSV leaves it out.
        run.log(
            done,
            epoch=done,
            ops=0,
            ops_per_tape=0.0,
            total_ops=0,
            mops=0.0,
            elapsed=0.0,
            initial=True,
            **last,
        )
        interval = (0, 0, 0.0)
        csv_lines = []
    stopped = None
    # The held soup counts the ops of its epochs itself (a GPU on the device):
    # they are read at metric rows and checkpoints, never once per epoch.
    ops_base = total_ops  # ops run before this soup was held
    row_total = total_ops - int(interval[0])  # the total at the last metric row
    last_e: int | None = None  # the last epoch the held soup ran

    def total_at(e: int | None) -> int:
        return ops_base + (held.ops_through(e) if e is not None else 0)

    def consistent() -> tuple[Callable[[], np.ndarray], dict, Callable[[], int]]:
        return (
            held.frozen(),
            {
                "epoch": done,
                "seconds": seconds,
                "target": target,
                "stop_after_transition": stop_after_transition,
                "interval": list(interval),
                "detector": detector.state(),
                "last": last,
                "reset_index": reset_index,
                "selfreps": selfreps,
            },
            lambda e=last_e, row=row_total: (total_at(e), row),
        )

    def checkpoint(safe) -> None:
        frozen, state, ops_of = safe
        total, row = ops_of()
        state = dict(state, total_ops=total, interval=[total - row, *state["interval"][1:]])
        save_checkpoint(run.dir / CHECKPOINT, {"soup": frozen()}, state)

    def write_csv() -> None:
        text = _csv_text(csv_lines, schedule.eval_selfrep)
        atomic_write_text(run.dir / CSV_LOG, text)
        if schedule.log:
            atomic_write_text(schedule.log, text)

    # `safe` is replaced in one assignment after each whole epoch, so an
    # interrupt at any point finds a soup and counters that belong together.
    safe = consistent()
    if resume is None:
        checkpoint(safe)
    write_csv()
    run.update_summary(epochs=done, target=target, lang=config.lang, programs=config.programs)
    interval_tapes, interval_t = int(interval[1]), float(interval[2])
    mops = 0.0
    with run.running():
        try:
            for e in range(done, target):
                t0 = time.perf_counter()
                tapes = held.epoch(e, interactions)
                last_e = e
                dt = time.perf_counter() - t0
                seconds += dt
                interval_tapes += tapes
                interval_t += dt
                completed = e + 1
                if (
                    stop_after_transition is not None
                    and detector.transition_epoch is not None
                    and completed >= detector.transition_epoch + stop_after_transition
                ):
                    target = (
                        completed  # this epoch ends the run: the end-of-run writes below happen now
                    )
                    stopped = "transition"
                if (
                    completed - schedule.log_offset
                ) % schedule.log_every == 0 or completed == target:
                    # Reading the ops waits for the epochs queued on a GPU: that wait is their time.
                    t0 = time.perf_counter()
                    total_ops = total_at(e)
                    dt = time.perf_counter() - t0
                    seconds += dt
                    interval_t += dt
                    interval_ops, row_total = total_ops - row_total, total_ops
                    mops = interval_ops / max(interval_t, 1e-9) / 1e6
                    # Metrics read a host copy; the GPU soup comes back only on these epochs.
                    soup = held.host()
                    last = entropy(soup)
                    extra = {}
                    if schedule.eval_selfrep:
                        # cubff scores the soup after epoch index e with the stream of e.
                        scores = selfrep_scores(
                            soup,
                            config.language,
                            seed=config.seed,
                            epoch=e,
                            max_steps=config.max_steps,
                        )
                        selfreps = extra["number_selfreps"] = count_selfreps(scores)
                    ops_per_tape = interval_ops / max(interval_tapes, 1)
                    detector.update(completed, last["high_order_entropy"], ops_per_tape)
                    row = dict(
                        epoch=completed,
                        ops=interval_ops,
                        ops_per_tape=ops_per_tape,
                        total_ops=total_ops,
                        mops=mops,
                        elapsed=seconds,
                        **last,
                        **extra,
                    )
                    run.log(completed, **row)
                    csv_lines.append(_csv_line_of(row, config, schedule))
                    write_csv()
                    interval_tapes, interval_t = 0, 0.0
                    if schedule.stop_bpb is not None and last["brotli_bpb"] < schedule.stop_bpb:
                        target, stopped = completed, "bpb"
                    elif schedule.stop_selfreps is not None and selfreps >= schedule.stop_selfreps:
                        target, stopped = completed, "selfreps"
                if completed % schedule.snapshot_every == 0 or completed == target:
                    sample = held.host()[: schedule.snapshot_programs]
                    run.write_bytes(_snapshot_name(completed), _npy_bytes(sample))
                    if pictures:
                        # The gallery shows a running run's newest picture: this one.
                        live_picture(run, sample, config.lang, completed)
                if resets_after(config, e):
                    held.replace(reset_soup(config, reset_index, held.host))
                    reset_index += 1
                done = completed
                # The interval's ops are filled in when a checkpoint reads them.
                interval = (0, interval_tapes, interval_t)
                safe = consistent()
                if completed % schedule.checkpoint_every == 0 or completed == target:
                    checkpoint(safe)
                    run.update_summary(
                        epochs=completed,
                        ops=total_at(e),
                        high_order_entropy=last["high_order_entropy"],
                        transition_epoch=detector.transition_epoch,
                    )
                if schedule.save_every is not None and completed % schedule.save_every == 0:
                    write_dat(
                        run.dir / numbered_checkpoint(completed),
                        held.host(),
                        completed,
                        reset_index,
                    )
                if progress is not None:
                    progress(
                        {
                            "run": run.id,
                            "epoch": completed,
                            "target": target,
                            # the speed over the last metric interval (a GPU's ops are read there)
                            "mops": mops,
                            "h0": last["h0"],
                            "high_order_entropy": last["high_order_entropy"],
                            "transition_epoch": detector.transition_epoch,
                        }
                    )
                if completed == target:
                    break
        except KeyboardInterrupt:
            # Ctrl-C or SIGTERM: keep the last whole epoch so --resume loses nothing.
            checkpoint(safe)
            raise
        total_ops = total_at(last_e)
        result = SoupResult(
            {
                "epochs": done,
                "ops": total_ops,
                "seconds": round(seconds, 3),
                "high_order_entropy": last["high_order_entropy"],
                "transition_epoch": detector.transition_epoch,
                "selfreps": selfreps,
                "stopped": stopped,
            },
            lang=config.lang,
            run=run,
        )
        run.write_json("result.json", result)
        run.write_json(
            "census.json", final_census(held.host(), config, epoch_index=max(done - 1, 0))
        )
        if pictures:
            from primordium.soup.pictures import write_run_pictures

            write_run_pictures(run, config.lang)
        run.update_summary(**result)
    return run, result


def result_of(run: Run) -> SoupResult:
    """The result a finished soup run reported (its ``result.json``)."""
    from primordium.store.reading import read_json_file

    config, _ = config_of(run)
    return SoupResult(read_json_file(run.dir / "result.json"), lang=config.lang, run=run)


def live_picture(run: Run, sample: np.ndarray, lang: str, epoch: int) -> None:
    """soup.png: the latest sample, stamped with its epoch (written atomically, a few ms)."""
    from primordium.soup.pictures import soup_image
    from primordium.viz import save_png

    save_png(soup_image(sample, lang, epoch=epoch), run.artifact("soup.png"))


def numbered_checkpoint(completed: int) -> str:
    return f"checkpoints/{completed:010d}.dat"


def _csv_line_of(row: dict, config: SoupConfig, schedule: Schedule) -> str:
    size = row.get("brotli_size")
    if size is None:  # rows logged before the size was a column
        size = round(row["brotli_bpb"] * config.programs * config.length / 8)
    return cubff_log_line(
        row["epoch"],
        int(size),
        config.programs,
        row["h0"],
        row["brotli_bpb"],
        row.get("number_selfreps") if schedule.eval_selfrep else None,
    )


def final_census(soup: np.ndarray, config: SoupConfig, top: int = 10, epoch_index: int = 0) -> dict:
    """The census of the whole soup; each top program carries cubff's self-replication score.

    ``replicates`` is cubff's verdict (score >= 5, the noise of the program's
    first slot after epoch index ``epoch_index``); ``copies`` is the copy
    check (``metrics.copy_check``) beside a random partner.
    """
    c = census(soup, config.lang, top=top)
    mark_replicators(c["programs"], config, total=soup.shape[0], epoch_index=epoch_index)
    return c


def mark_replicators(
    programs: list[dict], config: SoupConfig, total: int, epoch_index: int
) -> None:
    if not programs:
        return
    rows = np.stack([np.frombuffer(bytes.fromhex(p["hex"]), dtype=np.uint8) for p in programs])
    scores = selfrep_scores(
        rows,
        config.language,
        seed=config.seed,
        epoch=epoch_index,
        total=total,
        slots=np.array([p["index"] for p in programs]),
        max_steps=config.max_steps,
    )
    for p, row, score in zip(programs, rows, scores, strict=False):
        p["selfrep_score"] = int(score)
        p["replicates"] = bool(score >= SELFREP_THRESHOLD)
        p["copies"] = copy_check(
            row, config.lang, partner="random", max_steps=config.max_steps, seed=config.seed
        )["replicates"]


def quickstart_run(
    store: Store, seed: int = 0, progress: Progress | None = None, lang: str = "bff_noheads"
) -> Run:
    """A short soup (2^12 programs, up to 2048 epochs; about 10-20 s) into ``store``.

    BFF soups this small rarely reach the transition so soon; a run that does
    stops 64 epochs later. (``lang="forthtrivial", seed=1`` did, at about epoch
    1.7k, under the old mutation rate 0.00024 and Forth's old constant skip;
    at 1/4096 with that Forth it does not within 2048 epochs.)
    """
    config = SoupConfig(lang=lang, programs=2**12, seed=seed)
    schedule = Schedule(
        epochs=2048, log_every=16, checkpoint_every=512, snapshot_every=128, snapshot_programs=512
    )
    run, _ = run_soup(
        store,
        config,
        schedule,
        name=f"quickstart soup ({lang}, seed {seed})",
        stop_after_transition=64,
        progress=progress,
    )
    return run
