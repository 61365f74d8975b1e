"""Chapter 02: decoding (processors, greedy, sampling, beam search, KV cache) vs transformers."""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import generation as gen  # course_utils first: it sets the HF offline flags
from course_utils.models.gpt import GPT, GPTConfig, to_hf_gpt2
from transformers.generation.logits_process import (  # noqa: E402
    RepetitionPenaltyLogitsProcessor, TemperatureLogitsWarper, TopKLogitsWarper,
    TopPLogitsWarper)

pytestmark = pytest.mark.usefixtures("one_thread")

EOS = 5


@pytest.fixture(scope="module")
def peaked():
    """A small random GPT with sharp distributions (no near-ties) and its HF twin."""
    torch.manual_seed(0)
    model = GPT(GPTConfig(vocab_size=50, n_positions=40, n_embd=32, n_layer=2, n_head=4)).eval()
    with torch.no_grad():
        for p in model.parameters():
            if p.ndim > 1:
                p.mul_(8)
    return model, to_hf_gpt2(model)


def _logits(seed, *shape):
    return 3 * torch.randn(*shape, generator=torch.Generator().manual_seed(seed))


# -- processors ----------------------------------------------------------------------------
@pytest.mark.parametrize("k", [1, 3, 10, 49, 50, 80])
def test_top_k_matches_hf(k):
    logits = _logits(k, 4, 50)
    expected = TopKLogitsWarper(top_k=k)(None, logits.clone())
    assert torch.equal(gen.top_k_filter(logits, k), expected)


@pytest.mark.parametrize("p", [0.05, 0.3, 0.5, 0.8, 0.9, 0.99])
def test_top_p_matches_hf(p):
    logits = _logits(int(p * 100), 6, 50)
    expected = TopPLogitsWarper(top_p=p)(None, logits.clone())
    assert torch.equal(gen.top_p_filter(logits, p), expected)


def test_temperature_and_repetition_penalty_match_hf():
    logits = _logits(1, 3, 50)
    ids = torch.randint(0, 50, (3, 12), generator=torch.Generator().manual_seed(2))
    assert torch.allclose(gen.apply_temperature(logits, 0.7),
                          TemperatureLogitsWarper(0.7)(None, logits.clone()))
    assert torch.equal(gen.apply_repetition_penalty(logits, ids, 1.3),
                       RepetitionPenaltyLogitsProcessor(1.3)(ids, logits.clone()))


def test_filters_keep_at_least_one_token_and_switch_off():
    logits = _logits(3, 2, 20)
    assert torch.equal(gen.top_k_filter(logits, None), logits)
    assert torch.equal(gen.top_k_filter(logits, 0), logits)
    assert torch.equal(gen.top_p_filter(logits, 1.0), logits)
    tiny = gen.top_p_filter(logits, 1e-6)
    assert torch.equal(torch.isfinite(tiny).sum(-1), torch.ones(2, dtype=torch.long))
    out = gen.process_logits(logits, temperature=0.5, top_k=5, top_p=0.9)
    assert (torch.isfinite(out).sum(-1) <= 5).all()


def test_processor_errors_are_explicit():
    with pytest.raises(ValueError, match="temperature must be > 0.0"):
        gen.apply_temperature(torch.zeros(3), 0.0)
    with pytest.raises(ValueError, match="p must be > 0.0"):
        gen.top_p_filter(torch.zeros(3), 0.0)
    with pytest.raises(ValueError, match="k must be >= 1"):
        gen.top_k_filter(torch.zeros(3), -2)
    with pytest.raises(ValueError, match="logits must be a float tensor"):
        gen.top_k_filter(torch.zeros(3, dtype=torch.long), 2)
    with pytest.raises(ValueError, match="repetition_penalty needs input_ids"):
        gen.process_logits(torch.zeros(1, 3), repetition_penalty=1.2)
    with pytest.raises(ValueError, match=r"expected logits \(B, V\) and input_ids \(B, T\)"):
        gen.apply_repetition_penalty(torch.zeros(2, 3), torch.zeros(3, 4, dtype=torch.long), 1.2)


