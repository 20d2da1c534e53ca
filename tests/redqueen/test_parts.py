"""Config loading, descriptors, the archive and the offline operator on their own."""

from __future__ import annotations

import numpy as np
import pytest

from primordium.corewar import Settings
from primordium.corewar.redcode import assemble
from primordium.errors import ConfigError
from primordium.redqueen.archive import Archive, Elite
from primordium.redqueen.config import DRQConfig, load_toml, with_overrides
from primordium.redqueen.descriptors import DESCRIPTORS
from primordium.redqueen.mutation import Job, OfflineOperator


def test_paper_defaults():
    c = DRQConfig().validate()
    assert (c.rounds, c.iterations, c.history, c.p_new, c.n_init, c.threshold, c.battle_rounds) == (
        20, 250, 20, 0.1, 8, 0.8, 20)
    assert (c.core.core_size, c.core.cycles, c.core.processes, c.core.length, c.core.distance) == (
        8000, 80000, 8000, 100, 100)
    assert c.initial_opponents == ("imp",) and c.descriptors == ("spawned", "coverage") and c.operator == "offline"


def test_toml_round_trip_and_field_errors(tmp_path):
    p = tmp_path / "drq.toml"
    p.write_text('rounds = 3\ndescriptors = ["opcodes", "length"]\n[core]\ncycles = 500\n[llm]\nmodel = "m"\n')
    c = load_toml(p)
    assert c.rounds == 3 and c.descriptors == ("opcodes", "length") and c.core.cycles == 500 and c.llm.model == "m"
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
    c = with_overrides(DRQConfig(), {"rounds": 2, "core.cycles": 100, "descriptors": "length,opcodes", "seed": None})
    assert c.rounds == 2 and c.core.cycles == 100 and c.descriptors == ("length", "opcodes") and c.seed == 0


def test_bins_follow_the_public_code():
    sp = DESCRIPTORS["spawned"]
    assert [sp.bin(v) for v in (0, 0.99, 1, 9.5, 10, 99, 100, 9999, 10000, 1e9)] == [0, 0, 1, 1, 2, 2, 3, 4, 5, 5]
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
    jobs = [Job("mutate", 2, i, 0, 42, parent=parents[i % 50], other=parents[(i + 1) % 50]) for i in range(400)]
    kids = op.propose(jobs)
    kinds = set()
    for p in news + kids:
        w = assemble(p.source, s)
        assert 1 <= w.length <= s.length
        kinds.update(p.operator.split("+"))
    assert {"random", "crossover", "opcode", "modifier", "a_mode", "b_number", "insert", "delete",
            "duplicate"} <= kinds
    # A mutant differs from its parent (almost always; a no-op edit is possible but rare).
    same = sum(assemble(k.source, s).code.tolist() == assemble(k.job.parent.source, s).code.tolist() for k in kids)
    assert same < 0.1 * len(kids)
