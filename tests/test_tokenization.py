"""Chapter 02: BPE from scratch, byte-level BPE, the HF tokenizer wrapper and n-gram baselines."""

import math

import numpy as np
import pytest
import torch

from course_utils import tokenization as tk  # course_utils first: it sets the HF offline flags
from course_utils.ngram import NGramLM, interpolation_sweep, tune_interpolation

TOY = ["low " * 5 + "lower " * 2 + "newest " * 6 + "widest " * 3]
TEXTS = ["The acting is superb and the plot keeps you guessing.",
         "The plot is thin, the pacing is slow, and the acting is stiff.",
         "I expected to hate it, but the ending moved me.",
         "Not bad at all. The music is lovely."] * 5


def test_bpe_merges_step_by_step_on_the_classic_example():
    wf = tk.word_frequencies(TOY)
    assert wf[("l", "o", "w", "</w>")] == 5 and len(wf) == 4
    assert tk.pair_counts(wf)[("e", "s")] == 9
    result = tk.train_bpe(wf, 10)
    assert result.merges[:3] == [("e", "s"), ("es", "t"), ("est", "</w>")]
    assert result.history[0] == {"pair": ("e", "s"), "count": 9, "n_symbols": 11}
    assert tk.bpe_encode_word("lowest", result.merges) == ["low", "est</w>"]
    assert tk.bpe_encode_word("xyz", result.merges) == ["x", "y", "z", "</w>"]
    assert "newest</w>" in result.vocabulary()
    assert len(tk.train_bpe(wf, 100).merges) < 100  # stops when no pair occurs twice


def test_merge_pair_left_to_right_without_overlap():
    assert tk.merge_pair({("a", "a", "a"): 2}, ("a", "a")) == {("aa", "a"): 2}
    assert tk.merge_pair({("a", "b"): 1, ("b", "a"): 3}, ("b", "a")) == {("a", "b"): 1, ("ba",): 3}
    assert tk.merge_pair({(1, 2, 1, 2): 1}, (1, 2), new_symbol=9) == {(9, 9): 1}
    # two words can become one after merging: counts add up
    assert tk.merge_pair({("a", "b"): 1, ("ab",): 2}, ("a", "b")) == {("ab",): 3}
    with pytest.raises(ValueError, match="pair must be a tuple of two symbols"):
        tk.merge_pair({}, ("a",))


def test_byte_level_bpe_encodes_anything_exactly():
    bpe = tk.ByteLevelBPE().train(TEXTS, 40)
    assert len(bpe) == 256 + len(bpe.merges) and 0 < len(bpe.merges) <= 40
    for text in ["the acting", "café 🎬 电影", "", "  spaces\n\ttabs", "ÀÉÎ ñ ß"]:
        ids = bpe.encode(text)
        assert bpe.decode(ids) == text
        assert all(0 <= i < len(bpe) for i in ids)
    assert len(bpe.encode("the acting is")) < len("the acting is".encode())  # merges compress
    assert bpe.tokens("🎬")[0].startswith("<f0>")
    untrained = tk.ByteLevelBPE()
    assert untrained.decode(untrained.encode("hé")) == "hé"
    with pytest.raises(ValueError, match="id must be <= 255"):
        untrained.decode([300])
    assert tk.pretokenize("I'm here.") == ["I", "'m", " here", "."]


def test_hf_bytelevel_tokenizer_wrapper(tmp_path):
    tok = tk.train_bytelevel_bpe(TEXTS, 300)
    assert len(tok) == 300 and tok.eos_token == tk.EOT and tok.eos_token_id == 0
    assert tok.pad_token_id == tok.bos_token_id == 0
    text = "The acting is superb — café 🎬"
    ids = tok(text)["input_ids"]
    assert tok.decode(ids) == text and tok.unk_token is None
    stream = tk.encode_stream(tok, ["Loved it.", "Hated it."])
    assert stream.dtype == torch.long and (stream == 0).sum() == 2 and stream[-1] == 0
    assert tk.encode_stream(tok, ["a"], eos=False).tolist() == tok("a")["input_ids"]
    tok.save_pretrained(tmp_path)
    from transformers import AutoTokenizer

    again = AutoTokenizer.from_pretrained(tmp_path)
    assert again(text)["input_ids"] == ids and again.eos_token_id == 0
    with pytest.raises(ValueError, match="vocab_size must be >= 257"):
        tk.train_bytelevel_bpe(TEXTS, 100)
    with pytest.raises(TypeError, match="texts must be a list of strings"):
        tk.encode_stream(tok, "one string")


