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
DEFAULT_STEPS = {
    "gol": 1024,
    "life_like": 1024,
    "lenia": 256,
    "lenia_soup": 256,
    "particle_life": 1000,
    "particle_life_pp": 1000,
    "boids": 1000,
    "particle_lenia": 1000,
    "nca_d1": 1000,
    "nca_d3": 1000,
    "nca_sobel": 1000,
    "dnca": 1000,
}
# The paper's particle substrates (their rollout_steps) and primordium's mean-field boids.
DEFAULT_STEPS.update({"plife": 1000, "plife_plus": 1000, "plenia": 1000, "boids_meanfield": 1000})


@dataclasses.dataclass
class AsalConfig:
    substrate: str = "lenia"
    substrate_options: dict[str, Any] = dataclasses.field(default_factory=dict)
    mode: str = "target"
    prompts: list[str] = dataclasses.field(default_factory=list)
    target_image: str | None = None
    softmax: bool = False  # shorthand for coef_softmax = 1 when it is 0
    coef_prompt: float = 1.0
    coef_softmax: float = 0.0
    coef_oe: float = 0.0
    tiling: str = "tile"  # how prompts are spread over frames: tile (the paper's) or blocks
    bs: int = 1  # initial states each simulation is averaged over
    fm: str = "clip"
    fm_weights: str | None = None
    algo: str | None = None  # None: cma-es for target/open-endedness, ga for illuminate
    pop: int | None = None  # None: 16 for cma-es, 256 for ga and map-elites
    children: int = 32  # illumination GA: children per generation
    k_nbrs: int = 2  # illumination GA: neighbours in the novelty estimate
    gens: int = 1000
    seed: int = 0
    steps: int | None = None
    frames: int | None = None  # None: one per prompt (target), 8 (open-endedness)
    size: int = 224  # render side
    sigma: float = 0.1
    bins: int = 16  # MAP-Elites grid side
    # The best simulation as best.gif and best.mp4. Rendering them costs a long
    # rollout and an encode; runs nobody watches (tests, sweeps of searches) skip it.
    video: bool = True
    # best_so_far.png (the best simulation so far; an illumination run: some of its
    # archive) after the first generation and every this many; 0: never. One short
    # rollout each time, so the gallery shows a running search's progress.
    picture_every: int = 10

    def resolved(self) -> AsalConfig:
        """Fill the automatic fields and check everything; raises ConfigError."""
        from primordium.asal.embed.base import MODELS
        from primordium.asal.substrates import get_substrate

        c = dataclasses.replace(
            self, substrate_options=dict(self.substrate_options), prompts=list(self.prompts)
        )
        _check_types(c)
        sub = get_substrate(c.substrate, **c.substrate_options)
        c.substrate = sub.name
        if c.mode not in MODES:
            raise ConfigError(
                f"mode: unknown mode {c.mode!r} (choose from {', '.join(MODES)})", field="mode"
            )
        base_fm = c.fm.partition(":")[0].lower()
        if base_fm not in MODELS:
            raise ConfigError(
                f"fm: unknown foundation model {c.fm!r} (choose from {', '.join(MODELS)})",
                field="fm",
            )
        if c.algo is None:
            c.algo = "ga" if c.mode == "illuminate" else "cma-es"
        if c.algo not in ALGOS:
            raise ConfigError(
                f"algo: unknown algorithm {c.algo!r} (choose from {', '.join(ALGOS)})", field="algo"
            )
        if c.algo == "ga" and c.mode != "illuminate":
            raise ConfigError(
                "algo ga is the illumination algorithm; use mode illuminate", field=("algo", "mode")
            )
        if c.algo == "cma-es" and c.mode == "illuminate":
            raise ConfigError("mode illuminate needs algo ga or map-elites", field=("mode", "algo"))
        if c.mode == "target":
            if not c.prompts and not c.target_image:
                raise ConfigError(
                    "mode target needs prompts (one or more texts) or a target_image file",
                    field=("mode", "prompts", "target_image"),
                )
            if c.prompts and c.target_image:
                raise ConfigError(
                    "give either prompts or target_image, not both",
                    field=("prompts", "target_image"),
                )
            if c.prompts and base_fm == "pixels":
                raise ConfigError(
                    "the pixels model cannot embed text prompts; use fm clip, or a target_image",
                    field=("fm", "target_image"),
                )
            if c.target_image and not Path(c.target_image).is_file():
                raise ConfigError("no such target image", file=c.target_image)
        elif c.prompts or c.target_image:
            raise ConfigError(
                f"prompts and target_image only apply to mode target, not {c.mode}",
                field=("prompts", "target_image", "mode"),
            )
        if c.pop is None:
            c.pop = 16 if c.algo == "cma-es" else 256
        if c.softmax and c.coef_softmax == 0:
            c.coef_softmax = 1.0
        if c.mode == "open-endedness":
            c.coef_prompt, c.coef_softmax = 0.0, 0.0
            c.coef_oe = c.coef_oe or 1.0
        n_prompts = max(1, len(c.prompts))
        if c.frames is None:
            c.frames = n_prompts if c.mode == "target" else (8 if c.mode == "open-endedness" else 1)
        # As the paper's search: never fewer frames than prompts.
        c.frames = max(c.frames, n_prompts) if c.mode == "target" else c.frames
        for name in ("pop", "gens", "frames", "bs", "children", "k_nbrs"):
            if getattr(c, name) < 1:
                raise ConfigError(f"{name} must be at least 1", field=name)
        if c.mode == "target" and c.frames % n_prompts:
            raise ConfigError(
                f"frames ({c.frames}) must be a multiple of the number of prompts ({n_prompts})",
                field="frames",
            )
        if c.tiling not in ("tile", "blocks"):
            raise ConfigError(
                f"tiling: unknown tiling {c.tiling!r} (choose from tile, blocks)", field="tiling"
            )
        if c.mode == "illuminate" and c.pop < 2:
            raise ConfigError("mode illuminate needs pop of at least 2", field=("mode", "pop"))
        if c.mode == "illuminate" and c.k_nbrs >= c.pop + c.children:
            raise ConfigError(
                "k_nbrs must be smaller than pop + children", field=("k_nbrs", "pop", "children")
            )
        if c.mode == "open-endedness" and c.frames < 2:
            raise ConfigError(
                "mode open-endedness needs frames of at least 2", field=("mode", "frames")
            )
        if c.steps is None:
            c.steps = int(
                getattr(sub, "rollout_steps", None) or DEFAULT_STEPS.get(c.substrate, 1000)
            )
        if c.steps < c.frames:
            raise ConfigError(
                f"steps ({c.steps}) must be at least frames ({c.frames})", field=("steps", "frames")
            )
        if c.picture_every < 0:
            raise ConfigError("picture_every must be 0 (never) or more", field="picture_every")
        if c.size < 8:
            raise ConfigError("size must be at least 8 pixels", field="size")
        if base_fm == "pixels" and c.size % 8:
            raise ConfigError(
                f"size ({c.size}) must be a multiple of 8 for the pixels model", field="size"
            )
        if c.sigma <= 0:
            raise ConfigError("sigma must be positive", field="sigma")
        return c

    def time_sampling(self):
        """The paper's time sampling: the final state for illumination, else K frames ending chunks."""
        return "final" if self.mode == "illuminate" else (int(self.frames), True)

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any], source: str = "config") -> AsalConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(d) - names)
        if unknown:
            raise ConfigError(
                f"unknown field {unknown[0]!r} (fields: {', '.join(sorted(names))})", file=source
            )
        try:
            return cls(**d)
        except TypeError as e:
            raise ConfigError(str(e), file=source) from None

    @classmethod
    def from_toml(cls, path: str | Path) -> AsalConfig:
        try:
            data = tomllib.loads(read_text_file(path))
        except tomllib.TOMLDecodeError as e:
            raise ConfigError(f"bad TOML ({e})", file=path) from None
        data = data.get("asal", data)
        return cls.from_dict(data, source=str(path))


