"""The DRQ loop end to end with the offline operator: records, determinism, resume."""

from __future__ import annotations

import json

import numpy as np

from primordium.corewar import Settings
from primordium.corewar.redcode import assemble
from primordium.redqueen.loop import (
    CANDIDATES,
    archives,
    candidates,
    champions,
    load_config,
    open_experiment,
    rounds,
    run_drq,
)
from tests.redqueen.conftest import fingerprint, small_config


def test_run_records_everything(store):
    cfg = small_config()
    run = run_drq(store, cfg)
    assert run.status == "finished"
    cands = candidates(run)
    # Each round: n_init initial warriors + one per iteration.
    assert len(cands) == cfg.rounds * (cfg.n_init + cfg.iterations)
    for c in cands:
        assert set(c) >= {
            "source",
            "fitness",
            "descriptors",
            "parents",
            "operator",
            "round",
            "cell",
        }
        assert c["valid"]  # offline proposals always assemble
    mutants = [c for c in cands if c["parents"]]
    assert mutants and all(p < c["id"] for c in mutants for p in c["parents"])
    arcs = archives(run)
    assert len(arcs) == cfg.rounds
    champs = champions(run)
    assert [r for r, _ in champs] == [1, 2, 3]
    s = Settings(core_size=800, length=20)
    for (r, path), arc in zip(champs, arcs, strict=False):
        best = arc.best()
        assert path.read_text() == best.source
        assemble(path.read_text(), s)
        # The champion is the archive's fittest, and every elite is the fittest of its cell.
        assert best.fitness == max(e.fitness for e in arc.cells.values())
        in_round = [c for c in cands if c["round"] == r]
        for cell, e in arc.cells.items():
            assert e.fitness == max(c["fitness"] for c in in_round if tuple(c["cell"]) == cell)
    for name in ("fitness.png", "archives.png", "config.json", "checkpoint.npz"):
        assert (run.dir / name).is_file()
    assert load_config(run) == cfg
    logged = [m for m in run.metrics() if m["kind"] == "round"]
    assert [m["round"] for m in logged] == [1, 2, 3]
    # The rounds as a notebook reads them: champions by name, one row per round.
    table = rounds(run)
    assert [r["name"] for r in table] == [a.best().name for a in arcs]
    assert [r["fitness"] for r in table] == [m["fitness"] for m in logged]
    assert "3 finished" in repr(table) and len(repr(table)) < 200
    df = table.to_pandas()
    assert df.shape[0] == 3 and list(df.columns[:5]) == [
        "round",
        "champion",
        "name",
        "fitness",
        "archive",
    ]
    assert df["archive"].tolist() == [len(a) for a in arcs]
    assert len(repr(arcs[0])) < 200 and "source" not in repr(arcs[0].best())


def test_later_rounds_fight_earlier_champions(store):
    """Round t's candidates meet the initial opponent plus the last K champions: a melee of 1 + 1 + min(t-1, K)."""
    cfg = small_config(rounds=3, iterations=2, history=1)
    exp = open_experiment(store, cfg)
    sizes = []
    while True:
        sizes.append(1 + len(exp.opponents) + len(exp._champion_warriors()))
        if not exp.step():
            break
    assert sizes[0] == 2 and max(sizes) == 3  # K = 1 caps the champions


def test_same_seed_same_run_other_seed_other_run(store):
    a = fingerprint(run_drq(store, small_config(seed=5)))
    b = fingerprint(run_drq(store, small_config(seed=5)))
    c = fingerprint(run_drq(store, small_config(seed=6)))

    def strip(f):
        return f[0], f[1], f[2], [{k: v for k, v in m.items() if k != "time"} for m in f[3]]

    assert strip(a) == strip(b)
    assert a[0] != c[0]


def test_batched_runs_are_reproducible(store):
    """Batches change which archive a child sees, so runs differ; each is still reproducible."""
    a = fingerprint(run_drq(store, small_config(batch=3)))
    b = fingerprint(run_drq(store, small_config(batch=3)))
    assert a[:3] == b[:3]


def test_resume_after_a_kill_between_writes_is_identical(store):
    """Stop after some batches, leave half-written lines behind, resume: the same run as without the stop."""
    cfg = small_config(seed=9)
    whole = fingerprint(run_drq(store, cfg))

    exp = open_experiment(store, cfg)
    for _ in range(9):  # into round 2
        exp.step()
    run = exp.run
    assert exp.state.round == 2 and exp.state.iteration >= 0
    # What a kill between the appends and the checkpoint leaves: extra rows, a cut line, extra metrics.
    with open(run.dir / CANDIDATES, "ab") as f:
        f.write(b'{"id": 999, "source": "half a li')
    run.log(10_000, kind="iteration", round=2, iteration=99)
    resumed = open_experiment(store, resume=run.id).run_all()
    assert resumed.id == run.id
    got = fingerprint(resumed)
    assert got[0] == whole[0]
    assert got[1] == whole[1]
    assert got[2] == whole[2]
    strip = lambda ms: [{k: v for k, v in m.items()} for m in ms]  # noqa: E731
    assert strip(got[3]) == strip(whole[3])


