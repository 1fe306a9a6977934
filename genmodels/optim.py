"""Adam and SGD for the course's training loops, with torch.optim's updates and the API a training step uses.

Why not torch.optim: constructing the first torch.optim optimizer in a process imports torch._dynamo
(about 1.2 s of CPU, more than most smoke tests train), and grading pays it in every sandbox and in
the grader itself. These classes do the same arithmetic as `torch.optim.Adam` and `torch.optim.SGD`
(no momentum, no weight decay; tests/test_genmodels.py compares them step by step) and offer what a
student's training step calls: `zero_grad(set_to_none=True)`, `step(closure=None)`, `param_groups`.
"""

from __future__ import annotations

import torch


class _Optimizer:
    """Parameters in one group (`param_groups[0]`, whose "lr" a schedule may change) and per-parameter state."""

    def __init__(self, params, **defaults):
        params = list(params)
        if not params:
            raise ValueError("the optimizer got an empty parameter list")
        self.defaults = defaults
        self.param_groups = [{"params": params, **defaults}]
        self.state: dict = {}

    def _parameters(self):
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is not None:
                    yield group, p

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if set_to_none:
                    p.grad = None
                else:
                    p.grad.detach_().zero_()

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns closure() when given, as torch.optim does."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        with torch.no_grad():
            for group, p in self._parameters():
                self._update(group, p)
        return loss

    def _update(self, group: dict, p: torch.Tensor) -> None:
        raise NotImplementedError


class SGD(_Optimizer):
    """Plain gradient descent: p <- p - lr * grad."""

    def __init__(self, params, lr: float):
        super().__init__(params, lr=lr)

    def _update(self, group, p):
        p.add_(p.grad, alpha=-group["lr"])


class Adam(_Optimizer):
    """Adam (Kingma & Ba, 2015) with torch.optim.Adam's defaults and bias correction."""

    def __init__(self, params, lr: float = 1e-3, betas=(0.9, 0.999), eps: float = 1e-8):
        super().__init__(params, lr=lr, betas=tuple(betas), eps=eps)

    def _update(self, group, p):
        state = self.state.setdefault(p, {"step": 0, "m": torch.zeros_like(p), "v": torch.zeros_like(p)})
        state["step"] += 1
        (beta1, beta2), t = group["betas"], state["step"]
        state["m"].lerp_(p.grad, 1 - beta1)  # first moment: beta1 * m + (1 - beta1) * grad
        state["v"].mul_(beta2).addcmul_(p.grad, p.grad, value=1 - beta2)  # second moment
        denominator = (state["v"].sqrt() / (1 - beta2 ** t) ** 0.5).add_(group["eps"])
        p.addcdiv_(state["m"], denominator, value=-group["lr"] / (1 - beta1 ** t))
