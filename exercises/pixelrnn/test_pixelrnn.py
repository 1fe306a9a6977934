"""Public checks for pixelrnn.py — run them with `course check pixelrnn` (or `pytest exercises/pixelrnn`)."""

import torch


def test_skew_3x3(student):
    x = torch.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    expected = torch.tensor([[1.0, 2, 3, 0, 0], [0, 4, 5, 6, 0], [0, 0, 7, 8, 9]]).reshape(1, 1, 3, 5)
    torch.testing.assert_close(student.skew(x), expected)


def test_unskew_inverts_skew(student):
    x = torch.randn(2, 3, 4, 6)
    torch.testing.assert_close(student.unskew(student.skew(x)), x)
