"""Core War: an ICWS'94 assembler and a MARS exact against pMARS 0.9.2."""

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
    # The assembler and the battles load on first use, so `import
    # primordium.corewar` stays light: the assembler needs neither numba nor
    # the kernel, and one battle may run without numba (see mars_aot).
    if name in ("assemble", "assemble_file", "listing"):
        from primordium.corewar import redcode

        return getattr(redcode, name)
    if name in ("BattleResults", "Tournament", "battle", "run_battles", "tournament"):
        from primordium.corewar import battle

        return getattr(battle, name)
    raise AttributeError(name)
