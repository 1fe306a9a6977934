"""Hidden checks of the GMM exercise: each judges one behaviour and names the likely mistake.

Judges run on the trusted side only. Reference values come from running the
same probes on solutions/gmm/gmm.py; known-wrong variants are computed here
from the inputs, so that feedback can say which mistake a student made.
"""

import warnings

import numpy as np
from scipy.special import logsumexp, softmax

from autograder.checking import CheckSet, Mistake, Verdict
from autograder.checks.diagnostics import describe_difference, smallest_case
from autograder.checks.gmm import probes
from autograder.checks.judging import (as_array, as_float, close, judge_given, matches_reference, named_mistake,
                                       require_finite)

CHECKS = CheckSet("autograder.checks.gmm.probes", warm_imports=("sklearn.mixture", "sklearn.exceptions", "scipy.stats"))  # what the judges import
LOG_2PI = np.log(2 * np.pi)


# ---------------------------------------------------------------- log_gaussian_pdf


def _log_pdf_variants(X, mean, cov, reference):
    """What common wrong implementations of log N(x | mean, cov) return."""
    D = X.shape[1]
    sign, log_det = np.linalg.slogdet(cov)
    diff = X - mean
    maha = np.einsum("nd,de,ne->n", diff, np.linalg.inv(cov), diff)
    diag = np.diag(np.diag(cov))
    maha_diag = np.einsum("nd,de,ne->n", diff, np.linalg.inv(diag), diff)
    return {
        "the -(D/2)·log(2π) normalising term is missing": reference + 0.5 * D * LOG_2PI,
        "log(2π) is not multiplied by D/2": reference + 0.5 * D * LOG_2PI - 0.5 * LOG_2PI,
        "only half of -½·log|Σ| is used (the log-determinant needs the factor ½, not ¼)": reference + 0.25 * log_det,
        "the log-determinant is not halved (use -½·log|Σ|)": reference - 0.5 * log_det,
        "the log-determinant term is missing": reference + 0.5 * log_det,
        "the Mahalanobis term is not halved (use -½·(x-μ)ᵀΣ⁻¹(x-μ))": reference - 0.5 * maha,
        "Σ is used where Σ⁻¹ belongs in the Mahalanobis term": -0.5 * (D * LOG_2PI + log_det
                                                                      + np.einsum("nd,de,ne->n", diff, cov, diff)),
        "only the diagonal of the covariance is used (the off-diagonal terms matter)": -0.5 * (
            D * LOG_2PI + np.sum(np.log(np.diag(cov))) + maha_diag),
    }


def _log_pdf_terms(X, mean, cov):
    """The three terms of log N(x | mean, cov), each (N,): what a wrong result may be off by a multiple of."""
    diff = X - mean
    log_det = np.linalg.slogdet(cov)[1]
    return {"log|Σ|": np.full(len(X), log_det), "(x−μ)ᵀΣ⁻¹(x−μ)": np.einsum("nd,de,ne->n", diff, np.linalg.inv(cov), diff),
            "D·log(2π)": np.full(len(X), X.shape[1] * LOG_2PI)}


@CHECKS.check("log_gaussian_pdf: values match the reference for D = 1, 2, 3, 5", points=3, probe="log_pdf")
def log_pdf_values(ev):
    """Partial credit per dimension; feedback names the term that is off."""
    correct, problems, wrong = 0, [], []
    for D in (1, 2, 3, 5):
        X, mean, cov = ev.inputs[f"X{D}"], ev.inputs[f"mean{D}"], ev.inputs[f"cov{D}"]
        reference = ev.reference[f"D{D}"]
        try:
            values = as_array(ev.student[f"D{D}"], f"log_gaussian_pdf (D={D})", reference.shape, ev.types[f"D{D}"])
            require_finite(values, f"log_gaussian_pdf (D={D})")
        except Mistake as mistake:
            problems.append(str(mistake))
            continue
        if close(values, reference, rtol=1e-6, atol=1e-6):
            correct += 1
            continue
        mistake = named_mistake(values, _log_pdf_variants(X, mean, cov, reference), rtol=1e-6, atol=1e-6)
        if mistake:
            problems.append(f"D={D}: {mistake}")
        else:
            wrong.append((values, reference, _log_pdf_terms(X, mean, cov)))
    if wrong:  # diagnosed across all dimensions at once, so that a term's share of the error shows
        values, reference = (np.concatenate([w[i] for w in wrong]) for i in (0, 1))
        terms = {name: np.concatenate([w[2][name] for w in wrong]) for name in wrong[0][2]}
        problems.append(describe_difference(values, reference, "the result", terms=terms,
                                            sizes={"N": len(ev.inputs["X1"])}))
    if correct < 4 and ev.student.get("tiny") is not None and ev.reference.get("tiny") is not None:
        tiny = probes.TINY_PDF
        problems.append(smallest_case(f"log_gaussian_pdf({tiny['X'].tolist()}, {tiny['mean'].tolist()}, "
                                      f"{tiny['cov'].tolist()})", ev.student["tiny"], ev.reference["tiny"]))
    return Verdict(correct / 4, "; ".join(dict.fromkeys(problems)))


