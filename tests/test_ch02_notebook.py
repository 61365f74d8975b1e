"""Chapter 02, teach-then-import: what the notebook builds == what course_utils provides."""

import pytest
import torch

from course_utils import generation as gen  # course_utils first: it sets the HF offline flags
from course_utils import tokenization as tk
from course_utils._maintain.testing import solution_notebook
from course_utils.models.blocks import TransformerBlock
from course_utils.models.gpt import GPT, GPTConfig, from_hf_gpt2

pytestmark = pytest.mark.usefixtures("one_thread")

# the nb fixture (conftest.py) imports NAMES from NOTEBOOK
NOTEBOOK = solution_notebook("02_gpt_generation.ipynb")
NAMES = ["GPT2Block", "GPT", "copy_hf_gpt2_weights", "greedy_generate", "greedy_with_cache",
         "beam_search", "get_vocab", "get_stats", "merge_vocab", "bpe_segment",
         "train_bytelevel_bpe", "bleu"]
CFG = dict(vocab_size=60, n_positions=40, n_embd=32, n_layer=2, n_head=4)
EOS = 5


@pytest.fixture(scope="module")
def pair(nb):
    """The notebook's GPT and the package's GPT with the same (peaked) weights."""
    torch.manual_seed(0)
    ours = nb.GPT(GPTConfig(**CFG)).eval()
    with torch.no_grad():
        for p in ours.parameters():
            if p.ndim > 1:
                p.mul_(6)
    lib = GPT(GPTConfig(**CFG)).eval()
    lib.load_state_dict(ours.state_dict())
    return ours, lib


def test_block_and_model_equal_the_package(nb, pair):
    cfg = GPTConfig(**CFG)
    torch.manual_seed(1)
    block = nb.GPT2Block(cfg).eval()
    lib_block = TransformerBlock(cfg.block_config()).eval()
    lib_block.load_state_dict(block.state_dict())
    x = torch.randn(2, 9, 32)
    assert torch.allclose(block(x), lib_block(x)[0], atol=1e-6)
    ours, lib = pair
    idx = torch.randint(0, 60, (3, 17))
    targets = torch.randint(0, 60, (3, 17))
    (a, la), (b, lb) = ours(idx, targets), lib(idx, targets)
    assert torch.allclose(a, b, atol=1e-5) and torch.allclose(la, lb, atol=1e-6)
    torch.manual_seed(2)  # same initialisation scheme, parameter by parameter
    fresh_nb = nb.GPT(GPTConfig(**CFG))
    torch.manual_seed(2)
    fresh_lib = GPT(GPTConfig(**CFG))
    for (n1, p1), (n2, p2) in zip(fresh_nb.state_dict().items(), fresh_lib.state_dict().items()):
        assert n1 == n2 and torch.equal(p1, p2), n1


def test_weight_copy_equals_from_hf_gpt2(nb):
    from transformers import GPT2Config, GPT2LMHeadModel

    torch.manual_seed(3)
    hf = GPT2LMHeadModel(GPT2Config(vocab_size=60, n_positions=40, n_embd=32, n_layer=2,
                                    n_head=4, bos_token_id=0, eos_token_id=0)).eval()
    ours = nb.copy_hf_gpt2_weights(hf, nb.GPT(GPTConfig(**CFG)).eval())
    idx = torch.randint(0, 60, (2, 20))
    with torch.no_grad():
        assert (ours(idx)[0] - hf(idx).logits).abs().max() <= 1e-4
        assert torch.allclose(ours(idx)[0], from_hf_gpt2(hf)(idx)[0], atol=1e-6)


def test_generation_loops_equal_the_package(nb, pair):
    ours, lib = pair
    prompt = torch.randint(0, 60, (3, 4), generator=torch.Generator().manual_seed(4))
    expected = gen.greedy_search(lib, prompt, 25, use_cache=False)
    assert torch.equal(nb.greedy_generate(ours, prompt, 25), expected)
    assert torch.equal(nb.greedy_with_cache(ours, prompt, 25), expected)
    assert torch.equal(gen.greedy_search(ours, prompt, 25), expected)  # package loop, nb model
    long = nb.greedy_generate(ours, prompt[:1], 50)  # past n_positions: cropped like the package
    assert torch.equal(long, gen.greedy_search(lib, prompt[:1], 50))


@pytest.mark.parametrize("width, alpha", [(1, 1.0), (2, 1.0), (4, 0.0), (4, 2.0), (6, 1.0)])
def test_beam_search_equals_the_package(nb, pair, width, alpha):
    ours, lib = pair
    for seed in range(3):
        prompt = torch.randint(0, 60, (1, 3), generator=torch.Generator().manual_seed(seed))
        mine = nb.beam_search(ours, prompt, 16, width, alpha, eos_id=EOS)
        pkg = gen.beam_search(lib, prompt, 16, num_beams=width, length_penalty=alpha,
                              eos_token_id=EOS, num_return_sequences=width)
        assert len(mine) == len(pkg.sequences)
        for (score, log_prob, seq), s2, lp2, seq2 in zip(mine, pkg.scores, pkg.log_probs,
                                                         pkg.sequences):
            assert torch.equal(seq, seq2)
            assert score == pytest.approx(s2, abs=1e-4) and log_prob == pytest.approx(lp2, abs=1e-4)


def test_bpe_from_scratch_equals_the_package(nb):
    texts = ["low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3, "slow lowly news"]
    vocab = nb.get_vocab(texts)
    table = tk.word_frequencies(texts)
    assert {tuple(w.split()): c for w, c in vocab.items()} == table
    merges = []
    for _ in range(12):
        stats = nb.get_stats(vocab)
        assert dict(stats) == dict(tk.pair_counts(table))
        best = max(stats, key=stats.get)
        vocab, table = nb.merge_vocab(best, vocab), tk.merge_pair(table, best)
        assert {tuple(w.split()): c for w, c in vocab.items()} == table
        merges.append(best)
    for word in ("lowest", "newer", "slowly", "xyz"):
        assert nb.bpe_segment(word, merges) == tk.bpe_encode_word(word, merges)


def test_tokenizer_wrapper_equals_the_package(nb):
    texts = ["The acting is superb and the plot keeps you guessing.",
             "I expected to hate it, but the ending moved me. Not bad!"] * 6
    a, b = nb.train_bytelevel_bpe(texts, 290), tk.train_bytelevel_bpe(texts, 290)
    assert a.get_vocab() == b.get_vocab() and a.eos_token_id == b.eos_token_id == 0
    text = "the plot — surprisingly — works 🎬"
    assert a(text)["input_ids"] == b(text)["input_ids"]


@pytest.mark.filterwarnings("ignore::UserWarning")  # nltk warns about zero n-gram overlaps
def test_bleu_from_scratch_equals_nltk(nb):
    from nltk.translate.bleu_score import sentence_bleu

    ref = "the acting is superb and the plot keeps you guessing until the very end".split()
    for cand in [ref, ref[:6], ref[:8] + ["final"] + ref[9:], "the the the the the".split(),
                 "a completely different sentence about nothing at all here".split()]:
        assert nb.bleu(cand, ref) == pytest.approx(sentence_bleu([ref], cand), abs=1e-9)