def test_ngram_models_are_normalised_and_smoothed():
    ids = [0, 1, 2, 0, 1, 2, 0, 1, 3]
    for n in (1, 2, 3):
        lm = NGramLM(n, 5, lam=0.8).fit(ids)
        for ctx in ([], [0], [0, 1], [4, 4]):
            assert lm.next_distribution(ctx).sum() == pytest.approx(1.0)
        assert np.all(np.exp(lm.log_probs([4, 4, 4])) > 0)  # unseen tokens: never zero
    bigram = NGramLM(2, 5, lam=1.0, add_k=1e-9).fit(ids)
    assert bigram.next_distribution([0])[1] == pytest.approx(1.0)
    assert bigram.perplexity([0, 1, 2, 0]) == pytest.approx(1.5 ** (1 / 3), rel=1e-6)  # P(2|1) = 2/3
    uniform = NGramLM(1, 7, add_k=1e9).fit([0, 1])
    assert uniform.perplexity([3, 5, 6, 0]) == pytest.approx(7.0, rel=1e-6)
    assert len(bigram.log_probs(torch.tensor(ids))) == len(ids) - 1
    sample = NGramLM(2, 5).fit(ids).sample([0], 6, seed=0, stop_token=3)
    assert 1 <= len(sample) <= 6 and all(0 <= t < 5 for t in sample)


def test_higher_order_ngram_wins_on_structured_text_and_lambda_is_tuned():
    rng = np.random.default_rng(0)
    words = [rng.choice(["ab", "cd"]) for _ in range(400)]
    ids = [ord(c) - 97 for w in words for c in w]
    train, held = ids[:600], ids[600:]
    uni = NGramLM(1, 4).fit(train).perplexity(held)
    bi = NGramLM(2, 4, lam=0.95).fit(train).perplexity(held)
    assert bi < uni and uni == pytest.approx(4.0, rel=0.05)
    best, table = tune_interpolation(2, 4, train, held, grid=(0.5, 0.9, 0.99))
    assert best == min(table, key=table.get) and set(table) == {0.5, 0.9, 0.99}
    assert math.isfinite(table[best])


def test_interpolation_sweep_and_truncated_equal_separate_fits():
    rng = np.random.default_rng(1)
    train = rng.integers(0, 6, 3000).tolist() + [0, 1, 2, 3] * 200
    held = rng.integers(0, 6, 400).tolist() + [0, 1, 2, 3] * 30 + [5, 5, 4]
    big = NGramLM(5, 6).fit(train)
    lams = (0.3, 0.8, 0.95, 0.99)
    sweep = interpolation_sweep(big, torch.tensor(held), (1, 2, 3, 5), lams)
    assert set(sweep) == {(n, lam) for n in (1, 2, 3, 5) for lam in lams}
    for (n, lam), ppl in sweep.items():
        separate = NGramLM(n, 6, lam=lam).fit(train)
        assert ppl == separate.perplexity(held)  # bit for bit: same operations, same order
        view = big.truncated(n)
        view.lam = lam
        assert view.perplexity(held) == ppl and view.n == n
        assert np.array_equal(view.log_probs(held), separate.log_probs(held))
    best, table = tune_interpolation(3, 6, train, held, grid=lams)
    assert table == {lam: NGramLM(3, 6, lam=lam).fit(train).perplexity(held) for lam in lams}
    with pytest.raises(ValueError, match="n must be <= 5"):
        interpolation_sweep(big, held, (6,), lams)
    assert NGramLM(5, 6, lam=0.3).fit(train).truncated(2).lam == 0.3  # keeps the parent's weight
    with pytest.raises(ValueError, match=r"token ids must be in 0..5, got min -1"):
        interpolation_sweep(big, [0, 1, -1], (2,), lams)
    with pytest.raises(ValueError, match=r"token ids must be in 0..5, got min 0, max 6"):
        big.log_probs([0, 6])
    with pytest.raises(ValueError, match="need at least 2 tokens"):
        interpolation_sweep(big, [1], (2,), lams)


def test_ngram_errors():
    with pytest.raises(ValueError, match=r"token ids must be in 0..3, got min 0, max 7"):
        NGramLM(2, 4).fit([0, 7])
    with pytest.raises(ValueError, match="n must be >= 1"):
        NGramLM(0, 4)
    with pytest.raises(ValueError, match="need at least 2 tokens"):
        NGramLM(1, 4).fit([0, 1]).perplexity([1])
    with pytest.raises(ValueError, match="1-D stream"):
        NGramLM(1, 4).fit(torch.zeros(2, 2, dtype=torch.long))
