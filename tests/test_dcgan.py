"""The DCGAN exercise graded end to end: reference, stub, realistic mistakes named in the feedback."""

import pytest

from conftest import ROOT, feedback_of, solution_source
from mutations import load_mistakes, mutated

MUTATIONS = load_mistakes("dcgan")  # name -> (old, new) edits of the reference

# mistake (tests/submissions/dcgan/mistakes.py) -> words the feedback must use
MISTAKES = {
    "default_init": "is init_weights applied",
    "variance_init": "not the variance",
    "bn_centred_at_zero": "should be N(1, 0.02)",
    "sigmoid_in_d": "Sigmoid",
    "pooling": "pooling",
    "bn_on_d_input": "input layer has BatchNorm",
    "logits_not_flattened": "one logit per image",
}


def test_reference_full_marks(grade):
    result = grade("dcgan", {"dcgan.py": solution_source("dcgan")})
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


SUBMISSIONS = ROOT / "tests" / "submissions" / "dcgan"
# A slope typed wrong in forward, where no module holds it: (old, new) in the functional alternative.
FUNCTIONAL_SLOPE = ("h = F.leaky_relu(self.down1(x), 0.2)", "h = F.leaky_relu(self.down1(x), 0.02)")


def test_activations_applied_in_forward_get_full_marks(grade):
    """Behaviour, not how it is written: F.leaky_relu(h, 0.2) or torch.relu in forward are the same as the modules."""
    result = grade("dcgan", {"dcgan.py": (SUBMISSIONS / "correct_functional_activations.py").read_text()})
    assert result.score == pytest.approx(result.max_score), feedback_of(result)


def test_a_wrong_slope_applied_in_forward_is_named(grade):
    source = (SUBMISSIONS / "correct_functional_activations.py").read_text()
    assert source.count(FUNCTIONAL_SLOPE[0]) == 1
    result = grade("dcgan", {"dcgan.py": source.replace(*FUNCTIONAL_SLOPE)})
    assert result.score < result.max_score - 1e-6
    assert "slopes are [0.02, 0.2]" in feedback_of(result), feedback_of(result)


def test_stub_scores_zero(grade):
    result = grade("dcgan", {"dcgan.py": (ROOT / "exercises" / "dcgan" / "dcgan.py").read_text()})
    assert result.score == 0
    assert "not implemented" in feedback_of(result)


@pytest.mark.parametrize("name", sorted(MISTAKES))
def test_mistake_loses_points_and_is_named(grade, name):
    source = mutated("dcgan", MUTATIONS[name])
    result = grade("dcgan", {"dcgan.py": source})
    assert result.score < result.max_score - 1e-6, f"{name} got full marks"
    assert MISTAKES[name] in feedback_of(result), feedback_of(result)


def test_catalogue_has_every_named_mistake():
    assert set(MUTATIONS) == set(MISTAKES)
