"""ALife substrates in JAX: pure functions, vmappable over parameters.

``get_substrate(name, **options)`` builds one by name; ``SUBSTRATES`` lists them.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from primordium.asal.substrates.base import Substrate, rollout, to_uint8
from primordium.asal.substrates.boids import Boids
from primordium.asal.substrates.boids_meanfield import BoidsMeanField
from primordium.asal.substrates.lenia import Lenia
from primordium.asal.substrates.lenia_soup import LeniaSoup
from primordium.asal.substrates.life import GameOfLife, Life
from primordium.asal.substrates.nca import DNCA, NCAd1, NCAd3
from primordium.asal.substrates.nca_sobel import NCASobel
from primordium.asal.substrates.particle_lenia import ParticleLenia
from primordium.asal.substrates.particle_life import ParticleLife, ParticleLifePP
from primordium.asal.substrates.plenia import PLenia
from primordium.asal.substrates.plife import PLife
from primordium.asal.substrates.plife_plus import PLifePlus
from primordium.errors import ConfigError

SUBSTRATES: dict[str, type[Substrate]] = {
    cls.name: cls for cls in (Life, Lenia, ParticleLife, ParticleLifePP, Boids, ParticleLenia, DNCA)
}
# The ASAL paper's particle systems (boids above is the paper's too), and primordium's mean-field boids.
SUBSTRATES.update({cls.name: cls for cls in (PLife, PLifePlus, PLenia, BoidsMeanField)})
# The ASAL paper's grid substrates, and primordium's grid variants under their own names.
SUBSTRATES |= {cls.name: cls for cls in (GameOfLife, NCAd1, NCAd3, LeniaSoup, NCASobel)}


def get_substrate(name: str, **options: Any) -> Substrate:
    """A substrate by name with static options (e.g. ``grid=32``); bad input is a ConfigError."""
    key = name.strip().lower().replace("-", "_")
    if key not in SUBSTRATES:
        raise ConfigError(f"unknown substrate {name!r} (choose from {', '.join(SUBSTRATES)})")
    cls = SUBSTRATES[key]
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    typed = {}
    for opt, value in options.items():
        if opt not in fields:
            raise ConfigError(
                f"substrate {key!r} has no option {opt!r} (options: {', '.join(fields)})"
            )
        default = fields[opt].default
        if isinstance(default, bool) and isinstance(value, str):
            # bool("false") is True: read the word instead.
            words = {"true": True, "1": True, "yes": True, "false": False, "0": False, "no": False}
            if value.strip().lower() not in words:
                raise ConfigError(f"substrate option {opt}={value!r} is not true or false")
            typed[opt] = words[value.strip().lower()]
            continue
        try:
            typed[opt] = type(default)(value) if not isinstance(value, type(default)) else value
        except (TypeError, ValueError):
            raise ConfigError(
                f"substrate option {opt}={value!r} is not a {type(default).__name__}"
            ) from None
    try:
        return cls(**typed)
    except ValueError as e:
        raise ConfigError(f"substrate {key!r}: {e}") from None


__all__ = ["SUBSTRATES", "Substrate", "get_substrate", "rollout", "to_uint8"]
