"""The MARS compiled ahead of time, so that one battle starts without numba.

Importing numba and loading its cached kernels takes most of a second;
``pmars`` starts in milliseconds. So the kernel's own Python functions,
``mars.run_battles`` and ``mars.rng`` (the very ones numba JIT-compiles; no
copy), are also compiled by numba's ``pycc`` into a plain extension module,
which imports in a millisecond and needs only numpy. It is the same numba
compiler on the same source, with two differences, neither in semantics:

* ``prange`` runs as ``range`` (pycc compiles without numba's parallel
  back end), so the extension runs the battles of a batch one after another.
  That is why it serves single battles; batches go to the JIT kernel, which
  spreads them over all cores.
* The replay's recording specialisation of ``run_round`` is not in it:
  replays stay on the JIT kernel.

The module is built on first use, or by ``mars_aot.main()`` (``make
install`` runs it), into ``corewar/__pycache__`` beside numba's own cache, or
``$PRIMORDIUM_MARS_CACHE``. Its file name carries a key, a hash of all it
depends on: the kernel's source (``mars.py``, ``words.py``), this recipe,
numba's and numpy's versions and the Python build; the module also reports
the key it was built with. A missing module is built; one that fails to
load or reports another key is deleted and that process runs the JIT kernel
(the next one rebuilds). A build that fails (no C compiler) leaves a
``.failed`` note with the reason, and every process with that key runs the
JIT kernel without trying again.

``PRIMORDIUM_MARS`` chooses: ``auto`` (the default: the extension for one
battle, the JIT kernel for batches), ``jit`` (never the extension) or ``aot``
(the extension for everything, an error if it cannot be had; for tests and
benchmarks).
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.machinery
import importlib.util
import os
import sys
from pathlib import Path
from types import ModuleType

from primordium.errors import ConfigError

MODES = ("auto", "jit", "aot")
NAME = "mars_aot"  # the extension's module name: its init function is PyInit_mars_aot
_HERE = Path(__file__).resolve().parent
_SOURCES = ("mars.py", "words.py", "mars_aot.py")  # the kernel, its numbers, the build


def _host_cpu() -> str:
    """This machine's CPU as Linux describes it (model, feature flags), or "".

    Compiled for the host, the kernel runs as fast as numba's JIT build;
    for a generic x86-64 about 3% slower (BENCHMARKS.md). The description
    goes into the key, so a cache folder moved to another CPU is rebuilt.
    Read from /proc, as llvmlite (which knows the CPU) is what we avoid.
    """
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as f:
            first = f.read(65536).split("\n\n", 1)[0]
    except OSError:
        return ""
    fields = ("model name", "flags", "Features", "CPU implementer", "CPU part")
    return "\n".join(line for line in first.splitlines() if line.split(":")[0].strip() in fields)


# Argument types of mars.run_battles, in order (arrays C-contiguous, as
# battle.run_battles passes them).
_I32, _I64 = "int32[::1]", "int64[::1]"
_OUT = "int64[:, :, ::1]"
_RUN_BATTLES = ", ".join(
    [_I32, _I32, _I32, _I64, _I64, _I64, _I64, "int64[:, ::1]", _I64]  # code, pool, battles, seeds
    + ["int64"] * 6  # core_size, cycles, max_proc, sep, pspace_size, rounds
    + ["boolean", "boolean[:, :, ::1]", _OUT, _OUT, _OUT, _OUT, _OUT, "boolean", _OUT]
)

_key: str | None = None
_loaded: dict[tuple[Path, str], ModuleType | None] = {}


def mode() -> str:
    """``$PRIMORDIUM_MARS``: auto, jit or aot."""
    m = os.environ.get("PRIMORDIUM_MARS", "auto") or "auto"
    if m not in MODES:
        raise ConfigError(f"PRIMORDIUM_MARS: unknown value {m!r} (known: {', '.join(MODES)})")
    return m


def folder() -> Path:
    """Where the extension lives: ``$PRIMORDIUM_MARS_CACHE``, else beside numba's cache."""
    given = os.environ.get("PRIMORDIUM_MARS_CACHE")
    return Path(given) if given else _HERE / "__pycache__"


def key() -> str:
    """15 hex digits naming everything the compiled module depends on.

    numba's version is read from its ``_version.py`` (the full revision),
    found without importing numba, which is the point of this module.
    """
    global _key
    if _key is None:
        import numpy

        h = hashlib.sha256()
        for name in _SOURCES:
            h.update((_HERE / name).read_bytes())
        spec = importlib.util.find_spec("numba")
        if spec is not None and spec.origin is not None:
            with contextlib.suppress(OSError):  # a numba without the file: its version is unknown
                h.update((Path(spec.origin).parent / "_version.py").read_bytes())
        host = _host_cpu()
        for part in (numpy.__version__, sys.version, sys.implementation.cache_tag, host):
            h.update(b"\0" + part.encode())
        h.update(importlib.machinery.EXTENSION_SUFFIXES[0].encode())
        _key = h.hexdigest()[:15]
    return _key


# Files are "mars-aot.KEY...": a name no Python module (or its bytecode) can have.
_FILE = "mars-aot"


