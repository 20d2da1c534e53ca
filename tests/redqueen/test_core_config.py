"""The DRQ config's [core] is the MARS's own Settings: one definition, same files and flags."""

from __future__ import annotations

import dataclasses

import pytest

from primordium.corewar.isa import Settings
from primordium.errors import ConfigError
from primordium.redqueen.config import (
    CORE_FIELDS,
    CoreConfig,
    DRQConfig,
    from_dict,
    with_overrides,
)


def test_core_config_is_the_settings():
    assert issubclass(CoreConfig, Settings)
    assert [f.name for f in dataclasses.fields(CoreConfig)] == [
        f.name for f in dataclasses.fields(Settings)
    ]
    # The defaults are the MARS's (the ICWS'94 hill), not a second copy of them.
    assert CoreConfig().settings() == Settings()
    s = CoreConfig(core_size=800, cycles=900, processes=70, length=20, distance=30).settings(
        rounds=5, warriors=3
    )
    assert type(s) is Settings
    assert (s.core_size, s.cycles, s.processes, s.length, s.distance) == (800, 900, 70, 20, 30)
    assert (s.rounds, s.warriors, s.pspace) == (5, 3, 50)


def test_core_table_and_flags_unchanged():
    c = from_dict({"core": {"core_size": 800, "distance": 20}}, where="x.toml")
    assert (c.core.core_size, c.core.distance, c.core.cycles) == (800, 20, 80000)
    c = with_overrides(c, {"core.cycles": 1234})
    assert c.core.cycles == 1234 and c.core.core_size == 800
    # A saved config holds only the [core] fields, and reads back equal.
    d = c.to_dict()
    assert list(d["core"]) == list(CORE_FIELDS)
    assert from_dict(d) == c
    # Rounds and warriors are per battle, not [core] fields.
    with pytest.raises(ConfigError, match=r"unknown field 'core\.rounds'"):
        from_dict({"core": {"rounds": 3}}, where="x.toml")
    with pytest.raises(ConfigError, match=r"field 'core\.cycles': expected an integer"):
        from_dict({"core": {"cycles": "many"}}, where="x.toml")
    with pytest.raises(ConfigError, match=r"field 'core\.length'"):
        DRQConfig(core=CoreConfig(core_size=10, length=20)).validate()
