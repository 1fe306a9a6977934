"""The sandbox's deferred torch._dynamo: meta-device checks without the compiler, everything else unchanged."""

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

PREAMBLE = f"""
import sys
sys.path.insert(0, {str(ROOT)!r})
import torch
from autograder.sandboxed import deferred_dynamo
"""


def _run(body: str) -> list[str]:
    done = subprocess.run([sys.executable, "-I", "-c", PREAMBLE + body], capture_output=True, text=True, timeout=300,
                          env={"OMP_NUM_THREADS": "1", "PATH": "/usr/bin:/bin"})
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.split()


def test_the_students_meta_device_checks_run_without_importing_the_compiler():
    """What the zygote does: the probes, then the deferral; a device mistake still shows as on a GPU."""
    out = _run("""
from autograder.sandboxed.zygote import preload
preload(['autograder.checks.vae.probes', 'autograder.checks.flows.probes'])
from autograder.sandboxed.probekit import meta_result
mu = torch.zeros(4, 3, device='meta')
right = meta_result(lambda: mu + 0.5 * torch.exp(0.5 * mu) * torch.randn_like(mu))
wrong = meta_result(lambda: mu + 0.5 * torch.exp(0.5 * mu) * torch.randn(4, 3))
print(right, wrong.split(':')[0], 'torch._dynamo.eval_frame' in sys.modules, type(torch._dynamo).__name__)
""")
    assert out == ["meta", "error", "False", "_DeferredDynamo"]


def test_an_optimizer_step_loads_the_real_module_and_what_was_handed_out_before_keeps_working():
    out = _run("""
print(deferred_dynamo.install())
meta = torch.zeros(2, device='meta')
print((0.5 * meta).device)  # a stand-in disable handed out before the real module runs
parameter = torch.nn.Parameter(torch.ones(2))
optimizer = torch.optim.SGD([parameter], lr=0.5)
parameter.sum().backward()
optimizer.step()  # needs more of torch._dynamo than disable
print(type(sys.modules['torch._dynamo']).__name__, 'torch._dynamo.eval_frame' in sys.modules, parameter.tolist())
print((0.5 * meta).device)  # the same function again, now through the real disable
""")
    assert out == ["True", "meta", "module", "True", "[0.5,", "0.5]", "meta"]


def test_optimizer_updates_match_with_and_without_the_deferral():
    script = """
torch.manual_seed(0)
layer = torch.nn.Linear(3, 2)
optimizer = torch.optim.Adam(layer.parameters(), lr=0.1)
for _ in range(3):
    optimizer.zero_grad()
    layer(torch.randn(5, 3)).square().sum().backward()
    optimizer.step()
print(*layer.weight.detach().flatten().tolist())
"""
    assert _run("print(deferred_dynamo.install())\n" + script)[1:] == _run(script)


def test_a_submodule_import_runs_the_package_first_and_each_module_once():
    """`torch.compile` imports torch._dynamo's submodules by name: each is the one object the package holds."""
    out = _run("""
deferred_dynamo.install()
from torch._dynamo.backends.registry import lookup_backend
import torch._dynamo.config as config
print(sys.modules['torch._dynamo'] is torch._dynamo, config is torch._dynamo.config,
      sys.modules['torch._dynamo.config'] is config, lookup_backend('eager').__name__)
compiled = torch.compile(lambda x: torch.sin(x) * 2 + 0.5 * x, backend='eager')
print(torch.allclose(compiled(torch.ones(3)), torch.sin(torch.ones(3)) * 2 + 0.5))
""")
    assert out == ["True", "True", "True", "eager", "True"]


def test_installing_is_refused_without_torch_or_once_the_real_module_is_there():
    out = _run("""
import torch._dynamo
print(deferred_dynamo.install())
""")
    assert out == ["False"]
    done = subprocess.run([sys.executable, "-I", "-c", f"import sys; sys.path.insert(0, {str(ROOT)!r}); "
                           "from autograder.sandboxed import deferred_dynamo; print(deferred_dynamo.install())"],
                          capture_output=True, text=True, timeout=120)
    assert done.stdout.split() == ["False"], done.stderr[-2000:]


def test_a_star_import_gets_the_real_modules_names():
    """`from torch._dynamo import *` asks for `__all__`: that runs the package, so every public name comes."""
    out = _run("""
print(deferred_dynamo.install())
from torch._dynamo import *  # noqa: F403
print(callable(reset), callable(disable), type(sys.modules['torch._dynamo']).__name__)  # noqa: F405
""")
    assert out == ["True", "True", "True", "module"]
