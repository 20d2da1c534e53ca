"""`primordium redqueen fitness`: one melee as the DRQ code evaluates it, per warrior and round."""

from __future__ import annotations

import json

import pytest

from tests.redqueen.conftest import one_line_error
from tests.redqueen.test_drq_reference import drq  # noqa: F401  (the reference, as a fixture)


@pytest.fixture
def files(shared_dir):
    root = shared_dir / "reference" / "drq"
    return [
        str(root / "human_warriors" / "imp.red"),
        str(root / "corewar" / "warriors" / "dwarf.red"),
        str(root / "corewar" / "gpt_warriors" / "14_7.red"),
    ]


def test_json_is_the_references_outputs(cli, drq, files):  # noqa: F811
    code, out, err = cli(
        "redqueen", "fitness", *files, "--rounds", "2", "--cycles", "1500", "--json"
    )
    assert code == 0, err
    data = json.loads(out)
    assert list(data) == ["rounds", "warriors"] and data["rounds"] == 2
    assert [w["file"] for w in data["warriors"]] == files  # candidate first
    assert all(list(w) == ["file", "fitness", "spawned", "coverage"] for w in data["warriors"])
    sim = drq.SimulationArgs(rounds=2, cycles=1500)
    ref = drq.run_multiple_rounds(
        sim, [drq.parse_warrior_from_file(sim, f)[1] for f in files], n_processes=1
    )
    for i, w in enumerate(data["warriors"]):
        assert w["fitness"] == pytest.approx(ref["score"][i].tolist(), rel=1e-9)
        assert w["spawned"] == ref["total_spawned_procs"][i].tolist()
        assert w["coverage"] == ref["memory_coverage"][i].tolist()


def test_table_and_pmars_placement(cli, files):
    code, out, err = cli("redqueen", "fitness", *files[:2], "--rounds", "2", "--cycles", "500")
    assert code == 0, err
    assert "imp.red" in out and "dwarf.red" in out and "mean" in out
    code, out, err = cli(
        "redqueen",
        "fitness",
        *files[:2],
        "--rounds",
        "3",
        "--cycles",
        "500",
        "--placement",
        "pmars",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["rounds"] == 3 and all(len(w["fitness"]) == 3 for w in data["warriors"])


def test_bad_input_is_one_line(cli, files, tmp_path):
    one_line_error(
        *cli("redqueen", "fitness", *files[:2], "--placement", "random"), "placement", "random"
    )
    one_line_error(*cli("redqueen", "fitness", files[0], str(tmp_path / "none.red")), "none.red")
    one_line_error(*cli("redqueen", "fitness", files[0]), "opponent")
    one_line_error(*cli("redqueen", "fitness", *files[:2], "--rounds", "0"), "rounds")
    bad = tmp_path / "bad.red"
    bad.write_text("mov 0, 1\nfoo 1, 2\n")
    one_line_error(*cli("redqueen", "fitness", str(bad), files[0]), "bad.red")