# -- searches vs transformers ---------------------------------------------------------------
def test_greedy_and_sampling_match_hf_generate(peaked):
    model, hf = peaked
    prompt = torch.tensor([[3, 7, 11], [1, 2, 3]])
    mask = torch.ones_like(prompt)
    ours = gen.greedy_search(model, prompt, 15, eos_token_id=EOS)
    theirs = hf.generate(prompt, attention_mask=mask, max_new_tokens=15, do_sample=False,
                         eos_token_id=EOS, pad_token_id=EOS)
    assert torch.equal(ours, theirs)
    for kw in ({"top_k": 0}, {"top_k": 8, "temperature": 0.7}, {"top_k": 0, "top_p": 0.8},
               {"top_k": 0, "repetition_penalty": 1.4}):
        torch.manual_seed(1)
        ours = gen.sample(model, prompt, 15, eos_token_id=EOS, **kw)
        torch.manual_seed(1)
        theirs = hf.generate(prompt, attention_mask=mask, max_new_tokens=15, do_sample=True,
                             eos_token_id=EOS, pad_token_id=EOS, **kw)
        assert torch.equal(ours, theirs), kw


@pytest.mark.parametrize("num_beams, length_penalty, early_stopping",
                         [(2, 1.0, False), (4, 1.0, False), (3, 0.0, True), (4, 2.0, "never"),
                          (5, -0.5, False)])
def test_beam_search_matches_hf(peaked, num_beams, length_penalty, early_stopping):
    model, hf = peaked
    for seed in range(4):
        prompt = torch.randint(0, 50, (1, 4), generator=torch.Generator().manual_seed(seed))
        ours = gen.beam_search(model, prompt, 14, num_beams=num_beams,
                               length_penalty=length_penalty, eos_token_id=EOS,
                               early_stopping=early_stopping, num_return_sequences=num_beams)
        theirs = hf.generate(prompt, attention_mask=torch.ones_like(prompt), max_new_tokens=14,
                             num_beams=num_beams, length_penalty=length_penalty,
                             eos_token_id=EOS, pad_token_id=EOS, early_stopping=early_stopping,
                             num_return_sequences=num_beams, output_scores=True,
                             return_dict_in_generate=True)
        for i, (seq, score) in enumerate(zip(ours.sequences, ours.scores)):
            padded = theirs.sequences[i]
            assert torch.equal(padded[:len(seq)], seq)
            assert (padded[len(seq):] == EOS).all()
            assert score == pytest.approx(float(theirs.sequences_scores[i]), abs=1e-4)


def test_beam_width_one_is_greedy(peaked):
    model, _ = peaked
    for seed in range(5):
        prompt = torch.randint(0, 50, (1, 3), generator=torch.Generator().manual_seed(seed))
        greedy = gen.greedy_search(model, prompt, 20, eos_token_id=EOS)[0]
        for alpha in (0.0, 1.0, 2.0):
            beam = gen.beam_search(model, prompt, 20, num_beams=1, length_penalty=alpha,
                                   eos_token_id=EOS).best
            assert torch.equal(beam, greedy)
    out = gen.beam_search(model, torch.tensor([1, 2]), 6, num_beams=3)
    assert out.scores[0] == pytest.approx(out.log_probs[0] / 6)
    assert out.log_probs[0] == pytest.approx(gen.sequence_log_prob(model, out.best, 2), abs=1e-4)


