"""Chapter 09, teach-then-import: the notebook's optimizers and schedules == course_utils'."""

import pytest
import torch
from torch import nn

from course_utils import optim as O
from course_utils import schedules as S
from course_utils._maintain.testing import import_definitions_from_notebook, solution_notebook

pytestmark = pytest.mark.usefixtures("one_thread")

NOTEBOOK = solution_notebook("09_optimizers_schedules.ipynb")
OPTIMIZERS = ["SGD", "RMSProp", "Adam", "AdamW", "LAMB"]
SCHEDULES = ["step_decay", "exponential", "linear_decay", "cosine", "cyclic", "one_cycle",
             "warmup_constant", "warmup_linear"]
NAMES = OPTIMIZERS + SCHEDULES  # the nb fixture (conftest.py) imports NAMES from NOTEBOOK


def _run(make_opt, steps=30):
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2))
    nn.init.zeros_(net[0].bias)  # a zero tensor exercises LAMB's ratio-1 rule
    x, y = torch.randn(32, 4), torch.randn(32, 2)
    opt = make_opt(net.parameters())
    for _ in range(steps):
        opt.zero_grad()
        nn.functional.mse_loss(net(x), y).backward()
        opt.step()
    return torch.cat([p.detach().flatten() for p in net.parameters()]), opt


@pytest.mark.parametrize("name, kwargs", [
    ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True, weight_decay=1e-3)),
    ("RMSProp", dict(lr=1e-2, weight_decay=1e-3)),
    ("Adam", dict(lr=1e-2, weight_decay=0.1)),
    ("AdamW", dict(lr=1e-2, weight_decay=0.1)),
    ("LAMB", dict(lr=1e-2, weight_decay=0.01)),
])
def test_notebook_optimizers_match_course_utils(nb, name, kwargs):
    theirs, opt_nb = _run(lambda p: getattr(nb, name)(p, **kwargs))
    ours, opt_cu = _run(lambda p: getattr(O, name)(p, **kwargs))
    assert (theirs - ours).abs().max().item() <= 1e-7
    if name == "LAMB":
        ratios_nb = [opt_nb.state[p]["trust_ratio"] for p in opt_nb.param_groups[0]["params"]]
        assert ratios_nb == pytest.approx(list(O.trust_ratios(opt_cu).values()), rel=1e-6)


@pytest.mark.parametrize("name, kwargs", [
    ("step_decay", dict(lr=0.1, step_size=7, gamma=0.5)),
    ("exponential", dict(lr=0.1, gamma=0.97)),
    ("linear_decay", dict(lr=0.1, final_lr=0.01, total_steps=20)),
    ("cosine", dict(lr=0.1, total_steps=50, min_lr=1e-3)),
    ("cosine", dict(lr=0.1, total_steps=50, past_end="mirror")),
    ("cyclic", dict(base_lr=1e-3, max_lr=1e-2, step_size_up=5, mode="triangular2")),
    ("cyclic", dict(base_lr=1e-3, max_lr=1e-2, step_size_up=3, step_size_down=8)),
    ("one_cycle", dict(max_lr=0.1, total_steps=100)),
    ("warmup_constant", dict(lr=0.1, warmup_steps=10)),
    ("warmup_linear", dict(lr=0.1, warmup_steps=10, total_steps=80, min_lr=1e-3)),
])
def test_notebook_schedules_match_course_utils(nb, name, kwargs):
    steps = range(100) if name != "one_cycle" else range(kwargs["total_steps"])
    theirs = [getattr(nb, name)(t, **kwargs) for t in steps]
    ours = [getattr(S, name)(t, **kwargs) for t in steps]
    assert max(abs(a - b) for a, b in zip(theirs, ours)) <= 1e-12


def test_import_definitions_errors():
    with pytest.raises(ValueError, match=r"defines no top-level \['NoSuchThing'\]"):
        import_definitions_from_notebook(NOTEBOOK, ["SGD", "NoSuchThing"])
    with pytest.raises(ValueError, match="names must list at least one"):
        import_definitions_from_notebook(NOTEBOOK, [])


def test_imported_subclass_keeps_its_base(nb):
    assert issubclass(nb.AdamW, nb.Adam) and nb.AdamW.decoupled and not nb.Adam.decoupled
