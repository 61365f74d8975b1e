"""Chapter 01: character vocabulary, length-bucketed batches and the seq2seq models."""

import pytest
import torch
import torch.nn.functional as F

from course_utils.models import count_parameters
from course_utils.models.attention import AdditiveAttention, LuongAttention
from course_utils.models.seq2seq import (GRUSeq2Seq, GRUSeq2SeqConfig, TransformerSeq2Seq,
                                         TransformerSeq2SeqConfig)
from course_utils.text import CharVocab, LengthBucketBatches, display_token

pytestmark = pytest.mark.usefixtures("one_thread")


def test_char_vocab_roundtrip_and_padding():
    vocab = CharVocab.build(["23 Nov 2026", "2026年11月23日", "11/23/26"])
    assert vocab.itos[:4] == ["<pad>", "<bos>", "<eos>", "<unk>"]
    assert len(set(vocab.itos)) == len(vocab)
    ids = vocab.encode("23 Nov", bos=True, eos=True)
    assert ids[0] == vocab.bos_id and ids[-1] == vocab.eos_id
    assert vocab.decode(ids) == "23 Nov"
    assert vocab.encode("Z") == [vocab.unk_id]
    batch, lengths = vocab.encode_batch(["11/23/26", "2026年11月23日"])
    assert batch.shape == (2, 11) and lengths.tolist() == [8, 11]
    assert batch[0, 8:].tolist() == [0, 0, 0]
    assert vocab.decode_batch(batch) == ["11/23/26", "2026年11月23日"]
    two_sentences = [vocab.bos_id, *vocab.encode("2"), vocab.eos_id, *vocab.encode("3")]
    assert vocab.decode(two_sentences) == "2"  # stops at the first <eos>
    assert vocab.tokens(vocab.encode("Nov")) == ["N", "o", "v"]


def test_char_vocab_errors():
    vocab = CharVocab.build(["ab"])
    with pytest.raises(TypeError, match="texts must be a sequence of strings, got a single str"):
        vocab.encode_batch("ab")
    with pytest.raises(ValueError, match="longer than max_len=1"):
        vocab.encode_batch(["ab"], max_len=1)
    with pytest.raises(ValueError, match=r"the first four symbols must be \['<pad>'"):
        CharVocab(["a", "b", "c", "d"])
    with pytest.raises(ValueError, match="id must be <= 5, got 9"):
        vocab.decode([9])
    with pytest.raises(ValueError, match="ids must be 2-dimensional"):
        vocab.decode_batch(torch.tensor([1, 2]))


def test_display_token():
    assert display_token("年") == "nián" and display_token("a") == "a"
    assert display_token(" ") == "␣"
    assert display_token("語") == "U+8A9E"


def test_length_bucket_batches():
    lengths = torch.randint(3, 60, (1000,), generator=torch.Generator().manual_seed(0))
    batches = LengthBucketBatches(lengths, 32, seed=1, pool_batches=5)
    epoch = torch.cat([batches(s) for s in range(len(batches))])
    assert len(batches) == 31 and epoch.unique().numel() == 31 * 32  # each example once
    spread = torch.stack([lengths[batches(s)].max() - lengths[batches(s)].min()
                          for s in range(len(batches))]).float().mean()
    random_spread = torch.stack([lengths[i].max() - lengths[i].min()
                                 for i in torch.randperm(992).split(32)]).float().mean()
    assert spread < random_spread / 3  # neighbours in length
    again = LengthBucketBatches(lengths, 32, seed=1, pool_batches=5)
    assert torch.equal(again(40), batches(40))  # depends only on (seed, step)
    assert not torch.equal(batches(0), batches(len(batches)))  # a new epoch reshuffles
    with pytest.raises(ValueError, match="batch_size must be <= 1000"):
        LengthBucketBatches(lengths, 2000)
    with pytest.raises(ValueError, match="lengths must be a non-empty 1-D tensor"):
        LengthBucketBatches(torch.zeros(2, 2), 1)