_NUMBERS = ("coef_prompt", "coef_softmax", "coef_oe", "sigma")
_INTS = (
    "pop", "gens", "seed", "steps", "frames", "size", "bs", "children", "k_nbrs", "bins",
    "picture_every",
)  # fmt: skip
_STRINGS = ("substrate", "mode", "fm", "tiling")


def _check_types(c: AsalConfig) -> None:
    """Wrong types (a TOML string where a number belongs) -> one line naming the field."""
    if not isinstance(c.video, bool):
        raise ConfigError(f"video must be true or false, got {c.video!r}", field="video")
    for name in _NUMBERS:
        v = getattr(c, name)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            raise ConfigError(f"field {name!r} must be a number, got {v!r}")
        if v != v or v in (float("inf"), float("-inf")):
            raise ConfigError(f"field {name!r} must be a finite number, got {v!r}")
    for name in _INTS:
        v = getattr(c, name)
        if v is not None and (isinstance(v, bool) or not isinstance(v, int)):
            raise ConfigError(f"field {name!r} must be a whole number, got {v!r}")
    for name in _STRINGS:
        if not isinstance(getattr(c, name), str):
            raise ConfigError(f"field {name!r} must be a string, got {getattr(c, name)!r}")


def parse_options(pairs: list[str]) -> dict[str, str]:
    """``--set grid=32 --set n=500`` -> {"grid": "32", "n": "500"}."""
    out = {}
    for p in pairs:
        key, eq, value = p.partition("=")
        if not eq or not key.strip():
            raise ConfigError(
                f"substrate_options expects KEY=VALUE, got {p!r}", field="substrate_options"
            )
        out[key.strip()] = value.strip()
    return out
