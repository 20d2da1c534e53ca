"""The one place where engine field names become the CLI's flags, for error messages.

Engines word their errors about config fields (``programs must be even, got
3``) and name those fields on the error; the CLI shows the flag a user typed
(``--programs must be even, got 3``). A field's flag is ``--`` plus its name
with dashes, except where a command spells it otherwise (below).
"""

from __future__ import annotations

import re

from primordium.errors import PrimordiumError

# Fields whose flag is not simply the field's name with dashes.
FLAGS = {
    "max_steps": "--steps",  # soup: cubff's step budget per tape
    "prompts": "--prompt",  # asal: repeated once per prompt
    "interactions": "--interaction-pattern",
    "substrate_options": "--set",  # asal: --set KEY=VALUE, once per option
    "n_layer": "--layers",  # learn: the GPT's shape
    "n_head": "--heads",
}


def flag(field: str) -> str:
    return FLAGS.get(field, "--" + field.replace("_", "-"))


def render(error: PrimordiumError) -> str:
    """The error's one line with each field it names written as the CLI's flag."""
    message = error.message
    for field in error.fields:
        # The first whole-word use only: `steps` leaves `max_steps` alone, and in
        # "mode: unknown mode 'x'" the second `mode` is a noun, not the flag.
        message = re.sub(rf"(?<![\w-]){re.escape(field)}(?![\w-])", flag(field), message, count=1)
    return (error.location() + message).replace("\n", " ")
