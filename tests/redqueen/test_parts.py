"""Config loading, descriptors, the archive and the offline operator on their own."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from primordium.corewar import Settings
from primordium.corewar.redcode import assemble
from primordium.errors import ConfigError
from primordium.redqueen.archive import Archive, Elite
from primordium.redqueen.config import DRQConfig, load_toml, with_overrides
from primordium.redqueen.descriptors import DESCRIPTORS
from primordium.redqueen.mutation import Job, OfflineOperator


def _readme_command(shared_dir) -> dict[str, str]:
    """The flags of the full DRQ run in the public code's README, read at test time."""
    import re

    readme = (shared_dir / "reference" / "drq" / "README.md").read_text()
    line = next(x for x in readme.splitlines() if x.strip().startswith("python drq.py"))
    return {k: v.strip('"') for k, v in re.findall(r"--([\w.]+)=(\S+)", line)} | {
        "initial_opps": re.search(r'--initial_opps "([^"]+)"', line).group(1)
    }


def test_paper_defaults_are_the_reference_readme_command(shared_dir):
    ref = _readme_command(shared_dir)
    c = DRQConfig().validate()
    assert (c.rounds, c.iterations, c.history, c.battle_rounds) == (
        int(ref["n_rounds"]),
        int(ref["n_iters"]),
        int(ref["last_k_opps"]),
        int(ref["simargs.rounds"]),
    )
    assert (c.p_new, c.n_init, c.responses, c.threshold) == (
        float(ref["sample_new_percent"]),
        int(ref["n_init"]),
        int(ref["n_mutate"]),
        float(ref["fitness_threshold"]),
    )
    assert (c.warmup_opponents, c.warmup_champions, c.single_cell) == (
        ref["warmup_with_init_opps"] == "True",
        ref["warmup_with_past_champs"] == "True",
        ref["single_cell"] == "True",
    )
    assert (
        c.core.core_size,
        c.core.cycles,
        c.core.processes,
        c.core.length,
        c.core.distance,
    ) == tuple(
        int(ref[f"simargs.{k}"]) for k in ("size", "cycles", "processes", "length", "distance")
    )
    assert (c.llm.model, c.llm.temperature, c.seed) == (
        ref["gpt_model"],
        float(ref["temperature"]),
        int(ref["seed"]),
    )
    assert c.descriptors == ("spawned", "coverage") and ref["bc_axes"] == "tsp,mc"
    assert c.operator == "llm"
    # The public client sends seed=0 and no max_tokens.
    client = (shared_dir / "reference" / "drq" / "src" / "llm_async.py").read_text()
    assert "seed=0," in client and "\n            max_tokens" not in client
    assert (c.llm.seed, c.llm.max_tokens) == (0, None)
    # The initial opponent is the same warrior as the reference's imp.
    from primordium.redqueen.loop import resolve_opponent

    s = Settings()
    (spec,) = c.initial_opponents
    ours = assemble(resolve_opponent(spec).read_text(), s)
    theirs = assemble(
        (
            shared_dir / "reference" / "drq" / "human_warriors" / Path(ref["initial_opps"]).name
        ).read_text(),
        s,
    )
    assert (
        np.array_equal(np.asarray(ours.code), np.asarray(theirs.code))
        and ours.start == theirs.start
    )


def test_history_all_and_none_words(tmp_path):
    p = tmp_path / "drq.toml"
    p.write_text(
        'history = "all"\nresponses = 3\nsingle_cell = true\n[llm]\nseed = "none"\nmax_tokens = 512\n'
    )
    c = load_toml(p)
    assert (
        c.history is None
        and c.responses == 3
        and c.single_cell
        and c.llm.seed is None
        and c.llm.max_tokens == 512
    )
    assert c.to_dict()["history"] == "all"
    from primordium.redqueen.config import from_dict

    assert from_dict(c.to_dict()) == c  # what a run stores reads back the same
    for text, msg in {
        "history = 'some'\n": "field 'history': expected an integer or 'all'",
        "responses = 0\n": "field 'responses': must be at least 1",
        "[llm]\nparent = 'both'\n": "field 'llm.parent'",
        "[llm]\nextract = 'magic'\n": "field 'llm.extract'",
    }.items():
        p.write_text(text)
        with pytest.raises(ConfigError, match=msg):
            load_toml(p)


