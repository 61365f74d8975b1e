"""Chapter 10, teach-then-import: the notebook's model, losses and solutions == course_utils'."""

import pytest
import torch
from torch import nn

from course_utils import compression as cz
from course_utils._maintain.testing import solution_notebook
from course_utils.models import count_parameters

pytestmark = pytest.mark.usefixtures("one_thread")

# the nb fixture (conftest.py) imports NAMES from NOTEBOOK
NOTEBOOK = solution_notebook("10_distillation_pruning.ipynb")
NAMES = ["ResidualBlock", "ResidualMLP", "distillation_term", "kd_loss", "fake_quantize",
         "sparsity", "shrink_ffn", "dark_knowledge", "RowsBert"]


def test_notebook_residual_mlp_equals_course_utils(nb):
    config = cz.MLPConfig(d_model=16, d_hidden=24, n_blocks=3)
    torch.manual_seed(0)
    reference = cz.ResidualMLP(config).eval()
    ours = nb.ResidualMLP(config).eval()
    ours.load_state_dict(reference.state_dict())
    x = torch.randn(4, 1, 8, 8)
    with torch.no_grad():
        assert torch.equal(ours(x), reference(x))


def test_notebook_losses_equal_course_utils(nb):
    torch.manual_seed(0)
    s, t, y = torch.randn(6, 10), 2 * torch.randn(6, 10), torch.randint(0, 10, (6,))
    for temperature in (1.0, 3.0):
        ref = cz.kd_loss(s, t, y, temperature, alpha=1.0)
        assert torch.allclose(nb.distillation_term(s, t, temperature), ref, atol=1e-5)
        assert torch.allclose(nb.kd_loss(s, t, y, temperature, 0.4),
                              cz.kd_loss(s, t, y, temperature, 0.4), atol=1e-5)


def test_notebook_exercise_solutions_equal_course_utils(nb):
    torch.manual_seed(0)
    x = torch.randn(300)
    for bits in (2, 4, 8):
        assert torch.allclose(nb.fake_quantize(x, bits), cz.fake_quantize(x, bits), atol=1e-6)
    model = cz.ResidualMLP(cz.MLPConfig(d_model=8, d_hidden=16, n_blocks=2))
    cz.magnitude_prune(model, 0.6)
    assert nb.sparsity(model) == cz.sparsity(model)
    fc1, fc2 = nn.Linear(6, 10), nn.Linear(10, 4)
    new1, new2 = nb.shrink_ffn(fc1, fc2, 0.3)
    ref1, ref2 = cz.shrink_ffn(fc1, fc2, cz.select_channels(fc1.weight, 0.3))
    assert torch.equal(new1.weight, ref1.weight) and torch.equal(new2.weight, ref2.weight)
    logits = 3 * torch.randn(20, 10)
    expected = (1 - cz.soft_targets(logits, 2.0).max(-1).values).mean().item()
    assert nb.dark_knowledge(logits, 2.0) == pytest.approx(expected, abs=1e-6)


def test_notebook_rows_bert_heads_can_be_pruned(nb):
    from transformers import BertConfig

    config = BertConfig(vocab_size=2, hidden_size=16, num_hidden_layers=2, num_attention_heads=4,
                        intermediate_size=32, max_position_embeddings=16, num_labels=10)
    torch.manual_seed(0)
    model = nb.RowsBert(config).eval()
    x = torch.rand(3, 1, 8, 8)
    before = count_parameters(model)
    cz.prune_bert_heads(model.bert, {0: [0, 3], 1: [2]})
    assert model(x).shape == (3, 10) and count_parameters(model) < before
