"""Chapter 04, teach-then-import: the notebook's ViT, patch embedding and analysis == course_utils'."""

import pytest
import torch

from course_utils._maintain.testing import solution_notebook
from course_utils.models import analysis
from course_utils.models import vit as cu_vit

pytestmark = pytest.mark.usefixtures("one_thread")

# the nb fixture (conftest.py) imports NAMES from NOTEBOOK
NOTEBOOK = solution_notebook("04_vit.ipynb")
NAMES = ["PatchEmbedding", "VisionTransformer", "attention_entropy", "mean_attention_distance",
         "patchify", "num_tokens", "attention_rollout", "sincos_2d", "window_partition"]


def test_notebook_vit_equals_course_utils_vit(nb):
    config = cu_vit.ViTConfig(image_size=8, patch_size=2, in_channels=1, d_model=32, n_layers=2,
                              n_heads=4, d_ff=64, n_classes=10)
    torch.manual_seed(0)
    reference = cu_vit.ViT(config).eval()
    with torch.no_grad():  # non-trivial weights everywhere (the head is zero-initialised)
        for p in reference.parameters():
            p.add_(0.1 * torch.randn_like(p))
    ours = nb.VisionTransformer(config)
    ours.load_state_dict(reference.state_dict())  # same parameter names
    ours.eval()
    x = torch.randn(3, 1, 8, 8)
    with torch.no_grad():
        logits, attentions = ours(x, need_weights=True)
        assert torch.allclose(logits, reference(x), atol=1e-5)
        assert torch.allclose(torch.stack(attentions, 1), reference.attention_maps(x), atol=1e-6)
        assert torch.allclose(ours(x), logits, atol=1e-5)


def test_notebook_patch_embedding_equals_course_utils(nb):
    torch.manual_seed(0)
    ours, theirs = nb.PatchEmbedding(12, 4, 3, 16), cu_vit.PatchEmbedding(12, 4, 3, 16)
    theirs.load_state_dict(ours.state_dict())
    x = torch.randn(2, 3, 12, 12)
    assert torch.equal(ours(x), theirs(x)) and ours.num_patches == theirs.num_patches == 9


def test_notebook_analysis_functions_equal_course_utils(nb):
    maps = torch.softmax(torch.randn(2, 3, 4, 17, 17), -1)
    assert torch.allclose(nb.attention_entropy(maps), analysis.attention_entropy(maps), atol=1e-6)
    assert torch.allclose(nb.mean_attention_distance(maps, 4, 2),
                          analysis.mean_attention_distance(maps, 4, patch_size=2), atol=1e-5)


def test_notebook_exercise_solutions_equal_course_utils(nb):
    x = torch.randn(2, 3, 8, 12)
    assert torch.equal(nb.patchify(x, 4), cu_vit.patchify(x, 4))
    assert nb.num_tokens(224, 224, 16) == cu_vit.num_patch_tokens(224, 224, 16) == 197
    maps = torch.softmax(torch.randn(2, 3, 4, 9, 9), -1)
    for r in (0.0, 0.5, 0.8):
        assert torch.allclose(nb.attention_rollout(maps, r), analysis.attention_rollout(maps, r), atol=1e-6)
    assert torch.equal(nb.sincos_2d(3, 5, 16), cu_vit.sincos_2d_table(3, 5, 16))
    grid = torch.randn(2, 8, 4, 5)
    assert torch.equal(nb.window_partition(grid, 4), cu_vit.window_partition(grid, 4))