def test_toml_round_trip_and_field_errors(tmp_path):
    p = tmp_path / "drq.toml"
    p.write_text(
        'rounds = 3\ndescriptors = ["opcodes", "length"]\n[core]\ncycles = 500\n[llm]\nmodel = "m"\n'
    )
    c = load_toml(p)
    assert (
        c.rounds == 3
        and c.descriptors == ("opcodes", "length")
        and c.core.cycles == 500
        and c.llm.model == "m"
    )
    assert c.core.core_size == 8000  # untouched fields keep the paper's value
    cases = {
        "rounds = 'many'\n": "field 'rounds': expected an integer",
        "p_new = 2.0\n": "field 'p_new': must be between 0 and 1",
        "[core]\nsize = 3\n": "unknown field 'core.size'",
        "[llm]\ntimeout = -1\n": "field 'llm.timeout'",
        "descriptors = ['spawned', 'colour']\n": "unknown descriptor 'colour'",
        "operator = 'gpt'\n": "unknown operator 'gpt'",
        "rounds = \n": "not valid TOML",
        "history = 200\n": "field 'core.distance'",
    }
    for text, msg in cases.items():
        p.write_text(text)
        with pytest.raises(ConfigError, match=msg.replace("(", r"\(")) as e:
            load_toml(p)
        assert "drq.toml" in str(e.value) and "\n" not in str(e.value)


def test_flag_overrides():
    c = with_overrides(
        DRQConfig(),
        {"rounds": 2, "core.cycles": 100, "descriptors": "length,opcodes", "seed": None},
    )
    assert (
        c.rounds == 2
        and c.core.cycles == 100
        and c.descriptors == ("length", "opcodes")
        and c.seed == 0
    )


def test_bins_follow_the_public_code():
    sp = DESCRIPTORS["spawned"]
    assert [sp.bin(v) for v in (0, 0.99, 1, 9.5, 10, 99, 100, 9999, 10000, 1e9)] == [
        0,
        0,
        1,
        1,
        2,
        2,
        3,
        4,
        5,
        5,
    ]
    cv = DESCRIPTORS["coverage"]
    assert [cv.bin(v) for v in (1, 10, 499, 500, 3999, 4000)] == [0, 1, 2, 3, 4, 5]
    assert all(d.n_bins == 6 for d in DESCRIPTORS.values())


def _elite(i, fit, cell):
    return Elite(i, fit, cell, {}, f";name e{i}\nmov 0, 1\n")


def test_archive_place_best_sample():
    a = Archive(("spawned", "coverage"))
    assert a.best() is None and a.best_fitness() == float("-inf")
    assert a.place(_elite(0, 1.0, (0, 0)))
    assert not a.place(_elite(1, 1.0, (0, 0)))  # equal fitness keeps the incumbent
    assert a.place(_elite(2, 1.5, (0, 0)))
    assert a.place(_elite(3, 1.5, (2, 1)))
    assert a.best().id == 2  # ties go to the earliest
    assert len(a) == 2 and np.isfinite(a.grid()).sum() == 2
    picks = [a.sample(np.random.default_rng(k)).id for k in range(40)]
    assert set(picks) == {2, 3}
    assert [a.sample(np.random.default_rng(k)).id for k in range(40)] == picks
    b = Archive.from_json(a.to_json())
    assert b.to_json() == a.to_json() and b.cells[(2, 1)].cell == (2, 1)


def test_offline_operator_always_assembles_and_is_reproducible():
    s = Settings(core_size=800, length=20)
    op = OfflineOperator(s)
    news = op.propose([Job("new", 1, i, 0, 42) for i in range(200)])
    srcs = [p.source for p in news]
    assert srcs == [p.source for p in op.propose([Job("new", 1, i, 0, 42) for i in range(200)])]
    assert len(set(srcs)) > 190
    parents = [Elite(i, 0.0, (0, 0), {}, src) for i, src in enumerate(srcs[:50])]
    jobs = [
        Job("mutate", 2, i, 0, 42, parent=parents[i % 50], other=parents[(i + 1) % 50])
        for i in range(400)
    ]
    kids = op.propose(jobs)
    kinds = set()
    for p in news + kids:
        w = assemble(p.source, s)
        assert 1 <= w.length <= s.length
        kinds.update(p.operator.split("+"))
    assert {
        "random",
        "crossover",
        "opcode",
        "modifier",
        "a_mode",
        "b_number",
        "insert",
        "delete",
        "duplicate",
    } <= kinds
    # A mutant differs from its parent (almost always; a no-op edit is possible but rare).
    same = sum(
        assemble(k.source, s).code.tolist() == assemble(k.job.parent.source, s).code.tolist()
        for k in kids
    )
    assert same < 0.1 * len(kids)
