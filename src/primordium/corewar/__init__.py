"""Core War: an ICWS'94 assembler and a MARS exact against pMARS 0.9.2."""

from primordium.corewar.battle import BattleResults, Tournament, battle, run_battles, tournament
from primordium.corewar.isa import Mod, Mode, Op, Settings, Warrior
from primordium.corewar.warriors import builtin_path, builtin_warriors

__all__ = [
    "BattleResults",
    "Mod",
    "Mode",
    "Op",
    "Settings",
    "Tournament",
    "Warrior",
    "assemble",
    "assemble_file",
    "battle",
    "builtin_path",
    "builtin_warriors",
    "listing",
    "run_battles",
    "tournament",
]


def __getattr__(name):
    # The assembler loads on first use so `import primordium.corewar` stays light.
    if name in ("assemble", "assemble_file", "listing"):
        from primordium.corewar import redcode

        return getattr(redcode, name)
    raise AttributeError(name)
