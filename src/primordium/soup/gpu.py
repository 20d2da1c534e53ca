"""The soup's epoch on a CUDA device: the soup stays in GPU memory between epochs.

With cubff's draws (``SoupConfig.draws == "cubff"``, soup/cubff_draws.py)
the whole epoch of a shuffled soup happens on the device: one kernel hashes
every j of the epoch's Fisher-Yates in parallel, one thread applies the swaps
in their order (so the permutation is the CPU's), and the tape kernel hashes
each byte's mutation coin itself; only scalars go up. The other pairings
(cyclic, fixed, an interaction pattern, the grid) compute their order on the
host, the same function the CPU calls, and upload it.

With numpy's draws the host draws each epoch's randomness exactly as the CPU
path does (``soup.epoch_plan``: the permutation or pairs, the mutation's
positions and bytes) and uploads those few arrays; the device gathers the
tapes, writes the mutations, runs every tape and leaves the new soup in its
memory.

The tapes run through ``languages.run_tape``, the same numba function the
CPU runs, so a GPU epoch and a CPU epoch give the same bytes. The op counts
stay on the device (a running total, and its value after each of the last
few epochs), read only when a caller asks (``ops_through``); the soup comes
back to the host only when asked (metrics, snapshots, checkpoints).

``numba.cuda`` is imported on first use, not with this module: the CUDA
simulator (``NUMBA_ENABLE_CUDASIM=1``) must be chosen before that import.
"""

from __future__ import annotations

import functools

import numpy as np

from primordium.errors import ConfigError
from primordium.soup import cubff_draws
from primordium.soup.languages import forth, run_tape
from primordium.soup.soup import EpochPlan, SoupConfig, cubff_order, epoch_plan

# How many epochs back ``ops_through`` answers (the same as soup/device.py's).
OPS_MARKS = 4

DEVICES = ("cpu", "gpu", "auto")
# Threads per block: small enough for the simulator, a multiple of the warp.
BLOCK = 128


# numba.cuda once imported; a module global because the simulator runs a
# kernel by swapping the ``cuda`` name in its globals (a closure is not seen).
cuda = None


def _cuda():
    global cuda
    if cuda is None:
        from numba import cuda as module

        cuda = module
    return cuda


def simulated() -> bool:
    """Whether numba.cuda is (or will be) its simulator: NUMBA_ENABLE_CUDASIM=1."""
    from numba import config

    return bool(config.ENABLE_CUDASIM)


def gpu_usable() -> bool:
    """Whether a CUDA device (or numba's simulator) can run kernels here."""
    try:
        return bool(_cuda().is_available())
    except Exception:  # no driver, a broken one, or no numba.cuda at all
        return False


def resolve_device(device: str) -> str:
    """``cpu`` or ``gpu`` for a requested ``cpu``/``gpu``/``auto``; a GPU asked for must exist."""
    if device not in DEVICES:
        raise ConfigError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if device == "auto":
        return "gpu" if gpu_usable() else "cpu"
    if device == "gpu" and not gpu_usable():
        raise ConfigError("device gpu: no usable CUDA device (driver or GPU missing)")
    return device