@CHECKS.check("log_gaussian_pdf: returns an (N,) float array", points=1, probe="log_pdf")
def log_pdf_shape(ev):
    for D in (1, 2, 3, 5):
        N = ev.inputs[f"X{D}"].shape[0]
        value = ev.student[f"D{D}"]
        if not isinstance(value, np.ndarray) or value.shape != (N,):
            shape = getattr(value, "shape", None)
            raise Mistake(f"for X of shape ({N}, {D}) the result should be a NumPy array of shape ({N},); "
                          f"got {ev.types[f'D{D}']}" + (f" of shape {shape}" if shape is not None else ""))
        if value.dtype.kind != "f":
            raise Mistake(f"the result should be a float array; got dtype {value.dtype}")


# ---------------------------------------------------------------- e_step


FLIPPED_LOG_PDF = ("the component's log-density is subtracted from log π_k: log(π_k N(x_n | μ_k, Σ_k)) = log π_k + "
                   "log N(x_n | μ_k, Σ_k)")


def _true_log_pdfs(inputs):
    """(N, K) log N(x_n | μ_k, Σ_k) of the probe's inputs, by scipy."""
    from scipy.stats import multivariate_normal

    return np.stack([multivariate_normal(m, c).logpdf(inputs["X"]) for m, c in zip(inputs["means"], inputs["covs"])],
                    axis=1).reshape(len(inputs["X"]), -1)


def _responsibilities(ev, key="resp"):
    reference = ev.reference[key]
    value = ev.student[key]
    shape = np.shape(value)
    if shape == reference.shape[::-1] and shape != reference.shape:
        raise Mistake(f"`resp` has shape {shape}, the transpose of (N, K) = {reference.shape}: "
                      "responsibilities are returned transposed (one row per data point, one column per component)")
    return as_array(value, "resp", reference.shape, ev.types[key])


@CHECKS.check("e_step: responsibilities match the reference", points=2, probe="e_step")
def e_step_responsibilities(ev):
    return judge_given(ev, _e_step_responsibilities, probes.E_STEP_GIVEN)


def _e_step_responsibilities(ev):
    resp = _responsibilities(ev)
    reference = ev.reference["resp"]
    require_finite(resp, "resp")
    if close(resp, reference, rtol=1e-5, atol=1e-7):
        return 1.0
    if not np.allclose(resp.sum(axis=1), 1.0, atol=1e-6):
        if np.allclose(resp.sum(axis=0), 1.0, atol=1e-6):
            raise Mistake("responsibilities are normalised over data points (axis 0); each row (one data point) "
                          "must sum to 1 over the K components")
        raise Mistake("rows of `resp` do not sum to 1: normalise each point's weighted likelihoods over the components")
    log_joint = np.log(np.maximum(reference, 1e-300))
    unweighted = np.exp(log_joint - np.log(ev.inputs["weights"]))
    unweighted /= unweighted.sum(axis=1, keepdims=True)
    if close(resp, unweighted, rtol=1e-5, atol=1e-7):
        raise Mistake("the mixture weights are missing: r_nk ∝ π_k · N(x_n | μ_k, Σ_k)")
    flipped = softmax(np.log(ev.inputs["weights"]) - _true_log_pdfs(ev.inputs), axis=1)
    if close(resp, flipped, rtol=1e-5, atol=1e-7):
        raise Mistake(FLIPPED_LOG_PDF)
    hard = np.eye(reference.shape[1])[reference.argmax(axis=1)]
    if close(resp, hard):
        raise Mistake("responsibilities are hard (0/1) assignments; the E-step needs soft posterior probabilities")
    raise Mistake(describe_difference(resp, reference, "`resp`", sizes={"K": reference.shape[1]}))


