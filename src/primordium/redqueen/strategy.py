"""The strategy operator: warriors built from the classic Core War families, no LLM needed.

A warrior here is a *genome*: one main family with its parameters, plus
optional parts that human authors bolt onto any family (a quick-scan before
the main code, an imp ring launched beside it, decoys in front, a boot that
copies the main code away from where it was loaded). The genome renders to
ICWS'94 Redcode and travels inside that source as a ``;strategy {...}``
comment, so the loop, which only keeps sources, hands it back to us when it
picks a parent.

Families (main parts), each written from the ICWS'94 semantics:

- ``imp``: a lone imp or an n-point imp ring (step = n^-1 mod the core size)
- ``stone``: a bomber stepping through the core (dwarf form or two bombs per pass)
- ``scanner``: compares two cells a step apart, bombs what it finds, then clears
- ``paper``: a self-copying replicator (processes from ``spl 1``, copy by post-increment)
- ``clear``: a counted core clear that never overwrites itself
- ``vampire``: bombs with JMPs whose targets all lead into a pit

Mutation keeps the family: it perturbs a parameter, adds, drops or retunes
one optional part, or crosses two parents (the child keeps its parent's
family; parts, and parameters when the family is shared, come from either).
Parents without a genome (a corpus draw, a warm-up opponent) get the offline
operator's instruction-level edits instead. With a corpus folder, a share of
new warriors are corpus files as they are.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from math import gcd
from pathlib import Path
from typing import Any

import numpy as np

from primordium.corewar.isa import Settings
from primordium.corewar.redcode import assemble
from primordium.errors import AssemblyError, ConfigError, PrimordiumError, read_text_file
from primordium.redqueen.mutation import Job, OfflineOperator, Proposal

FAMILIES = ("imp", "stone", "scanner", "paper", "clear", "vampire")
PARTS = (
    "qscan",
    "imp",
    "decoy",
    "boot",
)  # optional parts, in the order they are tried when too long
BOMBS = {
    "dat": ("dat.f", "#0", "#0"),
    "spl": ("spl.b", "#0", "#0"),
    "jmp": ("jmp.b", "0", "0"),
    "mov": ("mov.i", "0", "1"),
}
COUNTS = {
    "procs": (1, 6),
    "hits": (1, 80),
}  # parameters that are counts, not core offsets: (least, most)
_TAG = re.compile(r"^;strategy genome: (.*?)\s*$", re.M)
_TAG_WIDTH = 160  # pMARS reads at most 256 characters a line; a longer genome spans several lines

Line = tuple[str, str, str, str]  # label, opcode.modifier, A operand, B operand


# -- drawing parameters --------------------------------------------------------


def _step(rng: np.random.Generator, cs: int, reach: int) -> int:
    """A bombing/scanning step clear of the warrior itself, often a multiple of a small number (mod-k steps)."""
    lo, hi = reach + 1, cs - reach - 1
    if hi <= lo:
        return max(1, cs // 2)
    m = int(rng.choice([1, 2, 4, 5, 8]))
    s = int(rng.integers(lo, hi))
    return max(lo, (s // m) * m) if m > 1 else s


def _offset(rng: np.random.Generator, cs: int, reach: int, n: int | None = None):
    """A distance beyond the warrior's reach both ways (anywhere, in a core too small for that)."""
    lo, hi = (reach, cs - reach) if cs - reach > reach else (1, max(2, cs))
    return (
        int(rng.integers(lo, hi))
        if n is None
        else [int(x) for x in np.sort(rng.integers(lo, hi, n))]
    )


def _ring_step(points: int, cs: int) -> int | None:
    return pow(points, -1, cs) if points > 1 and gcd(points, cs) == 1 else None