def device_bytes_needed(config: SoupConfig) -> int:
    """GPU memory one epoch holds at its peak, with room to spare.

    Three soups (the last whole epoch's, the new one, the tape buffer of the
    pairing modes), two int64 per program (the permutation or the pairs), the
    mutations (int64 position and a byte each, budgeted at twice the
    expected count) and an int64 op count per tape, plus 1 MiB.
    """
    n, size = config.programs, config.programs * config.length
    mutations = min(size, 2 * int(size * config.mutation) + 64)
    return 3 * size + 16 * n + 9 * mutations + 8 * (n // 2) + (1 << 20)


def check_memory(config: SoupConfig, free: int | None = None) -> None:
    """Refuse a soup the device cannot hold (``free``: bytes free, asked of the device if None)."""
    if free is None:
        if simulated():
            return
        _cuda()
        free, _total = cuda.current_context().get_memory_info()
    need = device_bytes_needed(config)
    if need > free:
        raise ConfigError(
            f"device gpu: the soup needs about {need / 2**20:.0f} MiB of GPU memory, "
            f"{free / 2**20:.0f} MiB are free"
        )


@functools.cache
def _kernels(lang_id: int, tape_len: int):
    """The run kernel: language and tape length are compile-time constants.

    Each thread copies its tape into a local array, runs it there and copies
    it back: the interpreter's many byte reads and writes then hit the
    thread's own (cached, interleaved) local memory rather than global
    memory. Under the simulator a local array is a numpy array, so the
    CPU-compiled ``run_tape`` runs on it unchanged; that the same function
    compiles for a real GPU is checked apart, by compiling this kernel to
    PTX (tests/soup/test_gpu_sim.py).
    """
    _cuda()
    stack_size = forth.STACK
    half = tape_len // 2

    @cuda.jit
    def run_all(tapes, max_steps, ops, total):
        i = cuda.grid(1)
        if i < tapes.shape[0]:
            stack = cuda.local.array(stack_size, np.uint8)
            tape = cuda.local.array(tape_len, np.uint8)
            row = tapes[i]
            for j in range(tape_len):
                tape[j] = row[j]
            ops[i] = run_tape(lang_id, tape, max_steps, stack)
            cuda.atomic.add(total, 0, ops[i])
            for j in range(tape_len):
                row[j] = tape[j]

    @cuda.jit
    def run_cubff(soup, out, order, count, e_seed, threshold, max_steps, total):
        # cubff's MutateAndRunPrograms: tape k is the pair in slots 2k, 2k + 1
        # of the order; its bytes' coins are hashed here, nothing is uploaded.
        k = cuda.grid(1)
        if k < soup.shape[0] // 2:
            stack = cuda.local.array(stack_size, np.uint8)
            tape = cuda.local.array(tape_len, np.uint8)
            a = order[2 * k]
            b = order[2 * k + 1]
            for j in range(half):
                tape[j] = soup[a, j]
                tape[half + j] = soup[b, j]
            if threshold > 0:
                cubff_draws.mutate_tape(tape, e_seed, soup.shape[0], k, threshold)
            if k < count:
                cuda.atomic.add(total, 0, run_tape(lang_id, tape, max_steps, stack))
            for j in range(half):
                out[a, j] = tape[j]
                out[b, j] = tape[half + j]

    return run_all, run_cubff


@functools.cache
def _movers():
    _cuda()

    @cuda.jit
    def gather_perm(soup, perm, out):
        # out[k] = soup[perm[k]], one thread per byte.
        t = cuda.grid(1)
        length = soup.shape[1]
        if t < out.shape[0] * length:
            k = t // length
            j = t - k * length
            out[k, j] = soup[perm[k], j]

    @cuda.jit
    def write_bytes(flat, where, values):
        t = cuda.grid(1)
        if t < where.shape[0]:
            flat[where[t]] = values[t]

    @cuda.jit
    def gather_pairs(soup, a, b, tapes):
        t = cuda.grid(1)
        length = soup.shape[1]
        if t < tapes.shape[0] * 2 * length:
            i = t // (2 * length)
            j = t - i * 2 * length
            tapes[i, j] = soup[a[i], j] if j < length else soup[b[i], j - length]

    @cuda.jit
    def scatter_pairs(tapes, a, b, soup):
        t = cuda.grid(1)
        length = soup.shape[1]
        if t < tapes.shape[0] * 2 * length:
            i = t // (2 * length)
            j = t - i * 2 * length
            if j < length:
                soup[a[i], j] = tapes[i, j]
            else:
                soup[b[i], j - length] = tapes[i, j]

    @cuda.jit
    def copy(src, dst):
        t = cuda.grid(1)
        if t < src.shape[0]:
            dst[t] = src[t]

    @cuda.jit
    def shuffle_draws(base, epoch, draws, order):
        # Every j of the Fisher-Yates at once (each a pure hash of its slot).
        i = cuda.grid(1)
        n = order.shape[0]
        if i < n:
            draws[i] = cubff_draws.shuffle_draw(base, epoch, n, i)
            order[i] = i

    @cuda.jit
    def shuffle_swaps(draws, order):
        # The swaps in cubff's order, last slot first: one thread, exactly the CPU's permutation.
        if cuda.grid(1) == 0:
            for i in range(order.shape[0] - 1, -1, -1):
                j = draws[i]
                t = order[i]
                order[i] = order[j]
                order[j] = t

    @cuda.jit
    def mark(total, marks, slot):
        if cuda.grid(1) == 0:
            marks[slot] = total[0]

    return (
        gather_perm,
        write_bytes,
        gather_pairs,
        scatter_pairs,
        copy,
        shuffle_draws,
        shuffle_swaps,
        mark,
    )


def _grid(count: int) -> int:
    return max(1, (count + BLOCK - 1) // BLOCK)


def device_epoch(soup_d, config: SoupConfig, plan: EpochPlan, total):
    """Apply one epoch's (numpy-drawn) plan to a device soup; return (new device soup, tapes).

    The ops run are added to the device counter ``total`` (int64[1]). The
    input soup is left as it was (a new one is allocated), so a caller can
    keep the last whole epoch's soup while the next one runs.
    """
    _cuda()
    gather_perm, write_bytes, gather_pairs, scatter_pairs, copy = _movers()[:5]
    run_all = _kernels(config.language.id, 2 * config.length)[0]
    n, length = config.programs, config.length
    size = n * length
    out = cuda.device_array((n, length), dtype=np.uint8)
    flat = out.reshape(size)
    if plan.perm is not None:
        gather_perm[_grid(size), BLOCK](soup_d, cuda.to_device(plan.perm), out)
        if len(plan.where):
            write_bytes[_grid(len(plan.where)), BLOCK](
                flat, cuda.to_device(plan.where), cuda.to_device(plan.values)
            )
        tapes = out.reshape(n // 2, 2 * length)
    else:
        copy[_grid(size), BLOCK](soup_d.reshape(size), flat)
        if len(plan.where):
            write_bytes[_grid(len(plan.where)), BLOCK](
                flat, cuda.to_device(plan.where), cuda.to_device(plan.values)
            )
        if not len(plan.a):
            return out, 0
        a, b = cuda.to_device(plan.a.astype(np.int64)), cuda.to_device(plan.b.astype(np.int64))
        tapes = cuda.device_array((len(plan.a), 2 * length), dtype=np.uint8)
        gather_pairs[_grid(tapes.size), BLOCK](out, a, b, tapes)
    ops = cuda.device_array(tapes.shape[0], dtype=np.int64)
    run_all[_grid(tapes.shape[0]), BLOCK](tapes, config.max_steps, ops, total)
    if plan.perm is None:
        scatter_pairs[_grid(tapes.size), BLOCK](tapes, a, b, out)
    return out, tapes.shape[0]


def device_cubff_epoch(soup_d, config: SoupConfig, index: int, total, scratch, interactions=None):
    """Epoch ``index`` with cubff's draws on a device soup; return (new device soup, tapes).

    ``scratch`` is two int64[N] device arrays (the shuffle's draws and the
    order), reused from epoch to epoch: kernels on one stream run in order,
    so the next epoch's shuffle cannot overwrite an order still being read.
    """
    _cuda()
    shuffle_draws, shuffle_swaps = _movers()[5:7]
    run_cubff = _kernels(config.language.id, 2 * config.length)[1]
    n = config.programs
    base = cubff_draws.base_seed(config.seed)
    draws, order = scratch
    if config.pairing == "shuffle" and config.grid is None and config.interactions is None:
        shuffle_draws[_grid(n), BLOCK](base, np.uint64(index), draws, order)
        shuffle_swaps[1, 1](draws, order)
        count = n // 2
    else:
        host_order, count = cubff_order(config, index, interactions)
        order.copy_to_device(host_order)
    out = cuda.device_array((n, config.length), dtype=np.uint8)
    run_cubff[_grid(n // 2), BLOCK](
        soup_d,
        out,
        order,
        count,
        np.uint64(cubff_draws.stream(base, np.uint64(index))),
        cubff_draws.mutation_threshold(config.mutation),
        config.max_steps,
        total,
    )
    return out, count


def run_tapes_device(lang_id: int, tapes: np.ndarray, max_steps: int) -> np.ndarray:
    """Run every row of ``tapes`` (uint8[P, 2L]) on the device, in place; return ops per tape."""
    _cuda()
    d = cuda.to_device(np.ascontiguousarray(tapes, dtype=np.uint8))
    ops = cuda.device_array(tapes.shape[0], dtype=np.int64)
    total = cuda.to_device(np.zeros(1, dtype=np.int64))
    _kernels(lang_id, tapes.shape[1])[0][_grid(tapes.shape[0]), BLOCK](d, max_steps, ops, total)
    tapes[...] = d.copy_to_host()
    return ops.copy_to_host()


class GpuSoup:
    """A soup held in GPU memory; ``host()`` copies it back (once per epoch at most).

    ``epoch`` only queues kernels: nothing waits for the device until the
    ops (``ops_through``) or the soup (``host``) are read.
    """

    device = "gpu"

    def __init__(self, soup: np.ndarray, config: SoupConfig):
        check_memory(config)
        self.config = config
        self._d = _cuda().to_device(np.ascontiguousarray(soup, dtype=np.uint8))
        self._host: np.ndarray | None = np.array(soup, dtype=np.uint8)
        # The running op total and its value after each of the last OPS_MARKS epochs.
        self._total = cuda.to_device(np.zeros(1, dtype=np.int64))
        self._marks = cuda.to_device(np.zeros(OPS_MARKS, dtype=np.int64))
        self._epochs: list[int] = []
        self._scratch = None
        if config.draws == "cubff":
            self._scratch = tuple(
                cuda.device_array(config.programs, dtype=np.int64) for _ in range(2)
            )

    def epoch(self, index: int, interactions=None) -> int:
        if self._scratch is not None:
            self._d, tapes = device_cubff_epoch(
                self._d, self.config, index, self._total, self._scratch, interactions
            )
        else:
            plan = epoch_plan(self.config, index, interactions)
            self._d, tapes = device_epoch(self._d, self.config, plan, self._total)
        _movers()[7][1, 1](self._total, self._marks, index % OPS_MARKS)
        self._epochs = [*self._epochs[-(OPS_MARKS - 1) :], index]
        self._host = None
        return tapes

    def ops_through(self, index: int) -> int:
        """The ops of this soup's epochs up to ``index`` (one of the last few): waits for them."""
        if index not in self._epochs:
            raise ValueError(f"the ops of epoch {index} are not kept (the last {OPS_MARKS} are)")
        return int(self._marks.copy_to_host()[index % OPS_MARKS])

    def host(self) -> np.ndarray:
        if self._host is None:
            self._host = self._d.copy_to_host()
        return self._host

    def replace(self, soup: np.ndarray) -> None:
        self._d = _cuda().to_device(np.ascontiguousarray(soup, dtype=np.uint8))
        self._host = np.array(soup, dtype=np.uint8)

    def frozen(self):
        """A handle on this epoch's soup that later epochs leave alone (they allocate anew)."""
        d, host = self._d, self._host
        return (lambda: host) if host is not None else d.copy_to_host