def test_kv_cache_gives_identical_outputs(peaked):
    model, _ = peaked
    prompt = torch.randint(0, 50, (3, 4), generator=torch.Generator().manual_seed(9))
    assert torch.equal(gen.greedy_search(model, prompt, 30, use_cache=True),
                       gen.greedy_search(model, prompt, 30, use_cache=False))
    a = gen.sample(model, prompt, 30, top_p=0.9, generator=torch.Generator().manual_seed(0),
                   use_cache=True)
    b = gen.sample(model, prompt, 30, top_p=0.9, generator=torch.Generator().manual_seed(0),
                   use_cache=False)
    assert torch.equal(a, b)
    beam_a = gen.beam_search(model, prompt[:1], 20, num_beams=4, eos_token_id=EOS, use_cache=True)
    beam_b = gen.beam_search(model, prompt[:1], 20, num_beams=4, eos_token_id=EOS, use_cache=False)
    assert all(torch.equal(x, y) for x, y in zip(beam_a.sequences, beam_b.sequences))


def test_generate_dispatches_and_crops_long_contexts(peaked):
    model, hf = peaked
    prompt = torch.tensor([[4, 8, 15]])
    assert torch.equal(gen.generate(model, prompt, 8), gen.greedy_search(model, prompt, 8))
    assert torch.equal(gen.generate(model, prompt, 8, num_beams=3)[0],
                       gen.beam_search(model, prompt, 8, num_beams=3).best)
    g = torch.Generator().manual_seed(3)
    s = gen.generate(model, prompt, 8, do_sample=True, top_k=5, generator=g)
    assert s.shape == (1, 11)
    long = gen.greedy_search(model, prompt, 60)  # longer than n_positions=40: cropped
    assert long.shape == (1, 63)
    # the default caches while the sequence fits, then re-reads the cropped context: the same
    # tokens as never caching
    assert torch.equal(long, gen.greedy_search(model, prompt, 60, use_cache=False))
    draws = [gen.sample(model, prompt, 60, top_k=5, use_cache=cache,
                        generator=torch.Generator().manual_seed(4)) for cache in (None, False)]
    assert torch.equal(*draws)
    beams = [gen.beam_search(model, prompt, 45, num_beams=3, length_penalty=0.0,
                             use_cache=cache) for cache in (None, False)]
    assert torch.equal(beams[0].best, beams[1].best) and len(beams[0].best) > 40
    # ... and it does cache: one-token forward passes while the sequence fits, none after
    lengths = []
    hook = model.register_forward_pre_hook(lambda m, args: lengths.append(args[0].shape[1]))
    try:
        gen.greedy_search(model, prompt, 60)
    finally:
        hook.remove()
    assert lengths[0] == 3 and lengths[1:38] == [1] * 37 and set(lengths[38:]) == {40}
    # a prompt longer than the window: no cache at all, the same tokens as never caching
    too_long = torch.arange(45)[None, :] % 10
    for cache in (None, False):
        assert gen.greedy_search(model, too_long, 5, use_cache=cache).shape == (1, 50)
    assert torch.equal(gen.greedy_search(model, too_long, 5),
                       gen.greedy_search(model, too_long, 5, use_cache=False))
    assert torch.equal(gen.beam_search(model, too_long, 5, num_beams=2).best,
                       gen.beam_search(model, too_long, 5, num_beams=2, use_cache=False).best)
    hf_ids = gen.greedy_search(hf, prompt, 8)  # a transformers model works without a cache
    assert torch.equal(hf_ids, gen.greedy_search(model, prompt, 8))
    with pytest.raises(ValueError, match="do not fit in the KV cache"):
        gen.greedy_search(model, prompt, 60, use_cache=True)
    with pytest.raises(ValueError, match="use_cache=True needs a model with new_kv_cache"):
        gen.greedy_search(hf, prompt, 4, use_cache=True)
    with pytest.raises(ValueError, match="beam_search decodes one prompt at a time"):
        gen.beam_search(model, torch.zeros(2, 3, dtype=torch.long), 4)
    with pytest.raises(ValueError, match="max_new_tokens must be >= 1"):
        gen.sample(model, prompt, 0)
    with pytest.raises(ValueError, match="input_ids must hold at least one token"):
        gen.greedy_search(model, torch.zeros(1, 0, dtype=torch.long), 3)
    with pytest.raises(ValueError, match="early_stopping must be True, False or 'never'"):
        gen.beam_search(model, prompt, 3, early_stopping="sometimes")