@CHECKS.check("e_step: mean log-likelihood matches the reference", points=2, probe="e_step")
def e_step_log_likelihood(ev):
    return judge_given(ev, _e_step_log_likelihood, probes.E_STEP_GIVEN)


def _e_step_log_likelihood(ev):
    value = as_float(ev.student["mean_log_likelihood"], "mean_log_likelihood", ev.types["mean_log_likelihood"])
    reference = float(ev.reference["mean_log_likelihood"])
    N = ev.inputs["X"].shape[0]
    if np.isclose(value, reference, rtol=1e-6, atol=1e-8):
        return 1.0
    if np.isclose(value, reference * N, rtol=1e-6):
        raise Mistake("the log-likelihood is summed over data points; return the mean over the N points")
    if np.isclose(value, np.exp(reference), rtol=1e-6):
        raise Mistake("return the mean log-likelihood, not a likelihood")
    flipped = float(np.mean(logsumexp(np.log(ev.inputs["weights"]) - _true_log_pdfs(ev.inputs), axis=1)))
    if np.isclose(value, flipped, rtol=1e-6):
        raise Mistake(FLIPPED_LOG_PDF)
    raise Mistake(describe_difference(np.array([value]), np.array([reference]), "the mean log-likelihood",
                                      sizes={"N": N, "D": ev.inputs["X"].shape[1], "K": len(ev.inputs["weights"])}))


@CHECKS.check("e_step: stable for points far from every component (log-sum-exp)", points=2, probe="e_step_far")
def e_step_far_points(ev):
    return judge_given(ev, _e_step_far_points, probes.E_STEP_GIVEN)


def _e_step_far_points(ev):
    """Naive exp() of log-densities near -1e6 underflows to 0/0 = NaN."""
    hint = (": the densities underflow to 0 — compute in log space and normalise with log-sum-exp "
            "(scipy.special.logsumexp), never exp() before normalising")
    value = ev.student["resp"]
    array = np.asarray(value, dtype=float) if isinstance(value, np.ndarray) else None
    if array is not None and array.shape == ev.reference["resp"].shape:
        require_finite(array, "resp", hint)
    resp = _responsibilities(ev)
    ll = as_float(ev.student["mean_log_likelihood"], "mean_log_likelihood")
    if not np.isfinite(ll):
        raise Mistake(f"the mean log-likelihood is {ll}" + hint)
    score, problems = 0.0, []
    if close(resp, ev.reference["resp"], rtol=1e-5, atol=1e-6):
        score += 0.5
    else:
        problems.append(describe_difference(resp, ev.reference["resp"], "for far-away points `resp`"))
    if np.isclose(ll, float(ev.reference["mean_log_likelihood"]), rtol=1e-6):
        score += 0.5
    else:
        problems.append(f"mean log-likelihood {ll:.6g} should be {float(ev.reference['mean_log_likelihood']):.6g}")
    return Verdict(score, "; ".join(problems))


# ---------------------------------------------------------------- m_step


def _m_step_variants(X, resp, reg):
    """What common wrong M-steps return: description -> (weights, means, covs)."""
    N, D = X.shape
    K = resp.shape[1]

    def estimate(r, divide_by_n=False, normalise=True, add_reg=True, diagonal=False):
        Nk = r.sum(axis=0)
        weights = Nk / N if normalise else Nk
        means = r.T @ X / Nk[:, None]
        covs = np.empty((K, D, D))
        for k in range(K):
            diff = X - means[k]
            covs[k] = (r[:, k, None] * diff).T @ diff / (N if divide_by_n else Nk[k])
            if diagonal:
                covs[k] = np.diag(np.diag(covs[k]))
            if add_reg:
                covs[k] += reg * np.eye(D)
        return weights, means, covs

    hard = np.eye(K)[resp.argmax(axis=1)]
    return {
        "covariances are divided by N; divide component k's scatter by N_k = Σ_n r_nk": estimate(resp, divide_by_n=True),
        "weights are not normalised: π_k = N_k / N, not N_k": estimate(resp, normalise=False),
        "reg_covar is not added to the covariance diagonals": estimate(resp, add_reg=False),
        "covariances keep only their diagonal; the M-step needs the full scatter matrix": estimate(resp, diagonal=True),
        "the M-step uses hard assignments (argmax); weight every point by its soft responsibility r_nk": estimate(hard),
    }


