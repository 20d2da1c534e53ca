"""`redqueen compare`: phenotype similarity and genotype distance across independent runs, on tiny real runs."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from primordium.corewar.isa import Settings
from primordium.corewar.redcode import assemble
from primordium.redqueen.convergence import cosine, edit_distance, genotype_distance
from tests.redqueen.conftest import SMALL_FLAGS

BUILTINS = Path(__file__).resolve().parents[2] / "src" / "primordium" / "corewar" / "warriors"


def test_edit_distance_and_genotype_distance():
    assert edit_distance("kitten", "sitting") == 3
    assert edit_distance("", "abc") == 3 and edit_distance("abc", "abc") == 0
    s = Settings()
    imp = assemble("mov.i 0, 1\n", s)
    dwarf = assemble("add #4, 3\nmov 2, @2\njmp -2\ndat #0, #0\n", s)
    dwarf5 = assemble("add #5, 3\nmov 2, @2\njmp -2\ndat #0, #0\n", s)
    assert genotype_distance(imp, imp) == 0.0
    assert genotype_distance(imp, dwarf) == 1.0  # nothing shared: 4 edits over 4 lines
    assert genotype_distance(dwarf, dwarf5) == pytest.approx(0.25)


def test_cosine():
    assert cosine(np.array([1.0, 2.0]), np.array([2.0, 4.0])) == pytest.approx(1.0)
    assert cosine(np.array([1.0, 0.0]), np.array([0.0, 3.0])) == pytest.approx(0.0)
    assert cosine(np.zeros(3), np.zeros(3)) == 1.0


def _runs(cli, seeds):
    ids = []
    for seed in seeds:
        code, out, err = cli(
            "redqueen",
            "run",
            *SMALL_FLAGS,
            "--operator",
            "strategy",
            "--rounds",
            "2",
            "--iterations",
            "4",
            "--seed",
            str(seed),
            "--json",
        )
        assert code == 0, err
        ids.append(json.loads(out)["run"])
    return ids


def test_compare_same_seed_converges_other_seed_differs(cli, store_home, tmp_path):
    a, b, c = _runs(cli, [1, 1, 2])
    png = tmp_path / "conv.png"
    code, out, err = cli(
        "redqueen",
        "compare",
        a,
        b,
        "--against",
        str(BUILTINS),
        "--rounds",
        "2",
        "--json",
        "--out",
        str(png),
    )
    assert code == 0, err
    same = json.loads(out)
    assert same["opponents"] == len(list(BUILTINS.glob("*.red"))) and png.is_file()
    assert [r["runs"] for r in same["rounds"]] == [2, 2]
    for r in same["rounds"]:  # one seed, one run: the same champions behave the same
        assert r["phenotype_similarity"] == pytest.approx(1.0)
        assert r["phenotype_variance"] == pytest.approx(0.0) and r["genotype_distance"] == 0.0
    assert len(same["phenotypes"]) == 4 and all(
        len(p["scores"]) == same["opponents"] for p in same["phenotypes"]
    )
    code, out, err = cli(
        "redqueen", "compare", a, b, c, "--against", str(BUILTINS), "--rounds", "2", "--json"
    )
    assert code == 0, err
    other = json.loads(out)
    assert [r["runs"] for r in other["rounds"]] == [3, 3]
    assert any(r["genotype_distance"] > 0 for r in other["rounds"])
    for r in other["rounds"]:
        assert (
            0.0 <= r["genotype_distance"] <= 1.0 and -1.0 <= r["phenotype_similarity"] <= 1.0 + 1e-9
        )
    code, out, err = cli("redqueen", "compare", a, c, "--against", str(BUILTINS), "--rounds", "2")
    assert code == 0 and "phenotype" in out


@pytest.mark.parametrize(
    "extra,words",
    [
        ([], ["at least two runs"]),
        (["--out", "conv.jpg"], [".png"]),
    ],
)
def test_compare_bad_input(cli, store_home, extra, words):
    (a,) = _runs(cli, [3])
    code, out, err = cli(
        "redqueen", "compare", a, *(["SECOND"] if extra else []), "--against", str(BUILTINS), *extra
    )
    lines = [x for x in err.splitlines() if x.strip()]
    assert code == 2 and len(lines) == 1, err
    for w in words:
        assert w in lines[0]


def test_compare_scores_phenotypes_with_the_runs_placement(cli, store_home):
    """A pmars-placement run's phenotypes are pMARS-placement scores, and runs of two placements are refused."""
    from primordium.redqueen.convergence import phenotypes
    from primordium.redqueen.evaluate import load_dir
    from primordium.redqueen.loop import champions, load_config
    from primordium.store import Store

    ids = []
    for placement in ("pmars", "pmars", "drq"):
        code, out, err = cli(
            "redqueen",
            "run",
            *SMALL_FLAGS,
            "--operator",
            "strategy",
            "--rounds",
            "1",
            "--iterations",
            "2",
            "--seed",
            "4",
            "--placement",
            placement,
            "--json",
        )
        assert code == 0, err
        ids.append(json.loads(out)["run"])
    code, out, err = cli(
        "redqueen", "compare", ids[0], ids[1], "--against", str(BUILTINS), "--rounds", "2", "--json"
    )
    assert code == 0, err
    got = np.array(json.loads(out)["phenotypes"][0]["scores"])
    run = Store().open(ids[0])
    settings = load_config(run).settings()
    champ = assemble(Path(champions(run)[0][1]).read_text(), settings)
    opps = [w for _, w in load_dir(BUILTINS, settings)[0]]
    as_pmars = phenotypes([champ], opps, settings, rounds=2, seed=0, placement="pmars")[0]
    as_drq = phenotypes([champ], opps, settings, rounds=2, seed=0, placement="drq")[0]
    assert np.allclose(got, as_pmars)
    assert not np.allclose(as_pmars, as_drq)  # the placement matters, so the check above can fail
    code, out, err = cli(
        "redqueen", "compare", ids[0], ids[2], "--against", str(BUILTINS), "--rounds", "2"
    )
    assert (
        code == 2 and "placement" in err and len([x for x in err.splitlines() if x.strip()]) == 1
    ), err