def test_greedy_pads_finished_rows_and_stops(peaked):
    model, _ = peaked
    prompt = torch.tensor([[3, 7, 11], [1, 2, 3]])
    free = gen.greedy_search(model, prompt, 15)
    eos = int(free[0, 5])  # pretend the 3rd generated token of row 0 is EOS
    out = gen.greedy_search(model, prompt, 15, eos_token_id=eos, pad_token_id=0)
    row = out[0, 3:].tolist()
    first = row.index(eos)
    assert all(t == 0 for t in row[first + 1:])


# -- evaluation ----------------------------------------------------------------------------
def test_perplexity_functions(peaked):
    model, _ = peaked
    stream = torch.randint(0, 50, (101,), generator=torch.Generator().manual_seed(4))
    ppl, nll, n = gen.perplexity(model, stream, context=16, batch_size=3, return_nll=True)
    assert n == 100  # every token after the first is predicted once
    manual = 0.0
    for start in range(0, 100, 16):
        x = stream[start:min(start + 16, 100)][None]
        y = stream[start + 1:min(start + 17, 101)][None]
        logits = model(x)[0]
        manual += F.cross_entropy(logits[0], y[0], reduction="sum").item()
    assert nll == pytest.approx(manual, rel=1e-5) and ppl == pytest.approx(math.exp(manual / 100))
    logits = torch.zeros(2, 3, 7)
    assert gen.perplexity_from_logits(logits, torch.zeros(2, 3, dtype=torch.long)) \
        == pytest.approx(7.0)
    targets = torch.tensor([[1, -100, 2]])
    lg = _logits(5, 1, 3, 7)
    expect = math.exp(F.cross_entropy(lg[0, [0, 2]], torch.tensor([1, 2])).item())
    assert gen.perplexity_from_logits(lg, targets) == pytest.approx(expect, rel=1e-6)
    with pytest.raises(ValueError, match="must agree"):
        gen.perplexity_from_logits(torch.zeros(2, 3, 7), torch.zeros(2, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="need at least 2 tokens"):
        gen.perplexity(model, torch.tensor([1]), context=4)


def test_distinct_n_and_sequence_log_prob(peaked):
    assert gen.distinct_n(["a b a b", "a b c"], 1) == pytest.approx(3 / 7)
    assert gen.distinct_n([[1, 2, 1, 2], [1, 2, 3]], 2) == pytest.approx(3 / 5)
    assert gen.distinct_n(["a"], 2) == 0.0
    with pytest.raises(ValueError, match="n must be >= 1"):
        gen.distinct_n(["a"], 0)
    model, _ = peaked
    seq = torch.tensor([1, 2, 3, 4, 5])
    lp = F.log_softmax(model(seq[None, :-1])[0][0], -1)
    expected = sum(lp[i - 1, seq[i]].item() for i in range(2, 5))
    assert gen.sequence_log_prob(model, seq, 2) == pytest.approx(expected, abs=1e-5)


def test_sequence_log_probs_batches_sequence_log_prob(peaked):
    model, _ = peaked
    g = torch.Generator().manual_seed(0)
    seqs = [torch.randint(0, 10, (n,), generator=g).tolist() for n in (5, 2, 9, 7, 3)]
    prompts = [2, 1, 4, 7, 1]
    single = [gen.sequence_log_prob(model, s, p) for s, p in zip(seqs, prompts)]
    for batch_size in (1, 2, 64):
        batched = gen.sequence_log_probs(model, seqs, prompts, batch_size=batch_size)
        assert batched == pytest.approx(single, abs=1e-5)
    assert gen.sequence_log_probs(model, seqs[1:2], [2]) == [0.0]  # nothing after the prompt
    with pytest.raises(ValueError, match="2 sequences but 1 prompt lengths"):
        gen.sequence_log_probs(model, seqs[:2], [1])
    with pytest.raises(ValueError, match="prompt_length must be <= 2"):
        gen.sequence_log_probs(model, seqs[1:2], [3])
