"""One config object for an ASAL experiment: TOML file, then CLI flags on top."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

from primordium.errors import ConfigError, read_text_file

MODES = ("target", "open-endedness", "illuminate")
ALGOS = ("cma-es", "ga", "map-elites")

# Simulation lengths from the ASAL paper's settings (per substrate).
DEFAULT_STEPS = {"gol": 1024, "life_like": 1024, "lenia": 256, "lenia_soup": 256, "particle_life": 1000,
                 "particle_life_pp": 1000, "boids": 1000, "particle_lenia": 1000, "nca_d1": 1000, "nca_d3": 1000,
                 "nca_sobel": 1000, "dnca": 1000}


@dataclasses.dataclass
class AsalConfig:
    substrate: str = "lenia"
    substrate_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    mode: str = "target"
    prompts: list[str] = dataclasses.field(default_factory=list)
    target_image: str | None = None
    softmax: bool = False
    fm: str = "clip"
    fm_weights: str | None = None
    algo: str | None = None  # None: cma-es for target/open-endedness, ga for illuminate
    pop: int = 16
    gens: int = 100
    seed: int = 0
    steps: int | None = None
    frames: int = 8
    size: int | None = None  # render side; None: 224 for clip, 64 for pixels
    sigma: float = 0.1
    bins: int = 16  # MAP-Elites grid side

    def resolved(self) -> "AsalConfig":
        """Fill the automatic fields and check everything; raises ConfigError."""
        from primordium.asal.embed.base import MODELS
        from primordium.asal.substrates import get_substrate

        c = dataclasses.replace(self, substrate_options=dict(self.substrate_options), prompts=list(self.prompts))
        sub = get_substrate(c.substrate, **c.substrate_options)
        c.substrate = sub.name
        if c.mode not in MODES:
            raise ConfigError(f"unknown mode {c.mode!r} (choose from {', '.join(MODES)})")
        base_fm = c.fm.partition(":")[0].lower()
        if base_fm not in MODELS:
            raise ConfigError(f"unknown foundation model {c.fm!r} (choose from {', '.join(MODELS)})")
        if c.algo is None:
            c.algo = "ga" if c.mode == "illuminate" else "cma-es"
        if c.algo not in ALGOS:
            raise ConfigError(f"unknown algorithm {c.algo!r} (choose from {', '.join(ALGOS)})")
        if c.algo == "ga" and c.mode != "illuminate":
            raise ConfigError("--algo ga is the illumination algorithm; use --mode illuminate")
        if c.algo == "cma-es" and c.mode == "illuminate":
            raise ConfigError("--mode illuminate needs --algo ga or map-elites")
        if c.mode == "target":
            if not c.prompts and not c.target_image:
                raise ConfigError("--mode target needs --prompt TEXT (repeat for a sequence) or --target-image FILE")
            if c.prompts and c.target_image:
                raise ConfigError("give either --prompt or --target-image, not both")
            if c.prompts and base_fm == "pixels":
                raise ConfigError("the pixels model cannot embed text prompts; use --fm clip, or --target-image FILE")
            if c.target_image and not Path(c.target_image).is_file():
                raise ConfigError("no such target image", file=c.target_image)
        elif c.prompts or c.target_image:
            raise ConfigError(f"--prompt/--target-image only apply to --mode target, not {c.mode}")
        for name in ("pop", "gens", "frames"):
            if getattr(c, name) < 1:
                raise ConfigError(f"--{name} must be at least 1")
        if c.mode == "illuminate" and c.pop < 2:
            raise ConfigError("--mode illuminate needs --pop of at least 2")
        if c.mode == "open-endedness" and c.frames < 2:
            raise ConfigError("--mode open-endedness needs --frames of at least 2")
        if c.steps is None:
            c.steps = DEFAULT_STEPS[c.substrate]
        if c.steps < c.frames:
            raise ConfigError(f"--steps ({c.steps}) must be at least --frames ({c.frames})")
        if c.size is None:
            c.size = 64 if base_fm == "pixels" else 224
        if c.size < 8:
            raise ConfigError("--size must be at least 8 pixels")
        if c.sigma <= 0:
            raise ConfigError("--sigma must be positive")
        return c

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "config") -> "AsalConfig":
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(f"unknown field {unknown[0]!r} (fields: {', '.join(sorted(names))})", file=source)
        try:
            return cls(**d)
        except TypeError as e:
            raise ConfigError(str(e), file=source) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> "AsalConfig":
        try:
            data = tomllib.loads(read_text_file(path))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"bad TOML ({e})", file=path) from None
        data = data.get("asal", data)
        return cls.from_dict(data, source=str(path))


def parse_options(pairs: list[str]) -> dict[str, str]:
    """``--set grid=32 --set n=500`` -> {"grid": "32", "n": "500"}."""
    out = {}
    for p in pairs:
        key, eq, value = p.partition("=")
        if not eq or not key.strip():
            raise ConfigError(f"--set expects KEY=VALUE, got {p!r}")
        out[key.strip()] = value.strip()
    return out
