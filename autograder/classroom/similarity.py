"""Pairs of submissions whose code is unusually alike, per exercise, after removing the stub's code.

copydetect implements winnowing as MOSS does: it tokenises each file with Pygments and replaces
names, strings and comments by placeholders (so renamed variables, reformatting and added
comments change nothing), then compares sets of k-gram fingerprints (so reordered functions
change little). The stub's fingerprints are removed first: what every student was handed is no
evidence. A pair's similarity is the larger of its two shares (the part of either file that also
appears in the other), so a short file copied into a longer one still stands out.
"""

from __future__ import annotations

import io
import statistics
from dataclasses import dataclass

NOISE = 25  # copydetect's noise threshold: shared runs shorter than this (filtered characters) are ignored
WINDOW = 1  # keep every k-gram: no winnowing choice, so results do not depend on Python's salted str hash
FLAG_AT = 0.6  # a pair is flagged at this similarity or more ...
MARGIN = 0.25  # ... and when it stands this far above the exercise's median pair


@dataclass(frozen=True)
class Pair:
    exercise: str
    first: str  # submission keys, first < second
    second: str
    similarity: float  # max of the two shares, 0..1
    shares: tuple[float, float]
    slices: tuple[tuple[tuple[int, int], ...], tuple[tuple[int, int], ...]]  # copied character ranges in each source
    flagged: bool = False


def load_copydetect() -> None:
    """Import copydetect (about 0.7 CPU-s: it imports matplotlib.pyplot) ahead of ranking."""
    import copydetect  # noqa: F401


def _fingerprint(source: str, boilerplate=None):
    from copydetect import CodeFingerprint

    return CodeFingerprint("submission.py", NOISE, WINDOW, boilerplate=boilerplate, fp=io.StringIO(source))


def rank_pairs(exercise: str, sources: dict, stub: str | None = None, top: int | None = None) -> list[Pair]:
    """Every pair of `sources` (key -> source text), most alike first, or the `top` most alike (every flagged pair
    among them comes before any unflagged one); flags the unusually alike ones."""
    from copydetect import compare_files

    boilerplate = list(_fingerprint(stub).hashes) if stub else None
    prints = {}
    for key in sorted(sources):
        try:
            prints[key] = _fingerprint(sources[key], boilerplate)
        except Exception:  # a source Pygments cannot tokenise is left out, never fatal  # noqa: BLE001
            continue
    keys = sorted(prints)
    pairs = []
    for i, first in enumerate(keys):
        for second in keys[i + 1:]:
            if not prints[first].hashes or not prints[second].hashes:
                continue
            _, (share1, share2), (slices1, slices2) = compare_files(prints[first], prints[second])
            pairs.append(Pair(exercise, first, second, float(max(share1, share2)), (float(share1), float(share2)),
                              (_ranges(slices1), _ranges(slices2))))
    if not pairs:
        return []
    typical = statistics.median(p.similarity for p in pairs)
    pairs = [Pair(**{**p.__dict__, "flagged": p.similarity >= max(FLAG_AT, typical + MARGIN)}) for p in pairs]
    return sorted(pairs, key=lambda p: (-p.similarity, p.first, p.second))[:top]


def _ranges(slices) -> tuple[tuple[int, int], ...]:
    if len(slices) == 0 or len(slices[0]) == 0:
        return ()
    return tuple((int(a), int(b)) for a, b in zip(slices[0], slices[1]))


def highlighted(source: str, ranges) -> list[tuple[str, bool]]:
    """`source` cut into (text, copied?) segments, for showing a pair side by side."""
    segments, position = [], 0
    for start, end in sorted(ranges):
        start, end = max(start, position), min(end, len(source))
        if start >= end:
            continue
        segments.append((source[position:start], False))
        segments.append((source[start:end], True))
        position = end
    segments.append((source[position:], False))
    return [(text, copied) for text, copied in segments if text]
