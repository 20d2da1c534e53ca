"""Execute notebooks top to bottom in a kernel of this Python, as `make notebooks` does.

    .venv/bin/python scripts/run_notebooks.py docs/notebooks/*.ipynb [--out DIR]

The kernel is this interpreter (``sys.executable``), declared in a kernel
spec written to a temporary folder that JUPYTER_PATH puts first, so a fresh
clone's .venv needs nothing registered and a user's own "python3" kernel
cannot stand in for it. Each notebook runs in its own temporary folder with
its own PRIMORDIUM_HOME, so runs it makes never land in the user's store.
A cell that raises stops that notebook; the script reports it in one line
and exits 1 once all have run. ``--out`` keeps the executed copies (with
outputs); the committed notebooks stay without.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path

KERNEL = "primordium-notebooks"
ANSI = re.compile(r"\x1b\[[0-9;]*m")  # the colours of a traceback, off in a one-line report


def kernel_spec(folder: Path) -> None:
    """A kernel spec named KERNEL that starts ipykernel in this interpreter."""
    spec = folder / "kernels" / KERNEL
    spec.mkdir(parents=True)
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"]
    doc = {"argv": argv, "display_name": "primordium (.venv)", "language": "python"}
    (spec / "kernel.json").write_text(json.dumps(doc))


def drew_no_bar(nb) -> str | None:
    """A notebook that draws a progress bar must show it in the notebook (HTML), not elsewhere."""
    uses = any(c.cell_type == "code" and "bar(" in c.source for c in nb.cells)
    shown = any(
        "<progress" in o.get("data", {}).get("text/html", "")
        for c in nb.cells
        if c.cell_type == "code"
        for o in c.get("outputs", [])
    )
    return "its progress bar did not draw in the notebook" if uses and not shown else None


def run_one(path: Path, out: Path | None, timeout: int) -> str | None:
    """Run one notebook; None when every cell ran, else the one-line reason."""
    import nbformat
    from jupyter_client.manager import KernelManager
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError

    nb = nbformat.read(path, as_version=4)
    with tempfile.TemporaryDirectory(prefix="nb-") as work:
        os.environ["PRIMORDIUM_HOME"] = str(Path(work) / "store")
        # IPC sockets in the work folder: a local kernel needs no TCP port (and says so).
        km = KernelManager(kernel_name=KERNEL, transport="ipc", ip=str(Path(work) / "kernel"))
        client = NotebookClient(nb, km=km, timeout=timeout, resources={"metadata": {"path": work}})
        try:
            client.execute()
            failure = drew_no_bar(nb)
        except CellExecutionError as e:
            lines = [ANSI.sub("", ln) for ln in str(e).splitlines() if ln.strip()]
            failure = lines[-1] if lines else "a cell raised"
        except CellTimeoutError:
            failure = f"a cell ran past {timeout} s"
        finally:
            if km.has_kernel:  # a kernel manager handed in is the caller's to stop
                km.shutdown_kernel(now=True)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, out / path.name)
    return failure


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("notebooks", nargs="+", type=Path)
    ap.add_argument("--out", type=Path, help="keep the executed notebooks here")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per cell")
    args = ap.parse_args()
    failed = 0
    with tempfile.TemporaryDirectory(prefix="kernels-") as specs:
        kernel_spec(Path(specs))
        os.environ["JUPYTER_PATH"] = os.pathsep.join(
            [specs, *filter(None, [os.environ.get("JUPYTER_PATH")])]
        )
        for path in args.notebooks:
            start = time.monotonic()
            failure = run_one(path.resolve(), args.out, args.timeout)
            took = time.monotonic() - start
            print(f"{path}: {'ok' if failure is None else 'FAILED: ' + failure} ({took:.0f} s)")
            failed += failure is not None
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
