"""The helper package: data shapes, and the PixelCNN's small Adam against torch.optim.Adam."""

import numpy as np
import torch

from genmodels import data
from genmodels.pixelcnn import Adam


def test_digits_split_is_binary_and_fixed():
    split = data.digits()
    assert split.train.shape == (1438, 1, 8, 8) and split.test.shape == (359, 1, 8, 8)
    assert set(np.unique(split.train)) == {0.0, 1.0}
    np.testing.assert_array_equal(split.test, data.digits().test)


def test_ring_of_gaussians_sits_on_its_centres():
    points = data.ring_of_gaussians(2000, std=0.01)
    distance = np.linalg.norm(points[:, None] - data.ring_centres()[None], axis=-1).min(axis=1)
    assert points.shape == (2000, 2) and distance.max() < 0.1


def test_small_adam_matches_torch_optim_adam():
    torch.manual_seed(0)
    ours, theirs = torch.nn.Linear(5, 3), torch.nn.Linear(5, 3)
    theirs.load_state_dict(ours.state_dict())
    x, y = torch.randn(16, 5), torch.randn(16, 3)
    opt_ours, opt_theirs = Adam(ours.parameters(), lr=3e-3), torch.optim.Adam(theirs.parameters(), lr=3e-3)
    for _ in range(20):
        for model, opt in ((ours, opt_ours), (theirs, opt_theirs)):
            opt.zero_grad()
            torch.nn.functional.mse_loss(model(x), y).backward()
            opt.step()
    for a, b in zip(ours.parameters(), theirs.parameters()):
        torch.testing.assert_close(a, b)

