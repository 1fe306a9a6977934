"""Hidden checks of the IWAE exercise: each judges one behaviour and names the likely mistake."""

import numpy as np
from scipy.special import logsumexp

from autograder.checking import CheckSet, Mistake, Verdict
from autograder.checks.diagnostics import describe_difference
from autograder.checks.iwae.probes import BOUND_GIVEN
from autograder.checks.judging import (as_array, close, judge_dtypes, judge_given, matches_reference, named_mistake,
                                       require_finite)

CHECKS = CheckSet("autograder.checks.iwae.probes")


def _lme(values, axis):
    return logsumexp(values, axis=axis) - np.log(values.shape[axis])


def _judge(value, type_name, name, reference, variants, unstable_hint="", sizes=None):
    array = as_array(value, name, reference.shape, type_name)
    require_finite(array, name, unstable_hint)
    if close(array, reference, rtol=1e-5, atol=1e-4):
        return None
    return named_mistake(array, variants, rtol=1e-5, atol=1e-4) or describe_difference(array, reference, name,
                                                                                        sizes=sizes)


def _lme_variants(values, axis):
    k = values.shape[axis]
    return {
        "log_mean_exp returns log-sum-exp: subtract log k to average (the mean, not the sum)": logsumexp(values, axis=axis),
        "log_mean_exp returns the mean of the values (that is the k-sample ELBO, not log-mean-exp)": values.mean(axis=axis),
        "log_mean_exp returns the maximum only: add log-sum-exp of the shifted values": values.max(axis=axis),
        "log k is added instead of subtracted": logsumexp(values, axis=axis) + np.log(k),
    }


@CHECKS.check("log_mean_exp: matches the reference over dim 0 and dim 1", points=1, probe="log_mean_exp")
def lme_values(ev):
    values = ev.inputs["values"]
    problems = []
    for dim in (0, 1):
        mistake = _judge(ev.student[f"dim{dim}"], ev.types[f"dim{dim}"], f"log_mean_exp(values, {dim})",
                         _lme(values, dim), _lme_variants(values, dim), sizes={"k": values.shape[dim]})
        if mistake:
            problems.append(f"dim={dim}: {mistake}")
    return Verdict((2 - len(problems)) / 2, "; ".join(dict.fromkeys(problems)))


@CHECKS.check("log_mean_exp: finite and right for values of ±1000", points=1, probe="log_mean_exp")
def lme_extreme(ev):
    values = ev.inputs["extreme"]
    hint = (": exp(±1000) overflows or underflows — subtract the maximum before exponentiating "
            "(torch.logsumexp does it for you)")
    mistake = _judge(ev.student["extreme"], ev.types["extreme"], "log_mean_exp", _lme(values, 0),
                     _lme_variants(values, 0), hint)
    if mistake:
        raise Mistake(mistake)


def _log_weight_variants(inputs, k=None) -> dict:
    """iwae_bound computed with one of the log-weight's terms dropped or of the wrong sign (first k samples)."""
    px, pz, qz = (inputs[key][:k] for key in ("log_px", "log_pz", "log_qz"))
    rule = ": log w = log p(x|z) + log p(z) − log q(z|x)"
    return {f"the sign of log p(z) is wrong{rule}": _lme(px - pz - qz, 0),
            f"log p(z) is missing from the log-weights{rule}": _lme(px - qz, 0),
            f"log q(z|x) is missing from the log-weights{rule}": _lme(px + pz, 0),
            f"log p(x|z) is missing from the log-weights{rule}": _lme(pz - qz, 0)}


@CHECKS.check("iwae_bound: matches the reference, shape (B,), for k = 50", points=2, probe="bound")
def bound_values(ev):
    return judge_given(ev, _bound_values, BOUND_GIVEN, given_judge=matches_reference("k50", what="iwae_bound"))


def _bound_values(ev):
    log_w = ev.inputs["log_px"] + ev.inputs["log_pz"] - ev.inputs["log_qz"]
    value = ev.student["k50"]
    if np.size(value) == 1:  # a scalar (0-d crosses the boundary as shape (1,))
        raise Mistake("iwae_bound should return one value per example, shape (B,); it returned a scalar "
                      "(averaged over the batch?)")
    hint = (": the weights exp(log w) underflow — average them in log space with log_mean_exp, never exp() first")
    variants = {
        "the bound averages the log-weights (that is the ELBO estimate); IWAE takes log of the mean weight": log_w.mean(0),
        "the bound is log-sum-exp of the log-weights: divide by k (subtract log k)": logsumexp(log_w, axis=0),
        "the sign of log q(z|x) is wrong: log w = log p(x|z) + log p(z) − log q(z|x)":
            _lme(ev.inputs["log_px"] + ev.inputs["log_pz"] + ev.inputs["log_qz"], 0),
        **_log_weight_variants(ev.inputs),
        "the bound is averaged over the batch axis instead of the k samples (axis 0)": None,
    }
    mistake = _judge(value, ev.types["k50"], "iwae_bound", _lme(log_w, 0), variants, hint, sizes={"k": log_w.shape[0]})
    if mistake:
        raise Mistake(mistake)


@CHECKS.check("iwae_bound: with k = 1 it equals the one-sample ELBO", points=0.5, probe="bound")
def bound_k1(ev):
    return judge_given(ev, _bound_k1, BOUND_GIVEN, given_judge=matches_reference("k1", what="iwae_bound (k = 1)"))


def _bound_k1(ev):
    log_w = (ev.inputs["log_px"] + ev.inputs["log_pz"] - ev.inputs["log_qz"])[0]
    mistake = _judge(ev.student["k1"], ev.types["k1"], "iwae_bound (k = 1)", log_w, _log_weight_variants(ev.inputs, 1))
    if mistake:
        raise Mistake(mistake)


@CHECKS.check("log_mean_exp and iwae_bound: tensors with the dtype and device of their inputs (float32 and float64)",
              points=0.5, probe="dtypes")
def dtypes(ev):
    return judge_dtypes(ev, ("log_mean_exp", "iwae_bound"))
