"""Reading a params file (best_params.json or an archive entry) back into a substrate's pytree."""

from __future__ import annotations

from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

from primordium.errors import ConfigError


def load_params_file(path: str | Path, substrate):
    """A best_params.json (or an archive entry) -> params pytree for ``substrate``."""
    import json

    from primordium.errors import read_text_file

    try:
        doc = json.loads(read_text_file(path))
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"not JSON ({e.msg} at line {e.lineno})", file=path, line=e.lineno
        ) from None
    if isinstance(doc, list):
        if not doc:
            raise ConfigError("empty params list", file=path)
        doc = doc[0]
    if not isinstance(doc, dict) or "flat" not in doc and "params" not in doc:
        raise ConfigError(
            "expected a params file with a 'flat' or 'params' field (best_params.json)", file=path
        )
    if doc.get("substrate") not in (None, substrate.name):
        raise ConfigError(
            f"params are for substrate {doc['substrate']!r}, not {substrate.name!r}", file=path
        )
    template = substrate.default_params(jax.random.PRNGKey(0))
    flat0, unravel = ravel_pytree(template)
    if "flat" in doc:
        flat = np.asarray(doc["flat"], dtype=np.float32) if _is_numbers(doc["flat"]) else None
        if flat is None or flat.ndim != 1:
            raise ConfigError("field 'flat' must be a list of numbers", file=path)
    else:
        try:
            tree = jax.tree_util.tree_map(
                lambda t, v: np.asarray(v, np.float32).reshape(np.shape(t)), template, doc["params"]
            )
        except (ValueError, TypeError) as e:
            raise ConfigError(
                f"params do not fit substrate {substrate.name!r} ({e})", file=path
            ) from None
        flat = np.asarray(ravel_pytree(tree)[0])
    if flat.shape[0] != flat0.shape[0]:
        raise ConfigError(
            f"params have {flat.shape[0]} values but substrate {substrate.name!r} with these options "
            f"expects {flat0.shape[0]}",
            file=path,
        )
    return unravel(jnp.asarray(flat))


def _is_numbers(v) -> bool:
    return isinstance(v, list) and all(
        isinstance(x, (int, float)) and not isinstance(x, bool) for x in v
    )
