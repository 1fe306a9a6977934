"""Similarity on a made class: every planted copy ranks above every pair of independent solutions."""

import pytest

from autograder.classroom import madeclass
from autograder.classroom.similarity import highlighted, rank_pairs
from conftest import ROOT

STUB = (ROOT / "exercises" / "gmm" / "gmm.py").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def made_class():
    """Independent correct and wrong solutions (each filled into the stub) and three planted copies."""
    independent = {name: madeclass.fill_stub(STUB, madeclass.implementation(name))
                   for name in ("cholesky", "loops", "wrong_axis", "no_reg", "scipy_stats", "late_vectorised")}
    independent["reference"] = madeclass.without_fences((ROOT / "solutions" / "gmm" / "gmm.py").read_text())
    independent["stub_only"] = STUB
    planted = {
        "renamed_cholesky": madeclass.renamed(independent["cholesky"], {
            "scores": "s", "peak": "top", "log_norm": "lz", "counts": "nk", "centres": "mus", "spreads": "covs_out",
            "offset": "d", "centre": "m", "history": "hist", "value": "v", "step": "i"}),
        "reformatted_loops": madeclass.reformatted(independent["loops"]),
        "reordered_wrong_axis": madeclass.reordered(independent["wrong_axis"]),
    }
    originals = {"renamed_cholesky": "cholesky", "reformatted_loops": "loops", "reordered_wrong_axis": "wrong_axis"}
    return {**independent, **planted}, {frozenset((copy, original)) for copy, original in originals.items()}, set(independent)


def test_every_planted_pair_ranks_above_every_independent_pair(made_class):
    sources, planted, independent = made_class
    pairs = rank_pairs("gmm", sources, STUB)
    planted_scores = [p.similarity for p in pairs if frozenset((p.first, p.second)) in planted]
    independent_scores = [p.similarity for p in pairs if {p.first, p.second} <= independent]
    assert len(planted_scores) == 3 and len(independent_scores) == 21  # 7 independent, plus the stub with nothing left
    assert min(planted_scores) > max(independent_scores), (planted_scores, max(independent_scores))
    flagged = {frozenset((p.first, p.second)) for p in pairs if p.flagged}
    assert flagged == planted


def test_the_stub_is_no_evidence(made_class):
    import statistics

    sources, _, independent = made_class
    with_stub = {(p.first, p.second): p.similarity for p in rank_pairs("gmm", sources, STUB)}
    without = {(p.first, p.second): p.similarity for p in rank_pairs("gmm", sources, None)}
    assert ("reference", "stub_only") not in with_stub  # nothing of the untouched stub is left to compare
    assert without[("reference", "stub_only")] > 0.3
    typical = [statistics.median(v for (a, b), v in pairs.items() if {a, b} <= independent) for pairs in (with_stub, without)]
    assert typical[0] < 0.8 * typical[1], typical  # shared docstrings and signatures no longer count


def test_ranking_is_deterministic_and_copied_ranges_lie_in_the_source(made_class):
    sources, _, _ = made_class
    first, again = rank_pairs("gmm", sources, STUB), rank_pairs("gmm", sources, STUB)
    assert [(p.first, p.second, p.similarity) for p in first] == [(p.first, p.second, p.similarity) for p in again]
    top = first[0]
    segments = highlighted(sources[top.first], top.slices[0])
    assert "".join(text for text, _ in segments) == sources[top.first]
    assert any(copied for _, copied in segments)
