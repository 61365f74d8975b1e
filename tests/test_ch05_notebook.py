"""Teach, then import: the chapter-05 notebook's modules equal course_utils.peft_methods."""

import copy

import pytest
import torch
from torch import nn

from course_utils import peft_methods as pm
from course_utils._maintain.testing import solution_notebook

# the nb fixture (conftest.py) imports NAMES from NOTEBOOK
NOTEBOOK = solution_notebook("05_peft.ipynb")
NAMES = ["LoRALinear", "Adapter", "SoftPrompt", "prompt_inputs", "lora_forward",
         "merge_lora_weight", "lora_param_count", "prompt_attention_mask", "verbalizer"]

pytestmark = pytest.mark.usefixtures("one_thread")


def test_notebook_lora_equals_course_utils(nb):
    base = nn.Linear(8, 6)
    torch.manual_seed(0)
    ours = nb.LoRALinear(copy.deepcopy(base), r=3, alpha=6)
    torch.manual_seed(0)
    lib = pm.LoRALinear(copy.deepcopy(base), r=3, alpha=6)
    assert torch.equal(ours.lora_A, lib.lora_A) and torch.equal(ours.lora_B, lib.lora_B)
    with torch.no_grad():
        ours.lora_B.normal_()
        lib.lora_B.copy_(ours.lora_B)
    x = torch.randn(4, 8)
    assert torch.equal(ours(x), lib(x))
    assert torch.allclose(ours.merged()(x), lib.merged()(x), atol=1e-6)
    assert set(dict(ours.named_parameters())) == set(dict(lib.named_parameters()))


def test_notebook_adapter_and_prompt_equal_course_utils(nb):
    torch.manual_seed(0)
    a = nb.Adapter(8, 3)
    torch.manual_seed(0)
    b = pm.Adapter(8, 3)
    with torch.no_grad():
        for p, q in zip(a.parameters(), b.parameters()):
            p.normal_()
            q.copy_(p)
    h = torch.randn(2, 5, 8)
    assert torch.equal(a(h), b(h))
    init = torch.randn(4, 8)
    assert torch.equal(nb.SoftPrompt(4, 8, init=init)(3), pm.SoftPrompt(4, 8, init=init)(3))
    mask = torch.tensor([[1, 1, 0]])
    assert torch.equal(nb.prompt_attention_mask(mask, 2), pm.extend_attention_mask(mask, 2))


def test_notebook_exercise_solutions_equal_course_utils(nb):
    x, w, b = torch.randn(3, 5), torch.randn(4, 5), torch.randn(4)
    a, bb = torch.randn(2, 5), torch.randn(4, 2)
    assert torch.allclose(nb.lora_forward(x, w, b, a, bb, 4.0), pm.lora_forward(x, w, b, a, bb, 4.0))
    assert torch.allclose(nb.merge_lora_weight(w, a, bb, 4.0), pm.merge_lora_weight(w, a, bb, 4.0))
    targets = ("q_proj", "v_proj", "c_fc")
    assert nb.lora_param_count(128, 512, 4, 4, targets) == pm.bert_lora_parameters(128, 512, 4, 4,
                                                                                   targets)
    logits = torch.randn(2, 30)
    assert torch.allclose(nb.verbalizer(logits, [[1, 2], [5]]),
                          pm.verbalizer_scores(logits, [[1, 2], [5]]))