def path(where: Path, k: str) -> Path:
    return where / f"{_FILE}.{k}{importlib.machinery.EXTENSION_SUFFIXES[0]}"


def _failed_note(where: Path, k: str) -> Path:
    return where / f"{_FILE}.{k}.failed"


def load(where: Path, k: str) -> ModuleType | None:
    """The extension built for key ``k`` in ``where``; None if absent, unloadable or stale.

    A file that is there but does not load, or reports another key, is
    deleted so that the next process builds a good one; this process then
    runs the JIT kernel (it cannot load a fresh file of the same path again).
    """
    p = path(where, k)
    if not p.is_file():
        return None
    try:
        loader = importlib.machinery.ExtensionFileLoader(NAME, str(p))
        spec = importlib.util.spec_from_file_location(NAME, p, loader=loader)
        assert spec is not None
        mod = importlib.util.module_from_spec(spec)
        loader.exec_module(mod)
        good = int(mod.key()) == int(k, 16)
    except (ImportError, OSError, AttributeError):
        good = False
    if good:
        return mod
    with contextlib.suppress(OSError):
        p.unlink()
    return None


def build(where: Path, k: str) -> Path:
    """Compile ``mars.run_battles`` and ``mars.rng`` into ``path(where, k)``; raises on failure."""
    import shutil
    import sysconfig
    import tempfile
    import warnings

    # Fail in a millisecond, not after the LLVM half of the build, where
    # there is no C compiler for numba's support code.
    compiler = (os.environ.get("CC") or sysconfig.get_config_var("CC") or "cc").split()[0]
    if shutil.which(compiler) is None:
        raise RuntimeError(f"no C compiler {compiler!r} on PATH")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # pycc's pending-deprecation notice
        from numba.pycc import CC

    from primordium.corewar import mars
    from primordium.store.atomic import atomic_write_bytes

    where.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(dir=where, prefix=f".{NAME}-build-"))
    # pycc makes its own scratch folder with tempfile; pointing tempfile here
    # for the build puts it inside `work`, which is removed even on failure.
    saved, tempfile.tempdir = tempfile.tempdir, str(work)
    try:
        cc = CC(NAME, source_module=mars)
        cc.output_dir = str(work)
        # Where the CPU is unknown, numba's generic target (portable, slower).
        cc.target_cpu = "host" if _host_cpu() else ""
        cc.export("run_battles", f"void({_RUN_BATTLES})")(mars.run_battles.py_func)
        cc.export("rng", "int64(int64)")(mars.rng.py_func)
        cc.export("key", "int64()")(_constant(int(k, 16)))
        cc.compile()
        target = path(where, k)
        atomic_write_bytes(target, (work / cc.output_file).read_bytes())
        # Readable by every user of a shared install (the temporary file was 0600).
        target.chmod(0o755)
    finally:
        tempfile.tempdir = saved
        shutil.rmtree(work, ignore_errors=True)
    return target


def _constant(value: int):
    def key():
        return value

    return key


def _prune(where: Path, k: str) -> None:
    """Remove modules and notes of other keys: a kernel edit or upgrade made them stale."""
    keep = {path(where, k).name, _failed_note(where, k).name}
    for p in where.glob(f"{_FILE}.*"):
        if p.name not in keep:
            with contextlib.suppress(OSError):
                p.unlink()


def module(build_missing: bool = True) -> ModuleType | None:
    """The extension for the current source, built if missing; None where it cannot be had."""
    where, k = folder(), key()
    if (where, k) in _loaded:
        return _loaded[(where, k)]
    existed = path(where, k).exists()
    mod = load(where, k)
    if existed and mod is None:
        # Refused (and deleted): this process stays on the JIT kernel, as it
        # could not load a rebuilt file at the same path again.
        _loaded[(where, k)] = None
        return None
    note = _failed_note(where, k)
    if mod is None and build_missing and not note.exists():
        try:
            build(where, k)
        except Exception as e:  # any failure of the toolchain means: use the JIT kernel
            _write_note(note, f"{type(e).__name__}: {e}")
        else:
            _prune(where, k)
            mod = load(where, k)
    if mod is not None or build_missing:
        _loaded[(where, k)] = mod
    return mod


def _write_note(note: Path, reason: str) -> None:
    try:
        from primordium.store.atomic import atomic_write_text

        atomic_write_text(note, " ".join(reason.split()) + "\n")
    except OSError:
        pass  # a read-only cache folder: the next process tries again


def kernels(n_battles: int, build_missing: bool = True) -> ModuleType | None:
    """The extension to run ``n_battles`` battles with, or None for the JIT kernel (``mars``)."""
    m = mode()
    if m == "jit" or (m == "auto" and n_battles > 1):
        return None
    mod = module(build_missing)
    if mod is None and m == "aot" and build_missing:
        note = _failed_note(folder(), key())
        why = note.read_text().strip() if note.exists() else "it did not load"
        raise ConfigError(
            f"PRIMORDIUM_MARS: aot asked for, but the ahead-of-time MARS is unavailable: {why}"
        )
    return mod


def main() -> None:
    """Build (or rebuild) the extension for the current source; print where it is."""
    where, k = folder(), key()
    _failed_note(where, k).unlink(missing_ok=True)
    target = build(where, k)
    _prune(where, k)
    print(target)