def _m_step_outputs(ev, label):
    X, resp = ev.inputs["X"], ev.inputs["resp"]
    K, D = resp.shape[1], X.shape[1]
    weights = as_array(ev.student[f"{label}_weights"], "weights", (K,), ev.types[f"{label}_weights"])
    means = as_array(ev.student[f"{label}_means"], "means", (K, D), ev.types[f"{label}_means"])
    covs = as_array(ev.student[f"{label}_covs"], "covs", (K, D, D), ev.types[f"{label}_covs"])
    return weights, means, covs


def _judge_m_step(ev, label, reg):
    student = _m_step_outputs(ev, label)
    reference = tuple(ev.reference[f"{label}_{part}"] for part in ("weights", "means", "covs"))
    parts = [close(s, r, rtol=1e-6, atol=1e-9) for s, r in zip(student, reference)]
    if all(parts):
        return Verdict(1.0)
    for description, variant in _m_step_variants(ev.inputs["X"], ev.inputs["resp"], reg).items():
        if all(close(s, v, rtol=1e-6, atol=1e-9) for s, v in zip(student, variant)):
            return Verdict(sum(parts) / 3 * 0.5, description)
    X, resp = ev.inputs["X"], ev.inputs["resp"]
    sizes = {"N": len(X), "D": X.shape[1], "K": resp.shape[1], "N_k": resp.sum(axis=0)}
    means = reference[1]
    terms = {"covs": {"μ_k μ_kᵀ":  # a scatter of x_n, or of x_n + μ_k, where x_n − μ_k is due
                      np.einsum("kd,ke->kde", means, means)}}
    details = "; ".join(describe_difference(s, r, name, sizes=sizes, terms=terms.get(name)) for name, s, r, ok in
                        zip(("weights", "means", "covs"), student, reference, parts) if not ok)
    return Verdict(sum(parts) / 3, details)


@CHECKS.check("m_step: weights, means and covariances match the reference", points=3, probe="m_step")
def m_step_values(ev):
    return _judge_m_step(ev, "default", 1e-6)


@CHECKS.check("m_step: honours a non-default reg_covar", points=2, probe="m_step")
def m_step_reg_covar(ev):
    """The effect of the argument alone: the covariances of two calls differ by exactly (0.05 − 1e-6)·I,
    whatever else the M-step gets wrong (that costs in the values check)."""
    reg = float(ev.inputs["reg_covar"])
    _, _, default_covs = _m_step_outputs(ev, "default")
    weights, means, covs = _m_step_outputs(ev, "reg")
    D = covs.shape[-1]
    shift = covs - default_covs
    if close(shift, np.broadcast_to((reg - 1e-6) * np.eye(D), shift.shape), rtol=1e-6, atol=1e-9):
        return 1.0
    if close(shift, np.zeros_like(shift), atol=1e-12):
        off = default_covs - ev.reference["default_covs"]  # what the default call adds, relative to the reference
        if close(off, np.broadcast_to(-1e-6 * np.eye(D), off.shape), rtol=0, atol=1e-10):
            raise Mistake("reg_covar is not added to the covariance diagonals")
        raise Mistake("the reg_covar argument is ignored (the same value is always used): add the value passed in")
    if close(shift, np.broadcast_to(reg * np.eye(D), shift.shape), rtol=1e-6, atol=1e-9):
        raise Mistake("without reg_covar the covariances get no regularisation: its default is 1e-6, add it too")
    raise Mistake(f"with reg_covar={reg:g} instead of the default 1e-6, every covariance should change by exactly "
                  f"{reg - 1e-6:g}·I; instead the change "
                  f"{describe_difference(shift, np.broadcast_to((reg - 1e-6) * np.eye(D), shift.shape), '').strip()} "
                  "— add reg_covar to the diagonal only, once, after computing the covariance")