def test_threshold_ends_rounds_early(store):
    cfg = small_config(threshold=0.5, iterations=50)
    run = run_drq(store, cfg)
    rounds = [m for m in run.metrics() if m["kind"] == "round"]
    assert all(m["fitness"] > 0.5 for m in rounds)
    assert any(m["iterations"] < 50 for m in rounds)
    assert len(candidates(run)) < cfg.rounds * (cfg.n_init + cfg.iterations)


def test_warmup_candidates_are_the_opponents_and_champions(store):
    cfg = small_config(warmup_opponents=True, warmup_champions=True, rounds=2, iterations=2)
    run = run_drq(store, cfg)
    cands = candidates(run)
    ops = [c["operator"] for c in cands]
    assert ops.count("warmup-opponent") == 2
    assert ops.count("warmup-champion") == 1
    champ1 = champions(run)[0][1].read_text()
    assert any(c["operator"] == "warmup-champion" and c["source"] == champ1 for c in cands)


def test_descriptor_choice_sets_the_archive_axes(store):
    run = run_drq(store, small_config(descriptors=("opcodes", "length"), rounds=1, iterations=4))
    arc = archives(run)[0]
    assert arc.descriptors == ("opcodes", "length")
    for e in arc.cells.values():
        assert e.cell == arc.cell_of(e.descriptors)
    assert json.loads((run.dir / "config.json").read_text())["drq"]["descriptors"] == [
        "opcodes",
        "length",
    ]
    assert np.isfinite(arc.grid()).sum() == len(arc)


def test_quickstart_run(store):
    from primordium.redqueen.loop import quickstart_config, quickstart_run

    run = quickstart_run(store, seed=1)
    assert run.status == "finished"
    assert len(champions(run)) == quickstart_config().rounds
    assert (run.dir / "fitness.png").is_file() and (run.dir / "archives.png").is_file()


def test_worker_processes_give_the_same_run(store):
    """Candidate battles spread over worker processes change nothing."""
    from primordium.exec.local import LocalExecutor

    ref = fingerprint(run_drq(store, small_config(seed=3)))
    with LocalExecutor(2) as ex:
        got = fingerprint(run_drq(store, small_config(seed=3), executor=ex))
    assert ref[:3] == got[:3]


def test_single_cell_responses_history_all_and_warmup(store):
    """The public code's options: one cell for all, several children per parent, every champion, warm-up."""
    cfg = small_config(
        rounds=3,
        iterations=4,
        responses=3,
        history=None,
        single_cell=True,
        warmup_opponents=True,
        warmup_champions=True,
        batch=1,
    )
    exp = open_experiment(store, cfg)
    sizes = []
    while True:
        sizes.append(1 + len(exp.opponents) + len(exp._champion_warriors()))
        if not exp.step():
            break
    assert max(sizes) == 1 + 1 + 2  # every earlier champion, not the last K
    run = exp.run
    cands = candidates(run)
    for r in (1, 2, 3):
        in_round = [c for c in cands if c["round"] == r]
        warm = [c["operator"] for c in in_round if c["operator"].startswith("warmup")]
        assert warm == ["warmup-opponent"] + ["warmup-champion"] * (r - 1)
        its = [c for c in in_round if c["iteration"] >= 0]
        assert len(its) == 3 * cfg.iterations
        for it in range(cfg.iterations):  # the responses of an iteration share its parent
            assert len({tuple(c["parents"]) for c in its if c["iteration"] == it}) == 1
    for arc in archives(run):
        assert list(arc.cells) == [(0, 0)]  # one cell: selection by fitness alone
    for r, arc in enumerate(archives(run), 1):
        assert arc.best().fitness == max(
            c["fitness"] for c in cands if c["round"] == r and c["valid"]
        )


def test_first_iteration_runs_even_past_the_threshold(store):
    """As in the public code, the threshold is tested before each iteration, never before the first."""
    cfg = small_config(rounds=2, iterations=5, threshold=-1.0, batch=1)
    run = run_drq(store, cfg)
    cands = candidates(run)
    for r in (1, 2):
        assert sorted({c["iteration"] for c in cands if c["round"] == r}) == [-1, 0]


def test_placement_drq_and_pmars_are_what_the_loop_evaluates_with(store):
    """Each recorded fitness is the candidate's melee, candidate first, under the run's placement."""
    from primordium.redqueen.fitness import drq_round_seeds, evaluate, round_seeds

    fits = {}
    for placement in ("drq", "pmars"):
        cfg = small_config(rounds=2, iterations=3, placement=placement)
        run = run_drq(store, cfg)
        assert load_config(run).placement == placement
        s = cfg.settings()
        opp = [assemble((run.dir / "opponents" / "00_imp.red").read_text(), s)]
        cands = candidates(run)
        # Round 1's candidates meet only the imp; round 2's also round 1's champion.
        champ1 = assemble(champions(run)[0][1].read_text(), s)
        for c in cands:
            opps = opp if c["round"] == 1 else opp + [champ1]
            seeds = (
                drq_round_seeds(1, cfg.battle_rounds)
                if placement == "drq"
                else round_seeds(
                    cfg.seed, c["round"], c["iteration"], c["slot"], cfg.battle_rounds
                )[None]
            )
            ev = evaluate([assemble(c["source"], s)], opps, s, seeds, placement=placement)[0]
            assert ev.fitness == c["fitness"], (placement, c["id"])
        fits[placement] = [c["fitness"] for c in cands]
    assert fits["drq"] != fits["pmars"]
