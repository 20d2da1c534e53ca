"""What the soup is doing: entropies, a census, the state transition, a copy check, cubff's log line.

cubff's own self-replication test is in ``primordium.soup.selfrep``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import brotli
import numpy as np

from primordium.soup.languages import Language, execute, get_language

BROTLI_QUALITY = 2
BROTLI_WINDOW = 24


def shannon_h0(soup: np.ndarray) -> float:
    """Entropy of the soup's byte histogram, in bits per byte.

    Summed in byte order, one term at a time, as cubff sums it, so the last
    digits of its log agree.
    """
    counts = np.bincount(np.asarray(soup, dtype=np.uint8).reshape(-1), minlength=256)
    total = int(counts.sum())
    h = 0.0
    for c in counts.tolist():
        if c:
            frac = c / total
            h -= frac * math.log2(frac)
    return h


def brotli_size(soup: np.ndarray) -> int:
    """Bytes of the whole soup compressed by brotli at quality 2, window 2^24 (cubff's settings)."""
    data = np.ascontiguousarray(soup, dtype=np.uint8).tobytes()
    return len(brotli.compress(data, quality=BROTLI_QUALITY, lgwin=BROTLI_WINDOW))


def brotli_bits_per_byte(soup: np.ndarray) -> float:
    """Brotli (quality 2, window 2^24) compressed size of the whole soup, in bits per byte."""
    return 8.0 * brotli_size(soup) / np.asarray(soup).size


def entropy(soup: np.ndarray) -> dict[str, float]:
    """H0, brotli size and bits per byte, and high-order entropy = H0 − brotli bits per byte."""
    h0 = shannon_h0(soup)
    size = brotli_size(soup)
    bpb = 8.0 * size / np.asarray(soup).size
    return {"h0": h0, "brotli_size": size, "brotli_bpb": bpb, "high_order_entropy": h0 - bpb}


def cubff_log_line(
    epoch: int, size: int, programs: int, h0: float, bpb: float, selfreps: int | None = None
) -> str:
    """One row of cubff's ``--log`` CSV: epoch,brotli_size,soup_size,higher_entropy[,number_selfreps].

    cubff keeps the higher entropy as a float32 and prints it with six decimals.
    """
    line = f"{epoch},{size},{programs},{float(np.float32(h0 - bpb)):f}"
    return line if selfreps is None else f"{line},{selfreps}"


def _top_rows(keys: np.ndarray, top: int) -> tuple[np.ndarray, np.ndarray, int]:
    """Group equal rows of uint64 ``keys`` [n, w]; return (first index, count) of the ``top`` largest groups."""
    n = keys.shape[0]
    order = np.lexsort(keys.T[::-1])
    sk = keys[order]
    starts = np.flatnonzero(np.concatenate([[True], np.any(sk[1:] != sk[:-1], axis=1)]))
    counts = np.diff(np.append(starts, n))
    best = np.argsort(-counts, kind="stable")[:top]
    return order[starts[best]], counts[best], len(starts)


def census(
    soup: np.ndarray, lang: str | Language = "bff_noheads", top: int = 10, k: int = 8
) -> dict:
    """The most frequent whole programs and the most frequent k-byte substrings (k <= 8).

    Substrings are counted inside programs (never across two), once per position.
    """
    language = lang if isinstance(lang, Language) else get_language(lang)
    soup = np.ascontiguousarray(soup, dtype=np.uint8)
    n, length = soup.shape
    if not 1 <= k <= min(8, length):
        raise ValueError(f"substring length k must be in 1..{min(8, length)}, got {k}")
    padded = np.zeros((n, -(-length // 8) * 8), dtype=np.uint8)
    padded[:, :length] = soup
    first, counts, distinct = _top_rows(padded.view(np.uint64), top)
    programs = [
        {
            "count": int(c),
            "fraction": float(c / n),
            "hex": soup[i].tobytes().hex(),
            "index": int(i),
            "text": language.render(soup[i]),
        }
        for i, c in zip(first, counts, strict=False)
    ]
    # Pack each k-byte window into one uint64 (little-endian) and count the keys.
    span = length - k + 1
    key = np.zeros((n, span), dtype=np.uint64)
    for j in range(k):
        key |= soup[:, j : j + span].astype(np.uint64) << np.uint64(8 * j)
    flat = key.reshape(-1)
    uniq, wcounts = np.unique(flat, return_counts=True)
    best = np.argsort(-wcounts, kind="stable")[:top]
    substrings = []
    for i in best:
        sub = np.frombuffer(int(uniq[i]).to_bytes(8, "little")[:k], dtype=np.uint8)
        substrings.append(
            {"count": int(wcounts[i]), "hex": sub.tobytes().hex(), "text": language.render(sub)}
        )
    return {
        "programs": programs,
        "distinct_programs": int(distinct),
        "substrings": substrings,
        "k": k,
    }


@dataclass
class TransitionDetector:
    """Flags the state transition: high-order entropy and ops per tape both jump.

    A row is *calm* while the high-order entropy is below ``entropy_threshold``
    bits per byte (a random soup sits near 0; a soup taken over by replicators
    well above 1). The baseline is the median ops per tape over the first
    ``baseline_rows`` calm rows. The transition is the first row that is not
    calm and has at least ``ops_factor`` times the baseline's ops per tape (with
    no calm row yet, as when replicators win before the first row, the entropy
    alone decides).
    """

    entropy_threshold: float = 1.0
    ops_factor: float = 2.0
    baseline_rows: int = 8
    baseline: list[float] = field(default_factory=list)
    transition_epoch: int | None = None

    def update(self, epoch: int, high_order_entropy: float, ops_per_tape: float) -> bool:
        """Feed one logged row; return True on the row where the transition is first seen."""
        calm = high_order_entropy < self.entropy_threshold
        if calm and len(self.baseline) < self.baseline_rows:
            self.baseline.append(float(ops_per_tape))
        if self.transition_epoch is not None or calm:
            return False
        base = float(np.median(self.baseline)) if self.baseline else 0.0
        if ops_per_tape >= self.ops_factor * base:
            self.transition_epoch = int(epoch)
            return True
        return False

    def state(self) -> dict:
        return {
            "entropy_threshold": self.entropy_threshold,
            "ops_factor": self.ops_factor,
            "baseline_rows": self.baseline_rows,
            "baseline": list(self.baseline),
            "transition_epoch": self.transition_epoch,
        }

    @classmethod
    def from_state(cls, state: dict) -> TransitionDetector:
        return cls(**state)


def detect_transition(rows: list[dict], **kw) -> int | None:
    """Run the detector over logged metric rows (each with epoch, high_order_entropy, ops_per_tape).

    The row of epoch 0 (the initial soup, before any tape ran) is skipped.
    """
    det = TransitionDetector(**kw)
    for r in rows:
        if r.get("epoch", 0) > 0 and "high_order_entropy" in r and "ops_per_tape" in r:
            det.update(r["epoch"], r["high_order_entropy"], r["ops_per_tape"])
    return det.transition_epoch


def copy_check(
    program: np.ndarray,
    lang: str | Language = "bff_noheads",
    *,
    partner: str = "zero",
    generations: int = 4,
    max_steps: int = 8192,
    seed: int = 0,
    threshold: float = 0.9,
) -> dict:
    """Does ``program`` copy itself into its partner, whole, generation after generation?

    primordium's own check, stricter than cubff's test (``selfrep``), which
    asks only that 5 bytes of each half be reproducible.

    The program is put beside a partner (``zero``: all zero bytes; ``random``:
    random bytes), on the left and then on the right; the tape runs; the
    partner's half is compared byte by byte with the program that ran, as is
    and reversed (a copy made back to front is the commonest form in BFF,
    whose lineage alternates between the two). The half it produced is then put
    beside a fresh partner, for ``generations`` rounds. The program replicates
    (in that orientation) if in every round the child matches the parent (or
    its reverse) on at least ``threshold`` of its bytes while the parent keeps
    at least ``threshold`` of itself.
    """
    language = lang if isinstance(lang, Language) else get_language(lang)
    prog = np.asarray(program, dtype=np.uint8).reshape(-1)
    if partner not in ("zero", "random"):
        raise ValueError(f"partner must be 'zero' or 'random', not {partner!r}")
    length = len(prog)
    rng = np.random.default_rng([seed, 7])
    result: dict = {"partner": partner, "generations": generations}
    for side in ("left", "right"):
        current = prog.copy()
        copies, reversed_copies, keeps = [], [], []
        for _ in range(generations):
            other = (
                np.zeros(length, np.uint8)
                if partner == "zero"
                else rng.integers(0, 256, length, dtype=np.uint8)
            )
            tape = np.concatenate([current, other] if side == "left" else [other, current])
            out, _ = execute(language, tape, max_steps)
            parent, child = (
                (out[:length], out[length:]) if side == "left" else (out[length:], out[:length])
            )
            copies.append(float(np.mean(child == current)))
            reversed_copies.append(float(np.mean(child == current[::-1])))
            keeps.append(float(np.mean(parent == current)))
            current = child.copy()
        best = [max(a, b) for a, b in zip(copies, reversed_copies, strict=False)]
        result[side] = {
            "copy_fraction": copies,
            "reversed_copy_fraction": reversed_copies,
            "parent_kept": keeps,
            "replicates": min(best) >= threshold and min(keeps) >= threshold,
        }
    result["replicates"] = result["left"]["replicates"] or result["right"]["replicates"]
    return result