def test_attention_scores_single_and_batched_queries():
    torch.manual_seed(0)
    keys, mask = torch.randn(2, 5, 6), torch.tensor([[True] * 5, [True] * 2 + [False] * 3])
    for attn in (AdditiveAttention(4, 6, 7), LuongAttention(4, 6, "general")):
        q = torch.randn(2, 3, 4)
        ctx, w = attn(q, keys, mask)
        assert ctx.shape == (2, 3, 6) and w.shape == (2, 3, 5)
        assert torch.allclose(w.sum(-1), torch.ones(2, 3)) and w[1, :, 2:].max() == 0
        ctx1, w1 = attn(q[:, 1], keys, mask)  # one query per sentence
        assert torch.allclose(ctx1, ctx[:, 1], atol=1e-6) and torch.allclose(w1, w[:, 1])
    dot = LuongAttention(6, 6, "dot")
    q = torch.randn(2, 6)
    _, w = dot(q, keys)
    assert torch.allclose(w, torch.softmax((keys @ q[:, :, None]).squeeze(-1), -1))
    with pytest.raises(ValueError, match="dot scores need d_query == d_key, got 4 and 6"):
        LuongAttention(4, 6, "dot")
    with pytest.raises(ValueError, match=r"score must be one of \['dot', 'general'\]"):
        LuongAttention(4, 6, "concat")


def _toy(n=6, seed=0):
    g = torch.Generator().manual_seed(seed)
    lengths = torch.randint(2, 8, (n,), generator=g)
    src = torch.randint(4, 12, (n, int(lengths.max())), generator=g)
    src = torch.where(torch.arange(src.shape[1])[None] < lengths[:, None], src, 0)
    tgt = torch.randint(4, 9, (n, 5), generator=g)
    tgt[:, 0] = 1
    return src, lengths, tgt


@pytest.mark.parametrize("attention", [None, "bahdanau", "luong"])
def test_gru_seq2seq_shapes_fast_path_and_decoding(attention):
    torch.manual_seed(0)
    model = GRUSeq2Seq(GRUSeq2SeqConfig(12, 9, d_emb=8, d_hidden=10, attention=attention)).eval()
    src, lengths, tgt = _toy()
    logits, w = model(src, lengths, tgt)
    assert logits.shape == (6, 5, 9)
    assert (w is None) == (attention is None)
    if w is not None:
        assert w.shape == (6, 5, src.shape[1])
        assert w[lengths == lengths.min()][..., int(lengths.min()):].abs().max() == 0
    # the step-by-step loop with ratio 1 (gold inputs) gives the same logits as the fast path
    with torch.no_grad():
        memory = model._memory(src, lengths)
        state, steps = memory.s0, []
        for t in range(tgt.shape[1]):
            step_logits, state, _ = model._step(tgt[:, t], state, memory)
            steps.append(step_logits)
    assert (torch.stack(steps, 1) - logits).abs().max() < 1e-5
    ids, dw = model.greedy_decode(src, lengths, max_len=4)
    assert ids.shape == (6, 4) and (dw is None) == (attention is None)
    # greedy decoding equals feeding back its own argmax with teacher forcing
    fed = torch.cat([torch.ones(6, 1, dtype=torch.long), ids[:, :-1]], 1)
    assert torch.equal(model(src, lengths, fed)[0].argmax(-1), ids)


def test_gru_padding_does_not_change_outputs():
    torch.manual_seed(0)
    model = GRUSeq2Seq(GRUSeq2SeqConfig(12, 9, d_emb=8, d_hidden=10, attention="luong")).eval()
    src, lengths, tgt = _toy()
    padded = F.pad(src, (0, 4))  # four more <pad> columns
    a, _ = model(src, lengths, tgt)
    b, _ = model(padded, lengths, tgt)
    assert (a - b).abs().max() < 1e-5


