"""Probes of the GMM exercise: they call the student's gmm.py on fixed inputs. No answers here."""

import numpy as np

from autograder.sandboxed.probekit import ContractError, ProbeSet, given_stand_ins, unpack

PROBES = ProbeSet()
# A function that calls other contract functions is also run with stand-ins in their place (label -> pieces),
# as the reference's is, so that a mistake in log_gaussian_pdf costs only in its own checks, not again in
# e_step's and fit_gmm's.
E_STEP_GIVEN = {"given_pdf": ("log_gaussian_pdf",)}
FIT_GIVEN = {"given_e": ("e_step",), "given_m": ("m_step",), "given_em": ("e_step", "m_step")}


# ---------------------------------------------------------------- stand-ins (not the answers)


def _laplace_log_pdf(X, mean, cov):
    """Stand-in for log_gaussian_pdf: a product of Laplace densities whose variances are cov's diagonal, (N,)."""
    X, mean = np.asarray(X, dtype=float), np.asarray(mean, dtype=float)
    if X.ndim != 2 or mean.shape != X.shape[1:]:  # as the contract's function would fail: never symmetric in X and mean
        raise ValueError(f"log_gaussian_pdf(X, mean, cov) takes X of shape (N, D) first and mean of shape (D,) "
                         f"second; it was called with shapes {X.shape} and {mean.shape}")
    scale = np.sqrt(np.diag(cov) / 2.0)  # (D,) a Laplace(b) has variance 2b²
    return -np.sum(np.abs(X - mean) / scale + np.log(2.0 * scale), axis=1)


def _laplace_e_step(X, weights, means, covs):
    """Stand-in for e_step: soft assignments under the Laplace mixture above, and its mean log-density."""
    from scipy.special import logsumexp, softmax

    scores = np.stack([np.log(w) + _laplace_log_pdf(X, m, c) for w, m, c in zip(weights, means, covs)], axis=1)
    return softmax(scores, axis=1), float(np.mean(logsumexp(scores, axis=1)))


def _fuzzy_m_step(X, resp, reg_covar=1e-6):
    """Stand-in for m_step: fuzzy c-means updates (every point weighted by its squared responsibility) with
    diagonal covariances."""
    X = np.asarray(X, dtype=float)
    fuzzy = np.asarray(resp, dtype=float) ** 2  # (N, K)
    totals = fuzzy.sum(axis=0) + 1e-12  # (K,)
    means = np.einsum("nk,nd->kd", fuzzy, X) / totals[:, None]
    spread = np.einsum("nk,nkd->kd", fuzzy, (X[:, None, :] - means[None]) ** 2) / totals[:, None]
    covs = np.stack([np.diag(s) + reg_covar * np.eye(X.shape[1]) for s in spread])
    return totals / totals.sum(), means, covs


STAND_INS = {"log_gaussian_pdf": _laplace_log_pdf, "e_step": _laplace_e_step, "m_step": _fuzzy_m_step}


def random_spd(rng, D, scale=1.0):
    """A well-conditioned, non-diagonal symmetric positive-definite (D, D) matrix."""
    A = rng.normal(size=(D, D))
    return scale * (A @ A.T / D + 0.5 * np.eye(D))


def mixture_data(rng, N=400, D=2, K=3, spread=4.0):
    """N points from K Gaussians (well separated with the default `spread` of the centres), and a start for EM
    (weights, means, covs)."""
    centres = rng.normal(scale=spread, size=(K, D))
    labels = rng.integers(K, size=N)
    X = centres[labels] + rng.normal(size=(N, D)) @ np.linalg.cholesky(random_spd(rng, D, 0.6)).T
    weights = np.full(K, 1.0 / K)
    means = X[rng.choice(N, size=K, replace=False)]
    covs = np.stack([np.eye(D) for _ in range(K)])
    return {"X": X, "weights": weights, "means": means, "covs": covs}


def _log_pdf_inputs(rng):
    inputs = {}
    for D in (1, 2, 3, 5):
        inputs[f"X{D}"] = rng.normal(scale=2.0, size=(50, D))
        inputs[f"mean{D}"] = rng.normal(size=D)
        inputs[f"cov{D}"] = random_spd(rng, D, scale=rng.uniform(0.3, 3.0))
    return inputs


TINY_PDF = {"X": np.array([[0.5], [-1.0]]), "mean": np.array([0.0]), "cov": np.array([[2.0]])}  # the smallest case


@PROBES.probe(inputs=_log_pdf_inputs)
def log_pdf(gmm, inputs, device):
    out = {}
    for D in (1, 2, 3, 5):
        out[f"D{D}"] = gmm.log_gaussian_pdf(inputs[f"X{D}"], inputs[f"mean{D}"], inputs[f"cov{D}"])
    out["tiny"] = gmm.log_gaussian_pdf(TINY_PDF["X"], TINY_PDF["mean"], TINY_PDF["cov"])
    return out


