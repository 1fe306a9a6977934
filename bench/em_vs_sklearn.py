"""The reference EM (solutions/gmm) against scikit-learn's GaussianMixture: same data, start and iterations.

    .venv/bin/python bench/em_vs_sklearn.py [--n 100000] [--d 10] [--k 10] [--iterations 20] [--runs 3]

Both run exactly `--iterations` EM iterations (tol 0: no early stop) from the same weights, means
and covariances, with the same reg_covar, on one thread each; the figure is the ratio of median
wall times (reference / scikit-learn), measured alternately in one process. Target: ratio <= 1.0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from autograder.grading import import_file, reference_path  # noqa: E402

REG_COVAR = 1e-6


def problem(n: int, d: int, k: int, seed: int = 0):
    """A K-cluster mixture in D dimensions and a start drawn from it: X (N, D), weights (K,), means (K, D), covs."""
    rng = np.random.default_rng(seed)
    centres = rng.normal(scale=4.0, size=(k, d))
    X = centres[rng.integers(k, size=n)] + rng.normal(size=(n, d))
    weights = np.full(k, 1.0 / k)
    means = X[rng.choice(n, size=k, replace=False)]
    covs = np.repeat(np.cov(X.T)[None], k, axis=0)
    return X, weights, means, covs


def time_reference(gmm, X, weights, means, covs, iterations: int) -> float:
    started = time.perf_counter()
    *_, history = gmm.fit_gmm(X, weights, means, covs, max_iter=iterations, tol=0.0, reg_covar=REG_COVAR)
    seconds = time.perf_counter() - started
    if len(history) != iterations:
        raise RuntimeError(f"the reference ran {len(history)} iterations, not {iterations}")
    return seconds


def time_sklearn(X, weights, means, covs, iterations: int) -> float:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    # The start is given in full; "random_from_data" only spares scikit-learn a k-means run it would discard.
    model = GaussianMixture(len(weights), covariance_type="full", init_params="random_from_data", tol=0.0,
                            reg_covar=REG_COVAR, max_iter=iterations, weights_init=weights, means_init=means,
                            precisions_init=np.linalg.inv(covs))
    started = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # tol 0 never converges: that is the point
        model.fit(X)
    seconds = time.perf_counter() - started
    if model.n_iter_ != iterations:
        raise RuntimeError(f"scikit-learn ran {model.n_iter_} iterations, not {iterations}")
    return seconds


def measure(n=100_000, d=10, k=10, iterations=20, runs=3) -> dict:
    from threadpoolctl import threadpool_limits

    gmm = import_file(reference_path(ROOT, "gmm", "gmm"), "gmm")
    X, weights, means, covs = problem(n, d, k)
    ours, theirs = [], []
    with threadpool_limits(1):  # as the grader's sandbox runs it, and the same for both
        for _ in range(runs):
            ours.append(time_reference(gmm, X, weights, means, covs, iterations))
            theirs.append(time_sklearn(X, weights, means, covs, iterations))
    return {"n": n, "d": d, "k": k, "iterations": iterations, "runs": runs,
            "reference_s": statistics.median(ours), "sklearn_s": statistics.median(theirs),
            "ratio": statistics.median(ours) / statistics.median(theirs)}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=100_000)
    parser.add_argument("--d", type=int, default=10)
    parser.add_argument("--k", type=int, default=10)
    parser.add_argument("--iterations", type=int, default=20)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args(argv)
    f = measure(args.n, args.d, args.k, args.iterations, args.runs)
    print(f"N={f['n']} D={f['d']} K={f['k']}, {f['iterations']} iterations: reference {f['reference_s']:.2f} s, "
          f"scikit-learn {f['sklearn_s']:.2f} s, ratio {f['ratio']:.2f} (medians of {f['runs']})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
