"""The helper package: data shapes, and its optimizers against torch.optim's."""

import numpy as np
import pytest
import torch

from genmodels import data
from genmodels.optim import SGD, Adam


def test_digits_are_scikit_learns_read_without_importing_it():
    from sklearn.datasets import load_digits

    images, labels = data.load_digits()
    bunch = load_digits()
    np.testing.assert_array_equal(images, bunch.images)
    np.testing.assert_array_equal(labels, bunch.target)


def test_digits_split_is_binary_and_fixed():
    split = data.digits()
    assert split.train.shape == (1438, 1, 8, 8) and split.test.shape == (359, 1, 8, 8)
    assert set(np.unique(split.train)) == {0.0, 1.0}
    np.testing.assert_array_equal(split.test, data.digits().test)


def test_ring_of_gaussians_sits_on_its_centres():
    points = data.ring_of_gaussians(2000, std=0.01)
    distance = np.linalg.norm(points[:, None] - data.ring_centres()[None], axis=-1).min(axis=1)
    assert points.shape == (2000, 2) and distance.max() < 0.1


@pytest.mark.parametrize("ours, theirs", [
    (lambda p: Adam(p, lr=3e-3), lambda p: torch.optim.Adam(p, lr=3e-3)),
    (lambda p: Adam(p, lr=2e-3, betas=(0.5, 0.999)), lambda p: torch.optim.Adam(p, lr=2e-3, betas=(0.5, 0.999))),
    (lambda p: SGD(p, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
], ids=["adam", "adam-gan-betas", "sgd"])
def test_course_optimizers_take_torch_optims_steps(ours, theirs):
    """Step for step the same parameters as torch.optim, including a learning rate changed through param_groups,
    zero_grad(set_to_none=False) and a closure."""
    torch.manual_seed(0)
    model_ours, model_theirs = torch.nn.Linear(5, 3), torch.nn.Linear(5, 3)
    model_theirs.load_state_dict(model_ours.state_dict())
    x, y = torch.randn(16, 5), torch.randn(16, 3)
    pairs = [(model_ours, ours(model_ours.parameters())), (model_theirs, theirs(model_theirs.parameters()))]
    for step in range(30):
        losses = []
        for model, opt in pairs:
            if step == 10:
                opt.param_groups[0]["lr"] *= 0.5
            opt.zero_grad(set_to_none=step % 2 == 0)

            def closure(model=model):
                loss = torch.nn.functional.mse_loss(model(x), y)
                loss.backward()
                return loss

            losses.append(opt.step(closure) if step % 3 == 0 else (closure(), opt.step())[0])
        torch.testing.assert_close(losses[0], losses[1])
    for a, b in zip(model_ours.parameters(), model_theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


@pytest.mark.parametrize("ours, theirs", [
    (lambda p: Adam(p, lr=3e-3), lambda p: torch.optim.Adam(p, lr=3e-3)),
    (lambda p: SGD(p, lr=0.05), lambda p: torch.optim.SGD(p, lr=0.05)),
], ids=["adam", "sgd"])
def test_course_optimizers_match_torch_optim_when_some_parameters_miss_steps(ours, theirs):
    """A parameter without a gradient is skipped and its step count stands still (its own bias correction), while
    the others are updated together."""
    torch.manual_seed(1)
    model_ours = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    model_theirs = torch.nn.Sequential(torch.nn.Linear(4, 6), torch.nn.Tanh(), torch.nn.Linear(6, 2))
    model_theirs.load_state_dict(model_ours.state_dict())
    x, y = torch.randn(8, 4), torch.randn(8, 2)
    pairs = [(model_ours, ours(model_ours.parameters())), (model_theirs, theirs(model_theirs.parameters()))]
    for step in range(12):
        for model, opt in pairs:
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            if step % 3 == 1:
                model[0].bias.grad = None  # this step leaves the first bias alone
            opt.step()
    for a, b in zip(model_ours.parameters(), model_theirs.parameters()):
        torch.testing.assert_close(a, b, rtol=0, atol=0)


def test_course_optimizers_skip_parameters_without_gradients():
    frozen, moving = torch.nn.Parameter(torch.ones(3)), torch.nn.Parameter(torch.ones(3))
    opt = Adam([frozen, moving], lr=0.1)
    (moving ** 2).sum().backward()
    opt.step()
    assert torch.equal(frozen, torch.ones(3)) and (moving < 1).all()
    with pytest.raises(ValueError, match="empty parameter list"):
        SGD([], lr=0.1)