@CHECKS.check("m_step: shapes and dtypes", points=1, probe="m_step")
def m_step_shapes(ev):
    _m_step_outputs(ev, "default")
    for part in ("weights", "means", "covs"):
        if "float" not in ev.types[f"default_{part}"]:
            raise Mistake(f"`{part}` should be a float NumPy array; got {ev.types[f'default_{part}']}")


# ---------------------------------------------------------------- fit_gmm


def _sklearn_fit(inputs):
    """scikit-learn's GaussianMixture run from the same start: the independent referee.

    Some of its runs stop before EM converges on purpose (a loose tol, max_iter cut short): scikit-learn's
    warning that they did not converge is expected, and would only clutter the grader's output.
    """
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.mixture import GaussianMixture

    K = inputs["weights"].shape[0]
    model = GaussianMixture(
        n_components=K, covariance_type="full", tol=float(inputs["tol"]),
        reg_covar=float(inputs["reg_covar"]), max_iter=int(inputs["max_iter"]),
        weights_init=inputs["weights"], means_init=inputs["means"],
        precisions_init=np.linalg.inv(inputs["covs"]), init_params="random", random_state=0,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return model.fit(inputs["X"])


def _fit_outputs(ev):
    K, D = ev.inputs["means"].shape
    weights = as_array(ev.student["weights"], "weights", (K,), ev.types["weights"])
    means = as_array(ev.student["means"], "means", (K, D), ev.types["means"])
    covs = as_array(ev.student["covs"], "covs", (K, D, D), ev.types["covs"])
    history = np.asarray(ev.student["history"], dtype=float)
    if history.ndim != 1 or history.size == 0:
        raise Mistake("`history` should be a non-empty list with one mean log-likelihood per E-step")
    return weights, means, covs, history


@CHECKS.check("fit_gmm: agrees with scikit-learn's GaussianMixture from the same start", points=2, probe="fit")
def fit_matches_sklearn(ev):
    return judge_given(ev, _fit_matches_sklearn, probes.FIT_GIVEN, given_judge=_fit_given)


def _fit_matches_sklearn(ev):
    weights, means, covs, history = _fit_outputs(ev)
    model = _sklearn_fit(ev.inputs)
    problems, score = [], 0.0
    if len(history) == model.n_iter_:
        score += 0.25
    elif len(history) == model.n_iter_ + 1 or len(history) == model.n_iter_ - 1:
        problems.append(f"`history` has {len(history)} entries where scikit-learn runs {model.n_iter_} iterations "
                        "(one entry per E-step): stop as soon as |ℓ_t − ℓ_(t−1)| < tol, comparing consecutive E-steps")
    else:
        problems.append(f"`history` has {len(history)} entries where scikit-learn runs {model.n_iter_} iterations "
                        "(one entry per E-step; check the stopping rule and max_iter)")
    loose_model = _sklearn_fit({**ev.inputs, "tol": ev.inputs["loose_tol"]})
    loose = loose_model.n_iter_
    if ev.student.get("loose_iterations") != loose and len(history) == model.n_iter_:
        score -= 0.25
        problems.append(f"with tol={float(ev.inputs['loose_tol']):g} `history` has {ev.student.get('loose_iterations')} "
                        f"entries where scikit-learn runs {loose} iterations: is the tol argument used?")
    elif loose > 1 and not close(ev.student.get("loose_means"), loose_model.means_, 1e-6, 1e-9):
        before = _sklearn_fit({**ev.inputs, "tol": 0.0, "max_iter": loose - 1})  # before the last M-step
        if close(ev.student.get("loose_means"), before.means_, 1e-6, 1e-9):
            return Verdict(max(score - 0.5, 0.0), "with tol={:g} the means returned are those before the last M-step: "
                           "the iteration that stops skips its M-step; run the M-step in every iteration and test "
                           "for convergence after it".format(float(ev.inputs["loose_tol"])))
    if np.isclose(history[-1], model.lower_bound_, rtol=1e-5, atol=1e-6):
        score += 0.25
    else:
        problems.append(f"final mean log-likelihood {history[-1]:.6g} differs from scikit-learn's {model.lower_bound_:.6g}")
    fitted = [close(weights, model.weights_, 1e-4, 1e-6), close(means, model.means_, 1e-4, 1e-6),
              close(covs, model.covariances_, 1e-4, 1e-6)]
    score += 0.5 * sum(fitted) / 3
    if not all(fitted) and model.n_iter_ > 1 and len(history) == model.n_iter_:
        before = _sklearn_fit({**ev.inputs, "max_iter": model.n_iter_ - 1})  # the parameters before the last M-step
        if all(close(s, b, 1e-6, 1e-9) for s, b in zip((weights, means, covs),
                                                        (before.weights_, before.means_, before.covariances_))):
            problems.append("the iteration that stops skips its M-step: the parameters returned are those before "
                            "the last M-step; run the M-step in every iteration and test for convergence after it")
            return Verdict(score - 0.5 * sum(fitted) / 3, "; ".join(problems))  # none of the parameters is right
    if not all(fitted) and float(ev.inputs["reg_covar"]) != 1e-6:
        default = _sklearn_fit({**ev.inputs, "reg_covar": 1e-6})
        if close(covs, default.covariances_, 1e-4, 1e-6):
            return Verdict(score, f"the fit is scikit-learn's with reg_covar=1e-6, the default, where "
                                  f"reg_covar={float(ev.inputs['reg_covar']):g} was passed (which is also why the final "
                                  "log-likelihood differs): hand fit_gmm's reg_covar on to m_step")
    for name, ok in zip(("weights", "means", "covariances"), fitted):
        if not ok:
            problems.append(f"fitted {name} differ from scikit-learn's")
    return Verdict(score, "; ".join(problems))


def _fit_given(ev):
    """With stand-in E- and M-steps (not the Gaussian ones) fit_gmm is compared with the reference's fit_gmm run
    with the same stand-ins: same iterations, same history, same parameters."""
    history = as_array(ev.student["history"], "history")
    expected = np.asarray(ev.reference["history"], dtype=float)
    if history.shape != expected.shape:
        raise Mistake(f"`history` has {history.size} entries where the reference's fit_gmm, given the same E- and "
                      f"M-steps, runs {expected.size} iterations (one entry per E-step; check the stopping rule and "
                      "max_iter)")
    # the same stand-ins through the same loop agree to rounding: tight, so that a skipped last M-step shows
    return matches_reference("history", "weights", "means", "covs", "loose_means", rtol=1e-7, atol=1e-10)(ev)


def _fit_short_given(ev):
    return matches_reference("history", "means")(ev)


def _require_progress(history):
    """EM from these starts (unit covariances, means on data points) always raises the log-likelihood a lot."""
    if not history[-1] > history[0] + 1e-6 * max(1.0, abs(history[0])):
        raise Mistake(f"the log-likelihood went from {history[0]:.6g} to {history[-1]:.6g}: EM did not move the "
                      "parameters (does fit_gmm update weights, means and covariances with each M-step?)")


@CHECKS.check("fit_gmm: the log-likelihood never decreases", points=1, probe="fit")
def fit_monotone(ev):
    return judge_given(ev, _fit_monotone, probes.FIT_GIVEN, given_judge=_fit_given)


def _fit_monotone(ev):
    history = _fit_outputs(ev)[3]
    require_finite(history, "history")
    steps = np.diff(history)
    if np.all(steps >= -1e-9 * np.maximum(1.0, np.abs(history[1:]))):
        if len(history) < 2:
            raise Mistake("history has a single entry: EM stopped after one iteration (is the convergence test always true?)")
        _require_progress(history)
        return 1.0
    first = int(np.argmax(steps < 0))
    raise Mistake(f"the log-likelihood decreased from {history[first]:.6g} to {history[first + 1]:.6g} at iteration "
                  f"{first + 2}: EM never lowers it, so an E- or M-step is off, or what fit_gmm passes between them")


@CHECKS.check("fit_gmm: stops after max_iter iterations", points=1, probe="fit_short")
def fit_max_iter(ev):
    return judge_given(ev, _fit_max_iter, probes.FIT_GIVEN, given_judge=_fit_short_given)


def _fit_max_iter(ev):
    history = as_array(ev.student["history"], "history")
    if history.shape != (3,):
        raise Mistake(f"with max_iter=3 and tol=0, history should have 3 entries; yours has {history.size}")
    require_finite(history, "history")
    _require_progress(history)
