"""Chapter 03, teach-then-import: the notebook's embeddings, MLM head and exercise solutions == course_utils'."""

import pytest
import torch

from course_utils._maintain.testing import solution_notebook
from course_utils.mlm import mask_tokens, masking_stats
from course_utils.models import bert as cu_bert

pytestmark = pytest.mark.usefixtures("one_thread")

# the nb fixture (conftest.py) imports NAMES from NOTEBOOK
NOTEBOOK = solution_notebook("03_bert_mlm.ipynb")
NAMES = ["BertEmbeddings", "MLMHead", "pair_inputs", "bert_mask", "mlm_loss_from_logits",
         "mean_pooling", "top_k_candidates", "word_ids_from_pieces"]
CONFIG = cu_bert.BertConfig(vocab_size=50, hidden_size=16, num_hidden_layers=1,
                            num_attention_heads=2, max_position_embeddings=12,
                            hidden_dropout=0.0)


def test_notebook_embeddings_equal_course_utils(nb):
    torch.manual_seed(0)
    ours, theirs = nb.BertEmbeddings(CONFIG), cu_bert.BertEmbeddings(CONFIG)
    theirs.load_state_dict(ours.state_dict())  # same parameter names
    ids = torch.randint(0, 50, (3, 12))
    types = torch.randint(0, 2, (3, 12))
    assert torch.allclose(ours(ids, types), theirs(ids, types))
    assert torch.allclose(ours(ids), theirs(ids))


def test_notebook_mlm_head_equals_course_utils_and_is_tied(nb):
    torch.manual_seed(0)
    embedding = torch.nn.Embedding(50, 16)
    ours, theirs = nb.MLMHead(CONFIG, embedding), cu_bert.MLMHead(CONFIG, embedding)
    theirs.load_state_dict(ours.state_dict())
    with torch.no_grad():
        ours.bias.normal_()
        theirs.bias.copy_(ours.bias)
    hidden = torch.randn(2, 5, 16)
    assert torch.allclose(ours(hidden), theirs(hidden), atol=1e-6)
    assert ours.decoder.weight is embedding.weight


def test_notebook_masking_solution_agrees_with_the_library_statistics(nb):
    ids = torch.randint(5, 300, (3000, 40))
    ids[:, 0], ids[:, -1] = 2, 3
    masked, labels = nb.bert_mask(ids, 4, 300, generator=torch.Generator().manual_seed(0))
    lib = mask_tokens(ids, mask_id=4, vocab_size=300, special_ids=(0, 1, 2, 3, 4),
                      generator=torch.Generator().manual_seed(0))
    a = masking_stats(ids, masked, labels, mask_id=4, special_ids=(0, 1, 2, 3, 4))
    b = masking_stats(ids, lib.input_ids, lib.labels, mask_id=4, special_ids=(0, 1, 2, 3, 4))
    for key in ("selected", "mask", "random", "unchanged"):
        assert abs(a[key] - b[key]) < 0.01, key
