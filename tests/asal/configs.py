"""Small search settings shared by the ASAL tests: a 16x16 Life-like soup, 3 generations."""

from __future__ import annotations

from primordium.asal.config import AsalConfig


def quick_config(**kw) -> AsalConfig:
    base = dict(
        substrate="life_like",
        substrate_options={"grid": 16},
        mode="open-endedness",
        fm="pixels",
        pop=6,
        gens=3,
        seed=3,
        steps=24,
        frames=4,
        size=16,
        sigma=0.5,
        video=False,
        picture_every=0,  # best_so_far.png: tested on its own in test_search
    )
    return AsalConfig(**(base | kw))
