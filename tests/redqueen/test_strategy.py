"""The strategy operator: real warriors of the classic families, structure-respecting mutation, corpus draws."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from primordium.corewar.battle import simulate_round
from primordium.corewar.isa import Settings
from primordium.corewar.redcode import assemble
from primordium.errors import ConfigError
from primordium.redqueen import strategy as S
from primordium.redqueen.archive import Elite
from primordium.redqueen.mutation import Job
from tests.redqueen.conftest import SMALL_FLAGS

STANDARD = Settings()
SMALL = Settings(core_size=800, cycles=1500, processes=200, length=20, distance=20)


def _elite(source: str, k: int = 0) -> Elite:
    return Elite(k, 1.0, (0, 0), {}, source, "p", "test", [])


@pytest.mark.parametrize("settings", [STANDARD, SMALL], ids=["standard", "small"])
def test_every_emitted_warrior_assembles_and_fits(settings):
    op = S.StrategyOperator(settings)
    families = set()
    parents = []
    for k in range(150):
        p = op.propose([Job("new", 1, k, 0, seed=5)])[0]
        w = assemble(p.source, settings)
        assert w.length <= settings.length and p.error is None
        g = S.genome_of(p.source)
        assert g is not None and p.operator == f"new:{g['family']}"
        families.add(g["family"])
        parents.append(p.source)
    assert families == set(S.FAMILIES)
    for k, src in enumerate(parents):  # and their children, twice removed
        job = Job("mutate", 2, k, 0, seed=5, parent=_elite(src), other=_elite(parents[-1 - k], 1))
        child = op.propose([job])[0]
        grand = op.propose([Job("mutate", 3, k, 0, seed=5, parent=_elite(child.source))])[0]
        for p in (child, grand):
            assert assemble(p.source, settings).length <= settings.length


def test_a_tiny_core_never_breaks_the_operator():
    tiny = Settings(core_size=64, cycles=500, processes=64, length=24, distance=24)
    op = S.StrategyOperator(tiny)
    news = op.propose([Job("new", 1, k, 0, seed=1) for k in range(60)])
    kids = op.propose(
        [Job("mutate", 2, k, 0, 1, parent=_elite(p.source)) for k, p in enumerate(news)]
    )
    ok = sum(
        1 for p in news + kids if p.source is not None and assemble(p.source, tiny).length <= 24
    )
    assert ok == len(news) + len(kids)


def test_mutation_and_crossover_stay_in_family():
    op = S.StrategyOperator(STANDARD, crossover=0.5)
    seen = set()
    for k in range(120):
        parent = op.propose([Job("new", 1, k, 0, seed=9)])[0].source
        other = op.propose([Job("new", 1, k, 1, seed=9)])[0].source
        fam = S.genome_of(parent)["family"]
        child = op.propose(
            [Job("mutate", 2, k, 0, seed=9, parent=_elite(parent), other=_elite(other, 1))]
        )[0]
        assert S.genome_of(child.source)["family"] == fam, (child.operator, child.source)
        seen.add(child.operator.split(":")[0])
    assert {"param", "crossover"} <= seen and seen & {"add", "drop", "tune"}


def test_crossover_mixes_parts_of_both_parents():
    rng = np.random.default_rng(0)
    a = {"family": "stone", "params": S._new_params("stone", rng, 8000, 104)}
    b = {
        "family": "stone",
        "params": S._new_params("stone", rng, 8000, 104),
        "qscan": S._new_part("qscan", rng, 8000, 104),
    }
    kids = [S.cross_genomes(a, b, np.random.default_rng(k)) for k in range(40)]
    assert any("qscan" in c for c in kids) and any("qscan" not in c for c in kids)
    assert any(c["params"]["step"] == b["params"]["step"] for c in kids)
    assert any(c["params"]["step"] == a["params"]["step"] for c in kids)


def test_same_seed_same_output():
    def batch(seed):
        op = S.StrategyOperator(STANDARD)
        news = op.propose([Job("new", 1, k, 0, seed) for k in range(20)])
        muts = op.propose(
            [Job("mutate", 2, k, 0, seed, parent=_elite(p.source)) for k, p in enumerate(news)]
        )
        return [p.source for p in news + muts]

    assert batch(3) == batch(3)
    assert batch(3) != batch(4)


@pytest.mark.parametrize("points", [1, 3, 7])
def test_imp_rings_run_with_one_process_per_point(points):
    """A ring launched wrongly dies at once; a working one keeps exactly `points` processes."""
    w = assemble(
        S.render({"family": "imp", "params": {"points": points}}, STANDARD, "ring"), STANDARD
    )
    state = simulate_round([w], [0], STANDARD.with_(cycles=20000, warriors=1))
    assert len(state.queues[0]) == points
    # As a part beside a clear, booted 3000 cells away: the ring's processes plus the clear's one.
    g = {"family": "clear", "params": {"bomb": "spl"}, "imp": {"points": points, "dist": 3000}}
    w = assemble(S.render(g, STANDARD, "clear+ring"), STANDARD)
    state = simulate_round([w], [0], STANDARD.with_(cycles=300, warriors=1))
    assert len(state.queues[0]) == points + 1
    imp = tuple(int(v) for v in np.asarray(w.code)[-1])  # the imp is the warrior's last line
    assert state.cell(w.length - 1 + 3000) == imp


def test_clear_never_wipes_itself_and_paper_copies_itself():
    s = STANDARD.with_(
        cycles=40000, warriors=1
    )  # long enough for the clear to pass its own cells twice
    clear = assemble(
        S.render({"family": "clear", "params": {"bomb": "dat"}}, STANDARD, "clear"), STANDARD
    )
    assert len(simulate_round([clear], [0], s).queues[0]) == 1
    paper = assemble(
        S.render(
            {"family": "paper", "params": {"procs": 3, "step": 2011, "bomb_step": 0}},
            STANDARD,
            "paper",
        ),
        STANDARD,
    )
    state = simulate_round([paper], [0], STANDARD.with_(cycles=3000, warriors=1))
    silk = tuple(int(v) for v in np.asarray(paper.code)[3])  # the spl @0 line heads every copy
    copies = sum(
        state.cell(a)[0] == silk[0] and state.cell(a)[2] == silk[2]
        for a in range(STANDARD.core_size)
    )
    assert copies > 3 and len(state.queues[0]) > 8


def test_plain_parents_get_instruction_edits():
    op = S.StrategyOperator(SMALL)
    p = op.propose([Job("mutate", 1, 0, 0, 1, parent=_elite("mov.i 0, 1\n"))])[0]
    assert p.operator.startswith("plain:") and assemble(p.source, SMALL)


def test_damaged_genome_is_a_failed_candidate_not_a_crash():
    op = S.StrategyOperator(SMALL)
    src = ';strategy genome: {"family":"stone","params":{"step":5}}\nmov.i 0, 1\n'
    p = op.propose([Job("mutate", 1, 0, 0, 1, parent=_elite(src))])[0]
    assert p.source is None and "damaged" in p.error


def test_corpus_draws_and_bad_corpus(shared_dir, tmp_path):
    corpus = shared_dir / "reference" / "drq" / "corewar" / "gpt_warriors"
    op = S.StrategyOperator(STANDARD, corpus=corpus, corpus_share=1.0)
    assert len(op.corpus) >= 200
    p = op.propose([Job("new", 1, 0, 0, 2)])[0]
    name = p.operator.split(":", 1)[1]
    assert p.operator.startswith("corpus:") and p.source == (corpus / name).read_text("latin-1")
    (tmp_path / "notes.txt").write_text("no warriors here")
    with pytest.raises(ConfigError, match="no warriors"):
        S.StrategyOperator(STANDARD, corpus=tmp_path)
    with pytest.raises(ConfigError, match="not a folder"):
        S.StrategyOperator(STANDARD, corpus=tmp_path / "nope")


def test_runs_inside_redqueen_run(cli, store_home, tmp_path):
    code, out, err = cli(
        "redqueen",
        "run",
        *SMALL_FLAGS,
        "--operator",
        "strategy",
        "--rounds",
        "2",
        "--iterations",
        "6",
        "--seed",
        "4",
        "--json",
    )
    assert code == 0, err
    data = json.loads(out)
    assert data["stats"]["evaluated"] == 2 * (4 + 6) and data["stats"]["invalid"] == 0
    from primordium.redqueen.loop import candidates
    from primordium.store import Store

    ops = {c["operator"].split(":")[0] for c in candidates(Store().open(data["run"]))}
    assert "new" in ops and ops & {"param", "add", "drop", "tune", "crossover"}
    for r in data["rounds"]:
        assert S.genome_of(Path(r["champion"]).read_text()) is not None


def test_empty_corpus_is_one_line_exit_2(cli, store_home, tmp_path):
    cfg = tmp_path / "drq.toml"
    cfg.write_text(f'operator = "strategy"\ncorpus = "{tmp_path}"\n')
    code, out, err = cli(
        "redqueen", "run", "--config", str(cfg), *SMALL_FLAGS, "--operator", "strategy"
    )
    lines = [x for x in err.splitlines() if x.strip()]
    assert (
        code == 2 and len(lines) == 1 and "no warriors" in lines[0] and str(tmp_path) in lines[0]
    ), err
