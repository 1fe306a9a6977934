"""What the trusted side adds to a probe's inputs for its stand-ins: values, never the reference's code.

A probe that trains with the student's pieces (`probekit.given_stand_ins` with `trials`) replaces
only the pieces that behave differently from the reference's. To tell, it needs what the
reference's pieces return on its trials: this computes that here, as plain arrays, and puts them
in the probe's inputs. The stand-ins themselves are the probe module's decoys, so no answer (no
source, no callable) of the reference solution ever reaches the sandbox.
"""

from __future__ import annotations

from autograder.sandboxed.probekit import expected_behaviours


def attach(probes, names, inputs: dict, reference_module) -> dict:
    """`inputs` with the reference pieces' behaviour on the trials of each probe in `names` that declares
    trials (in place; also returned)."""
    for name in names:
        probe = probes[name]
        if probe.trials is not None:
            inputs[name].update(expected_behaviours(probe.trials("cpu"), reference_module))
    return inputs