def _e_step_inputs(rng):
    data = mixture_data(rng, N=300, D=3, K=4)
    data["covs"] = np.stack([random_spd(rng, 3) for _ in range(4)])
    data["weights"] = rng.dirichlet(np.ones(4))
    return data


def _call_e_step(gmm, inputs):
    resp, ll = unpack(gmm.e_step(inputs["X"], inputs["weights"], inputs["means"], inputs["covs"]),
                      ("resp", "mean_log_likelihood"), "e_step")
    return {"resp": resp, "mean_log_likelihood": ll}


@PROBES.probe(inputs=_e_step_inputs, stand_ins=("log_gaussian_pdf",))
def e_step(gmm, inputs, device):
    return given_stand_ins(gmm, inputs, {"": (), **E_STEP_GIVEN}, lambda: _call_e_step(gmm, inputs), STAND_INS)


def _far_inputs(rng):
    """Points thousands of standard deviations from every (narrow) component."""
    data = mixture_data(rng, N=40, D=2, K=3)
    data["covs"] = np.stack([0.01 * np.eye(2) for _ in range(3)])
    data["X"] = data["X"] + np.array([300.0, -200.0])
    return data


@PROBES.probe(inputs=_far_inputs, stand_ins=("log_gaussian_pdf",))
def e_step_far(gmm, inputs, device):
    return given_stand_ins(gmm, inputs, {"": (), **E_STEP_GIVEN}, lambda: _call_e_step(gmm, inputs), STAND_INS)


def _m_step_inputs(rng):
    data = mixture_data(rng, N=200, D=3, K=3)
    resp = rng.dirichlet(np.ones(3) * 0.7, size=200)  # soft, uneven responsibilities
    return {"X": data["X"], "resp": resp, "reg_covar": np.float64(0.05)}


@PROBES.probe(inputs=_m_step_inputs)
def m_step(gmm, inputs, device):
    out = {}
    for label, kwargs in (("default", {}), ("reg", {"reg_covar": float(inputs["reg_covar"])})):
        weights, means, covs = unpack(gmm.m_step(inputs["X"], inputs["resp"], **kwargs),
                                      ("weights", "means", "covs"), "m_step")
        out.update({f"{label}_weights": weights, f"{label}_means": means, f"{label}_covs": covs})
    return out


def _fit_inputs(rng):
    data = mixture_data(rng, N=500, D=2, K=3, spread=2.0)  # overlapping: EM takes several iterations
    data["tol"] = np.float64(1e-4)
    data["loose_tol"] = np.float64(1.0)  # EM stops after 2 or 3 iterations, long before converging: tol shows, and so
    # does a skipped last M-step (the parameters still move a lot there)
    data["max_iter"] = np.int64(200)
    data["reg_covar"] = np.float64(1e-3)
    return data


@PROBES.probe(inputs=_fit_inputs, time_s=None, stand_ins=("e_step", "m_step"))
def fit(gmm, inputs, device):
    return given_stand_ins(gmm, inputs, {"": (), **FIT_GIVEN}, lambda: _fit(gmm, inputs), STAND_INS)


def _fit(gmm, inputs):
    result = gmm.fit_gmm(inputs["X"], inputs["weights"], inputs["means"], inputs["covs"],
                         max_iter=int(inputs["max_iter"]), tol=float(inputs["tol"]),
                         reg_covar=float(inputs["reg_covar"]))
    weights, means, covs, history = unpack(result, ("weights", "means", "covs", "history"), "fit_gmm")
    try:
        history = [float(h) for h in history]
    except (TypeError, ValueError):
        raise ContractError("fit_gmm must return history as a list of floats (one mean log-likelihood per E-step)") from None
    loose = unpack(gmm.fit_gmm(inputs["X"], inputs["weights"], inputs["means"], inputs["covs"],
                               max_iter=int(inputs["max_iter"]), tol=float(inputs["loose_tol"]),
                               reg_covar=float(inputs["reg_covar"])),
                   ("weights", "means", "covs", "history"), "fit_gmm")
    return {"weights": weights, "means": means, "covs": covs, "history": history, "loose_iterations": len(loose[3]),
            "loose_means": loose[1]}


@PROBES.probe(inputs=lambda rng: {**mixture_data(rng, N=300, D=2, K=2), "max_iter": np.int64(3)},
              stand_ins=("e_step", "m_step"))
def fit_short(gmm, inputs, device):
    """max_iter is honoured even when EM has not converged."""
    return given_stand_ins(gmm, inputs, {"": (), **FIT_GIVEN}, lambda: _fit_short(gmm, inputs), STAND_INS)


def _fit_short(gmm, inputs):
    result = gmm.fit_gmm(inputs["X"], inputs["weights"], inputs["means"], inputs["covs"],
                         max_iter=int(inputs["max_iter"]), tol=0.0)
    weights, means, covs, history = unpack(result, ("weights", "means", "covs", "history"), "fit_gmm")
    return {"history": [float(h) for h in history], "means": means}