def test_gru_teacher_forcing_ratio_and_training_step():
    torch.manual_seed(0)
    model = GRUSeq2Seq(GRUSeq2SeqConfig(12, 9, d_emb=8, d_hidden=10))
    src, lengths, tgt = _toy()
    logits, _ = model(src, lengths, tgt, teacher_forcing_ratio=0.5)
    assert logits.shape == (6, 5, 9)
    loss = F.cross_entropy(logits.transpose(1, 2), tgt)
    loss.backward()
    assert all(p.grad is not None for p in model.parameters() if p.requires_grad)
    with pytest.raises(ValueError, match="teacher_forcing_ratio must be <= 1.0"):
        model(src, lengths, tgt, teacher_forcing_ratio=2.0)
    with pytest.raises(ValueError, match=r"src_lengths must lie in 1..7"):
        model(src, lengths + 5, tgt)
    with pytest.raises(ValueError, match=r"attention must be one of \[None, 'bahdanau', 'luong'\]"):
        GRUSeq2SeqConfig(12, 9, attention="dot")
    with pytest.raises(ValueError, match="bidirectional encoder needs an even d_hidden"):
        GRUSeq2SeqConfig(12, 9, d_hidden=7)


@pytest.mark.parametrize("positional", ["sinusoidal", "learned"])
def test_transformer_seq2seq(positional):
    torch.manual_seed(0)
    cfg = TransformerSeq2SeqConfig(12, 9, d_model=16, n_heads=2, n_enc_layers=2, n_dec_layers=1,
                                   d_ff=32, max_len=16, positional=positional)
    model = TransformerSeq2Seq(cfg).eval()
    assert count_parameters(model) > 0
    src, lengths, tgt = _toy()
    logits, cross = model(src, lengths, tgt, need_weights=True)
    assert logits.shape == (6, 5, 9) and cross.shape == (6, 1, 2, 5, src.shape[1])
    short = int(torch.argmin(lengths))
    assert cross[short, ..., int(lengths[short]):].abs().max() == 0
    # causal decoder: changing a later target token leaves earlier logits unchanged
    changed = tgt.clone()
    changed[:, 3] = 8
    assert torch.allclose(model(src, lengths, changed)[0][:, :3], logits[:, :3], atol=1e-6)
    ids, w = model.greedy_decode(src, lengths, max_len=4)
    assert ids.shape == (6, 4) and w.shape == (6, 1, 2, 4, src.shape[1])
    fed = torch.cat([torch.ones(6, 1, dtype=torch.long), ids[:, :-1]], 1)
    assert torch.equal(model(src, lengths, fed)[0].argmax(-1), ids)
    with pytest.raises(ValueError, match=r"positional must be one of \['sinusoidal', 'learned'\]"):
        TransformerSeq2SeqConfig(12, 9, positional="rotary")
    with pytest.raises(ValueError, match="d_model must be divisible by n_heads"):
        TransformerSeq2SeqConfig(12, 9, d_model=10, n_heads=4)


def test_models_learn_a_tiny_copy_task():
    """A few dozen steps on 'copy the digits' must lower the loss clearly (no ln(10) plateau)."""
    torch.manual_seed(0)
    g = torch.Generator().manual_seed(0)
    src = torch.randint(4, 14, (64, 4), generator=g)
    lengths = torch.full((64,), 4)
    tgt = torch.cat([torch.ones(64, 1, dtype=torch.long), src, torch.full((64, 1), 2)], 1)
    for model in (GRUSeq2Seq(GRUSeq2SeqConfig(14, 14, d_emb=16, d_hidden=32, attention="luong")),
                  TransformerSeq2Seq(TransformerSeq2SeqConfig(14, 14, d_model=32, n_heads=2,
                                                              n_enc_layers=1, n_dec_layers=1))):
        opt = torch.optim.Adam(model.parameters(), lr=1e-2)
        losses = []
        for _ in range(60):
            logits, _ = model(src, lengths, tgt[:, :-1])
            loss = F.cross_entropy(logits.transpose(1, 2), tgt[:, 1:])
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        assert losses[-1] < 0.5 * losses[0], type(model).__name__
