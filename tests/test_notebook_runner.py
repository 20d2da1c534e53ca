"""`make notebooks`' runner: a cell that raises fails it; a bar must draw in the notebook itself.

The tutorials themselves run in `make notebooks` (CI, after the tests), not here.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]


def test_a_raising_cell_fails_the_run_and_a_kernel_bar_passes(tmp_path):
    cells = {
        "raises.ipynb": ["import sys\nprint(sys.executable)", "1 / 0"],
        "bar.ipynb": [
            "from primordium.progress import bar\n"
            "with bar('work', total=3) as b:\n"
            "    b.advance(3)\n"
            "assert b.where == 'kernel'",
        ],
        "silent.ipynb": [
            "from primordium.progress import bar\n"
            "with bar('work', total=3, where='none') as b:\n"
            "    b.advance(3)",
        ],
    }
    for name, sources in cells.items():
        nb = new_notebook(cells=[new_code_cell(s) for s in sources])
        nbformat.write(nb, tmp_path / name)
    env = os.environ | {"PYTHONPATH": str(ROOT / "src")}
    done = subprocess.run(
        [sys.executable, str(ROOT / "scripts" / "run_notebooks.py"), "--out", str(tmp_path / "out")]
        + [str(tmp_path / n) for n in cells],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 1, done.stderr
    lines = done.stdout.splitlines()
    assert "raises.ipynb: FAILED: ZeroDivisionError: division by zero" in lines[0]
    assert "bar.ipynb: ok" in lines[1]
    assert "silent.ipynb: FAILED: its progress bar did not draw in the notebook" in lines[2]
    # The kernel is this interpreter, whatever "python3" kernel the machine has.
    ran = nbformat.read(tmp_path / "out" / "raises.ipynb", as_version=4)
    assert ran.cells[0].outputs[0].text.strip() == sys.executable
