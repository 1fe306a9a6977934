"""Probes of the IWAE exercise: they call the student's iwae.py on fixed inputs. No answers here."""

import numpy as np

from autograder.sandboxed.probekit import ProbeSet, given_stand_ins, meta_result

PROBES = ProbeSet(warm_imports=("torch.fx.experimental.symbolic_shapes",))  # what meta kernels import (sympy)
BOUND_GIVEN = {"given_lme": ("log_mean_exp",)}  # iwae_bound again with a stand-in log_mean_exp


def _log_max_exp(values, dim):
    """Stand-in for log_mean_exp (not its answer): another reduction, the largest value along `dim`."""
    return values.amax(dim=dim)


STAND_INS = {"log_mean_exp": _log_max_exp}


def _tensor(array, device):
    import torch

    return torch.as_tensor(np.asarray(array), dtype=torch.float32, device=device)


def _lme_inputs(rng):
    return {
        "values": rng.normal(scale=3.0, size=(7, 5)),
        "extreme": rng.choice([-1000.0, -800.0, 900.0, 1000.0], size=(6, 4)),
    }


@PROBES.probe(inputs=_lme_inputs)
def log_mean_exp(iwae, inputs, device):
    values, extreme = _tensor(inputs["values"], device), _tensor(inputs["extreme"], device)
    return {
        "dim0": iwae.log_mean_exp(values, 0), "dim1": iwae.log_mean_exp(values, 1),
        "extreme": iwae.log_mean_exp(extreme, 0),
    }


def _bound_inputs(rng):
    k, B = 50, 8
    return {
        "log_px": rng.normal(loc=-60.0, scale=8.0, size=(k, B)),  # exp() of these underflows in float32
        "log_pz": rng.normal(loc=-20.0, scale=2.0, size=(k, B)),
        "log_qz": rng.normal(loc=-15.0, scale=2.0, size=(k, B)),
    }


@PROBES.probe(inputs=_bound_inputs, stand_ins=("log_mean_exp",))
def bound(iwae, inputs, device):
    return given_stand_ins(iwae, inputs, {"": (), **BOUND_GIVEN}, lambda: _bound(iwae, inputs, device), STAND_INS)


def _bound(iwae, inputs, device):
    log_px, log_pz, log_qz = (_tensor(inputs[k], device) for k in ("log_px", "log_pz", "log_qz"))
    return {"k50": iwae.iwae_bound(log_px, log_pz, log_qz),
            "k1": iwae.iwae_bound(log_px[:1], log_pz[:1], log_qz[:1])}


@PROBES.probe(inputs=_bound_inputs)
def dtypes(iwae, inputs, device):
    """Both functions on float32 and float64 inputs: what comes back keeps the dtype and device (in `types`)."""
    import torch

    out = {"device": str(torch.device(device))}
    for label, dtype in (("32", torch.float32), ("64", torch.float64)):
        log_px, log_pz, log_qz = (torch.as_tensor(inputs[k], dtype=dtype, device=device)
                                  for k in ("log_px", "log_pz", "log_qz"))
        out[f"log_mean_exp{label}"] = iwae.log_mean_exp(log_px, 0)
        out[f"iwae_bound{label}"] = iwae.iwae_bound(log_px, log_pz, log_qz)
    meta = torch.empty(log_px.shape, device="meta")
    out["log_mean_exp_meta"] = meta_result(lambda: iwae.log_mean_exp(meta, 0))
    out["iwae_bound_meta"] = meta_result(lambda: iwae.iwae_bound(meta, meta, meta))
    return out