def _new_params(family: str, rng: np.random.Generator, cs: int, reach: int) -> dict[str, Any]:
    bomb = lambda: str(rng.choice(list(BOMBS)))  # noqa: E731
    if family == "imp":
        points = int(rng.choice([1, 3, 3, 7]))
        return {"points": points if _ring_step(points, cs) else 1}
    if family == "stone":
        return {
            "form": str(rng.choice(["dwarf", "twin"])),
            "step": _step(rng, cs, reach),
            "bomb": bomb(),
            "spl": bool(rng.random() < 0.4),
            "gap": int(rng.integers(1, max(2, cs // 8))),
            "start": _offset(rng, cs, reach),
        }
    if family == "scanner":
        return {
            "step": _step(rng, cs, reach),
            "gap": int(rng.integers(1, max(2, cs // 4))),
            "bomb": str(rng.choice(["spl", "dat", "jmp"])),
            "hits": int(rng.integers(2, 40)),
            "clear_bomb": str(rng.choice(["dat", "spl"])),
        }
    if family == "paper":
        return {
            "procs": int(rng.integers(2, 5)),
            "step": _step(rng, cs, reach),
            "bomb_step": _step(rng, cs, reach) if rng.random() < 0.6 else 0,
        }
    if family == "clear":
        return {"bomb": str(rng.choice(["dat", "spl"]))}
    if family == "vampire":
        return {"step": _step(rng, cs, reach), "pit": str(rng.choice(["dat", "spl", "clear"]))}
    raise AssertionError(family)


def _new_part(part: str, rng: np.random.Generator, cs: int, reach: int) -> dict[str, Any]:
    if part == "qscan":
        k = int(rng.integers(2, 9))
        return {
            "probes": _offset(rng, cs, reach, k),
            "spread": int(rng.integers(1, 4)),
            "bomb": str(rng.choice(["spl", "dat"])),
        }
    if part == "imp":
        points = int(rng.choice([1, 3, 7]))
        return {"points": points if _ring_step(points, cs) else 1, "dist": _offset(rng, cs, reach)}
    if part == "decoy":
        n = int(rng.integers(2, 12))
        return {"cells": [[int(x) for x in rng.integers(1, cs, 2)] for _ in range(n)]}
    if part == "boot":
        return {"dist": _offset(rng, cs, reach)}
    raise AssertionError(part)


def random_genome(
    rng: np.random.Generator, settings: Settings, family: str | None = None
) -> dict[str, Any]:
    cs, reach = settings.core_size, min(settings.length, 100) + 4
    family = family or str(rng.choice(FAMILIES))
    g: dict[str, Any] = {"family": family, "params": _new_params(family, rng, cs, reach)}
    for part, p in (("qscan", 0.3), ("imp", 0.25), ("decoy", 0.25), ("boot", 0.3)):
        if part == "imp" and family == "imp":
            continue
        if rng.random() < p:
            g[part] = _new_part(part, rng, cs, reach)
    return g


# -- rendering -------------------------------------------------------------------


def _family_lines(g: dict[str, Any], cs: int) -> tuple[list[Line], str]:
    """The main part's lines and its entry label. Labels carry the family's prefix so parts never clash."""
    f, p = g["family"], g["params"]
    if f == "imp":
        return _imp_lines("m", p["points"], cs), "m_go"
    if f == "stone":
        bomb = BOMBS[p["bomb"]]
        head: list[Line] = [("s_go", "spl.b", "0", "0")] if p["spl"] else []
        if p["form"] == "dwarf":
            body = [
                ("s_loop", "add.ab", f"#{p['step']}", "s_ptr"),
                ("", "mov.i", "s_bomb", "@s_ptr"),
                ("", "jmp.b", "s_loop", "0"),
                ("s_ptr", "dat.f", "#0", f"#{p['start']}"),
            ]
        else:
            body = [
                ("s_loop", "mov.i", "s_bomb", "@s_ptr"),
                ("", "mov.i", "s_bomb", "*s_ptr"),
                ("", "add.f", "s_inc", "s_ptr"),
                ("", "jmp.b", "s_loop", "0"),
                ("s_ptr", "dat.f", f"#{p['start'] + p['gap']}", f"#{p['start']}"),
                ("s_inc", "dat.f", f"#{p['step']}", f"#{p['step']}"),
            ]
        lines = head + body + [("s_bomb", *bomb)]
        return lines, "s_go" if head else "s_loop"
    if f == "scanner":
        bomb = BOMBS[p["bomb"]]
        lines = [
            ("c_scan", "add.f", "c_inc", "c_ptr"),
            ("c_ptr", "sne.i", f"{p['step']}", f"{p['step'] + p['gap']}"),
            ("", "jmp.b", "c_scan", "0"),
            ("", "mov.i", "c_bomb", "*c_ptr"),
            ("", "mov.i", "c_bomb", "@c_ptr"),
            ("c_cnt", "djn.b", "c_scan", f"#{p['hits']}"),
            *_clear_lines("k", p["clear_bomb"], cs)[0],
            ("c_inc", "dat.f", f"#{p['step']}", f"#{p['step']}"),
            ("c_bomb", *bomb),
        ]
        return lines, "c_scan"
    if f == "paper":
        lines = [("p_go" if k == 0 else "", "spl.b", "1", "0") for k in range(p["procs"])]
        lines += [("p_silk", "spl.b", "@0", f"{p['step']}"), ("", "mov.i", "}p_silk", ">p_silk")]
        if p["bomb_step"]:
            lines.append(("", "mov.i", "p_bomb", f"<{p['bomb_step']}"))
        lines += [("", "jmp.b", "p_silk", "0"), ("p_bomb", "dat.f", "<1", "<1")]
        return lines, "p_go"
    if f == "clear":
        return _clear_lines("d", p["bomb"], cs)
    if f == "vampire":
        lines: list[Line] = [
            ("v_loop", "add.f", "v_inc", "v_fang"),
            ("", "mov.i", "v_fang", "@v_fang"),
            ("", "jmp.b", "v_loop", "0"),
            ("v_fang", "jmp.b", "v_pit", "0"),  # A: the pit, seen from the fang
            ("v_inc", "dat.f", f"#{-p['step']}", f"#{p['step']}"),
        ]
        if p["pit"] == "dat":
            lines.append(("v_pit", "dat.f", "#0", "#0"))
        elif p["pit"] == "spl":
            lines += [("v_pit", "spl.b", "#0", "0"), ("", "jmp.b", "v_pit", "0")]
        else:  # captured processes clear the core forward of the pit, far from the vampire's own code
            lines += [
                ("v_pit", "spl.b", "#0", "0"),
                ("", "mov.i", "v_pb", ">v_pp"),
                ("", "djn.f", "v_pit", ">v_pp"),
                ("v_pp", "dat.f", "#0", "#3"),
                ("v_pb", "dat.f", "#0", "#0"),
            ]
        return lines, "v_loop"
    raise AssertionError(f)


def _clear_lines(px: str, bomb: str, cs: int) -> tuple[list[Line], str]:
    """A core clear that wipes every cell but its own seven, over and over (a counter stops it short of itself).

    One process only: several would share the counter and pointer and, out
    of step, run the pointer onto the clear itself.
    """
    count = cs - 7
    lines = [
        (f"{px}_cl", "mov.i", f"{px}_bomb", f">{px}_ptr"),
        (f"{px}_cnt", "djn.b", f"{px}_cl", f"#{count}"),
        (
            "",
            "mov.ab",
            f"#{count}",
            f"{px}_cnt",
        ),  # reset the counter and the pointer, go round again
        ("", "mov.ab", "#2", f"{px}_ptr"),
        ("", "jmp.b", f"{px}_cl", "0"),
        (f"{px}_ptr", "dat.f", "#0", "#2"),  # first target: the cell after the bomb
        (f"{px}_bomb", *BOMBS[bomb]),
    ]
    return lines, f"{px}_cl"


def _imp_lines(px: str, points: int, cs: int, dist: int = 0) -> list[Line]:
    """A lone imp, or an n-point ring; with ``dist``, the imp is first copied that far away and started there.

    The ring's launch: ``spl 1`` lines double one process into 2^k that move
    in lockstep; each jumps through the post-incremented vector to its own
    table entry, and entry p jumps to ring point p. So point p runs right
    after point p-1 has copied the imp onto it, the order a ring needs.
    Table entries past n hold a DAT that ends the spare processes.
    """
    step = _ring_step(points, cs)
    boot: list[Line] = [(f"{px}_go", "mov.i", f"{px}_imp", f"{px}_imp+{dist}")] if dist else []
    if step is None:
        if not dist:
            return [(f"{px}_go", "mov.i", "0", "1")]
        return boot + [("", "jmp.b", f"{px}_imp+{dist}", "0"), (f"{px}_imp", "mov.i", "0", "1")]
    k = (points - 1).bit_length()
    lines: list[Line] = boot + [
        ("" if (j or dist) else f"{px}_go", "spl.b", "1", "0") for j in range(k)
    ]
    lines += [("", "jmp.b", f"}}{px}_vec", "0"), (f"{px}_vec", "dat.f", f"{px}_t", "0")]
    for p in range(2**k):
        lab = f"{px}_t" if p == 0 else ""
        lines.append(
            (lab, "jmp.b", f"{px}_imp+{dist + p * step}", "0")
            if p < points
            else (lab, "dat.f", "#0", "#0")
        )
    lines.append((f"{px}_imp", "mov.i", "#0", f"{step}"))
    return lines


def _signed(x: int, cs: int) -> int:
    x %= cs
    return x - cs if x > cs // 2 else x


def render(g: dict[str, Any], settings: Settings, name: str) -> str:
    """Redcode for a genome (parts that do not fit ``settings.length`` are left out, in PARTS order)."""
    g = dict(g)
    for part in (None, *PARTS):
        if part is not None:
            g.pop(part, None)
        src = _render(g, settings, name)
        try:
            assemble(src, settings)  # refuses a warrior longer than settings.length
            return src
        except AssemblyError:
            continue
    return src  # even the bare family is too long; the loop reports it as a failed candidate


def _render(g: dict[str, Any], settings: Settings, name: str) -> str:
    """Layout: quick-scan, decoys, imp launch, boot, main part, imp ring, quick-scan bomb."""
    cs = settings.core_size
    main, entry = _family_lines(g, cs)
    start = entry
    pre: list[Line] = []
    if (
        "boot" in g
    ):  # copy the main part away, then run the copy; the original stays behind as a decoy
        d, first = g["boot"]["dist"], main[0][0]  # every family labels its first line
        pre = [
            ("b_go" if k == 0 else "", "mov.i", f"{first}+{k}", f"{first}+{d + k}")
            for k in range(len(main))
        ]
        pre.append(("", "jmp.b", f"{entry}+{d}", "0"))
        start = "b_go"
    if "imp" in g:
        pre = [("i_go0", "spl.b", "i_go", "0"), ("", "jmp.b", start, "0")] + pre
        start = "i_go0"
    if "decoy" in g:
        pre = [
            ("", "dat.f", f"#{_signed(a, cs)}", f"#{_signed(b, cs)}")
            for a, b in g["decoy"]["cells"]
        ] + pre
    if "qscan" in g:
        q = g["qscan"]
        qs: list[Line] = []
        for k, probe in enumerate(q["probes"]):
            qs.append((f"q_{k}", "jmz.f", f"q_{k + 1}", f"q_{k}+{probe}"))
            for s in range(q["spread"]):
                qs.append(("", "mov.i", "q_bomb", f"q_{k}+{probe + s}"))
        qs.append((f"q_{len(q['probes'])}", "jmp.b", start, "0"))
        pre = qs + pre
        start = "q_0"
    lines = pre + main
    if "imp" in g:
        lines += _imp_lines("i", g["imp"]["points"], cs, g["imp"]["dist"])
    if "qscan" in g:
        lines.append(("q_bomb", *BOMBS[g["qscan"]["bomb"]]))
    text = json.dumps(g, sort_keys=True, separators=(",", ":"))
    out = [";redcode-94", f";name {name}", ";author primordium strategy operator"]
    out += [
        f";strategy genome: {text[k : k + _TAG_WIDTH]}" for k in range(0, len(text), _TAG_WIDTH)
    ]
    for lab, op, a, b in lines:
        out.append(f"{lab:<8} {op:<7} {a}, {b}")
    out += [f"         end     {start}"]
    return "\n".join(out) + "\n"


def genome_of(source: str | None) -> dict[str, Any] | None:
    """The genome a source carries, or None (a corpus warrior, a hand-written one, a damaged tag)."""
    parts = _TAG.findall(source or "")
    if not parts:
        return None
    try:
        g = json.loads("".join(parts))
    except json.JSONDecodeError:
        return None
    if (
        not isinstance(g, dict)
        or g.get("family") not in FAMILIES
        or not isinstance(g.get("params"), dict)
    ):
        return None
    return g


# -- mutation --------------------------------------------------------------------


def _perturb(value: Any, rng: np.random.Generator, cs: int, reach: int) -> Any:
    if isinstance(value, bool):
        return not value
    if isinstance(value, int):
        r = rng.random()
        if r < 0.5:
            return (
                int((value + int(rng.integers(1, 9)) * (1 if rng.random() < 0.5 else -1)) % cs) or 1
            )
        if r < 0.8:
            return int((value + int(rng.integers(-cs // 20, cs // 20 + 1))) % cs) or 1
        return _offset(rng, cs, reach)
    return value


def mutate_genome(
    g: dict[str, Any], rng: np.random.Generator, settings: Settings
) -> tuple[dict[str, Any], str]:
    """One structural edit, never changing the family. Returns the child and what was done."""
    cs, reach = settings.core_size, min(settings.length, 100) + 4
    g = json.loads(json.dumps(g))  # a deep copy
    fam, params = g["family"], g["params"]
    if rng.random() < 0.6:
        key = str(rng.choice(sorted(params)))
        fresh = _new_params(fam, rng, cs, reach)
        if key == "points" or isinstance(params[key], str) or rng.random() < 0.15:
            params[key] = fresh[key]  # a categorical choice: draw it again
        elif key in COUNTS:
            lo, hi = COUNTS[key]
            params[key] = int(np.clip(params[key] + int(rng.choice([-2, -1, 1, 2])), lo, hi))
        else:
            params[key] = _perturb(params[key], rng, cs, reach)
        if fam == "imp" and not _ring_step(params["points"], cs):
            params["points"] = 1
        return g, f"param:{key}"
    part = str(rng.choice([p for p in PARTS if not (p == "imp" and fam == "imp")]))
    if part not in g:
        g[part] = _new_part(part, rng, cs, reach)
        return g, f"add:{part}"
    if rng.random() < 0.4:
        del g[part]
        return g, f"drop:{part}"
    g[part] = _retune_part(part, g[part], rng, cs, reach)
    return g, f"tune:{part}"


def _retune_part(
    part: str, p: dict[str, Any], rng: np.random.Generator, cs: int, reach: int
) -> dict[str, Any]:
    if part == "qscan":
        k = int(rng.integers(len(p["probes"])))
        p["probes"][k] = _perturb(p["probes"][k], rng, cs, reach)
        p["probes"].sort()
    elif part == "decoy":
        p["cells"] = (
            p["cells"][:-1]
            if len(p["cells"]) > 1 and rng.random() < 0.5
            else p["cells"] + [[int(x) for x in rng.integers(1, cs, 2)]]
        )
    elif part == "imp":
        if rng.random() < 0.5:
            p["points"] = int(rng.choice([1, 3, 7]))
            p["points"] = p["points"] if _ring_step(p["points"], cs) else 1
        else:
            p["dist"] = _perturb(p["dist"], rng, cs, reach)
    else:
        p["dist"] = _perturb(p["dist"], rng, cs, reach)
    return p


def cross_genomes(a: dict[str, Any], b: dict[str, Any], rng: np.random.Generator) -> dict[str, Any]:
    """A child of ``a``'s family: parts from either parent; parameters mixed when both share the family."""
    child = json.loads(json.dumps(a))
    if b["family"] == a["family"]:
        for key in child["params"]:
            if key in b["params"] and rng.random() < 0.5:
                child["params"][key] = json.loads(json.dumps(b["params"][key]))
    for part in PARTS:
        if part == "imp" and a["family"] == "imp":
            continue
        if rng.random() < 0.5:
            if part in b:
                child[part] = json.loads(json.dumps(b[part]))
            else:
                child.pop(part, None)
    return child


# -- the operator ----------------------------------------------------------------


def load_corpus(directory: str | Path, settings: Settings) -> list[tuple[str, str]]:
    """(file name, source) of every .red file in a folder that assembles and fits ``settings``."""
    d = Path(directory).expanduser()
    if not d.is_dir():
        raise ConfigError(f"field 'corpus': {d} is not a folder")
    out = []
    for f in sorted(d.glob("*.red")):
        try:
            text = read_text_file(f)
            if assemble(text, settings, file=str(f)).length <= settings.length:
                out.append((f.name, text))
        except PrimordiumError:
            continue
    if not out:
        raise ConfigError(
            f"field 'corpus': no warriors in {d} (no .red file that assembles for this core)"
        )
    return out


class StrategyOperator:
    """New warriors from the family grammar (or a corpus), structure-respecting mutation and crossover."""

    name = "strategy"

    def __init__(
        self,
        settings: Settings,
        corpus: str | Path | None = None,
        corpus_share: float = 0.3,
        crossover: float = 0.2,
    ):
        self.settings = settings
        self.corpus = load_corpus(corpus, settings) if corpus else []
        self.corpus_share = (
            corpus_share  # chance a new warrior is a corpus file (when there is a corpus)
        )
        self.crossover = (
            crossover  # chance a mutation job is a crossover (when the partner has a genome)
        )
        self.fallback = OfflineOperator(settings)

    def propose(self, jobs: Sequence[Job]) -> list[Proposal]:
        return [self._one(j) for j in jobs]

    def _name(self, job: Job, what: str) -> str:
        return f"{what} r{job.round}i{job.iteration}s{job.slot}"

    def _one(self, job: Job) -> Proposal:
        rng = job.rng()
        if job.kind == "new" or job.parent is None:
            if self.corpus and rng.random() < self.corpus_share:
                fname, text = self.corpus[int(rng.integers(len(self.corpus)))]
                return Proposal(job, text, f"corpus:{fname}")
            g = random_genome(rng, self.settings)
            return Proposal(
                job, render(g, self.settings, self._name(job, g["family"])), f"new:{g['family']}"
            )
        g = genome_of(job.parent.source)
        if g is None:  # no structure to respect: edit instructions
            p = self.fallback.propose([job])[0]
            return Proposal(job, p.source, f"plain:{p.operator}", error=p.error)
        other = genome_of(job.other.source) if job.other is not None else None
        try:
            if other is not None and rng.random() < self.crossover:
                child, what = cross_genomes(g, other, rng), "crossover"
            else:
                child, what = mutate_genome(g, rng, self.settings)
            return Proposal(
                job, render(child, self.settings, self._name(job, child["family"])), what
            )
        except (KeyError, TypeError, ValueError, IndexError, AttributeError) as e:
            # A hand-edited genome tag that names a family but lacks its fields: a failed candidate.
            return Proposal(
                job,
                None,
                "mutate",
                error=f"parent's strategy genome is damaged ({type(e).__name__}: {e})",
            )
