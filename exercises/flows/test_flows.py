"""Public checks for flows.py — run them with `course check flows` (or `pytest exercises/flows`).

They test the basics on small inputs. The hidden checks used for grading test more:
several dimensions and masks, log_det against the Jacobian of your own forward, the
gradients, layers with known Jacobians, the density integrating to 1 on a grid, the
distribution of your samples, and a short training run of the course flow on two moons.
"""

import math

import pytest
import torch
from torch.distributions import Normal


@pytest.fixture
def layer(student):
    torch.manual_seed(0)
    return student.AffineCoupling(3, torch.tensor([1.0, 0.0, 1.0]), hidden=16).double()


@pytest.fixture
def x():
    torch.manual_seed(1)
    return torch.randn(5, 3, dtype=torch.float64)


def test_forward_shapes_and_kept_coordinates(layer, x):
    y, log_det = layer(x)
    assert y.shape == x.shape, "y has the shape of x"
    assert log_det.shape == (5,), "one log-determinant per example, summed over dimensions"
    torch.testing.assert_close(y[:, [0, 2]], x[:, [0, 2]], msg="coordinates where the mask is 1 pass through unchanged")
    assert not torch.allclose(y[:, 1], x[:, 1]), "the coordinate where the mask is 0 is transformed"


def test_inverse_undoes_forward(layer, x):
    with torch.no_grad():
        torch.testing.assert_close(layer.inverse(layer(x)[0]), x, msg="inverse(forward(x)) must give x back")


def test_log_det_is_the_log_determinant_of_the_jacobian(layer, x):
    jacobian = torch.autograd.functional.jacobian(lambda v: layer(v)[0].sum(0), x).permute(1, 0, 2)  # (B, D, D)
    torch.testing.assert_close(layer(x)[1], torch.linalg.slogdet(jacobian)[1],
                               msg="log_det must be log |det dy/dx|: the sum of the transformed coordinates' s")


def test_log_prob_of_no_layers_is_the_standard_normal(student, x):
    expected = Normal(0.0, 1.0).log_prob(x).sum(1)
    torch.testing.assert_close(student.flow_log_prob([], x), expected,
                               msg="with no layers, log p(x) is log N(x; 0, I), constant included")


def test_log_prob_adds_the_log_determinants(student, layer, x):
    y, log_det = layer(x)
    expected = Normal(0.0, 1.0).log_prob(y).sum(1) + log_det
    torch.testing.assert_close(student.flow_log_prob([layer], x), expected)


def test_sample_shape_and_inverse(student, layer):
    torch.manual_seed(2)
    samples = student.flow_sample([layer], 7, 3)
    assert samples.shape == (7, 3)
    assert torch.isfinite(samples).all()
    assert not math.isclose(float(samples.std()), 0.0), "samples start from fresh standard normal noise"
