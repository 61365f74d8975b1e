"""Chapter 03: WordPiece, BERT's 15 % / 80-10-10 masking (vs transformers' collator), MLM utilities."""

import pytest
import torch

from course_utils.data import load_reviews  # course_utils first: it sets the HF offline flags
from course_utils.mlm import (IGNORE_INDEX, MLMBatches, accuracy_by_replacement, fill_mask,
                              mask_tokens, masking_stats, mlm_loss, pad_batch, unigram_baseline,
                              word_ids_tensor)
from course_utils.models.bert import BertConfig, BertForMaskedLM
from course_utils.data import data_dir
from course_utils.tokenization import (BERT_SPECIAL_TOKENS, load_wordpiece, save_wordpiece_vocab,
                                       train_wordpiece)
from transformers import DataCollatorForLanguageModeling  # noqa: E402

pytestmark = pytest.mark.usefixtures("one_thread")

SPECIALS = (0, 1, 2, 3, 4)  # [PAD] [UNK] [CLS] [SEP] [MASK]
MASK = 4


@pytest.fixture(scope="module")
def tok():
    texts = list(load_reviews()["train"]["text"])[:3000]
    return train_wordpiece(texts, 600)


@pytest.fixture(scope="module")
def corpus(tok):
    texts = list(load_reviews()["validation"]["text"])
    return tok(texts, truncation=True, max_length=64)


def _batch(n_rows=4000, t=50, vocab=500, seed=0):
    """Rows of [CLS] ... [SEP] [PAD]...: 200k positions, a realistic mix of specials."""
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (n_rows, t), generator=g)
    lengths = torch.randint(10, t + 1, (n_rows,), generator=g)
    pos = torch.arange(t)[None, :]
    ids[pos >= lengths[:, None]] = 0
    ids[:, 0] = 2
    ids[torch.arange(n_rows), lengths - 1] = 3
    return ids


def test_wordpiece_specials_pairs_and_continuation_pieces(tok):
    assert tok.convert_ids_to_tokens(list(range(5))) == list(BERT_SPECIAL_TOKENS)
    assert (tok.pad_token_id, tok.cls_token_id, tok.sep_token_id, tok.mask_token_id) == \
        (0, 2, 3, 4)
    enc = tok("The PLOT is good.", "I loved it!")
    tokens = tok.convert_ids_to_tokens(enc["input_ids"])
    first_sep = tokens.index("[SEP]")
    assert tokens[0] == "[CLS]" and tokens[-1] == "[SEP]"
    assert enc["token_type_ids"] == [0] * (first_sep + 1) + [1] * (len(tokens) - first_sep - 1)
    assert "plot" in tokens  # lower-cased
    pieces = tok.tokenize("unforgettably overwrought")
    assert any(p.startswith("##") for p in pieces)
    assert tok.decode(tok("unforgettably overwrought")["input_ids"],
                      skip_special_tokens=True) == "unforgettably overwrought"


def test_wordpiece_ids_do_not_depend_on_the_trainers_hash_order(tok):
    """Ids are a function of the set of entries: specials 0-4, then the entries sorted."""
    ordered = [t for t, _ in sorted(tok.get_vocab().items(), key=lambda kv: kv[1])]
    assert ordered[:5] == list(BERT_SPECIAL_TOKENS)
    assert ordered[5:] == sorted(ordered[5:])


def test_frozen_vocabularies_load_and_round_trip(tok, tmp_path):
    for size in (2000, 4000):
        frozen = load_wordpiece(data_dir() / "reviews" / f"wordpiece-{size}.txt")
        assert len(frozen) == size
        assert frozen.convert_ids_to_tokens(list(range(5))) == list(BERT_SPECIAL_TOKENS)
        enc = frozen("The plot is thin.", "I loved it!")
        assert enc["token_type_ids"][-1] == 1 and frozen.decode(
            enc["input_ids"], skip_special_tokens=True) == "the plot is thin. i loved it!"
    path = save_wordpiece_vocab(tok, tmp_path / "vocab.txt")
    again = load_wordpiece(path)
    assert again.get_vocab() == tok.get_vocab()
    text = "An overwrought, self-indulgent mess!"
    assert again(text)["input_ids"] == tok(text)["input_ids"]
    (tmp_path / "dup.txt").write_text("[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\na\na\n")
    with pytest.raises(ValueError, match="lists a token twice"):
        load_wordpiece(tmp_path / "dup.txt")
    with pytest.raises(FileNotFoundError, match="no WordPiece vocabulary"):
        load_wordpiece(tmp_path / "missing.txt")


def test_a_fresh_training_is_close_to_the_frozen_vocabulary():
    """Tie-breaking changes only a handful of entries (the reason the vocabulary is frozen)."""
    fresh = train_wordpiece(list(load_reviews()["train"]["text"]), 2000)
    frozen = load_wordpiece(data_dir() / "reviews" / "wordpiece-2000.txt")
    differ = set(fresh.get_vocab()) ^ set(frozen.get_vocab())
    assert len(differ) <= 40, sorted(differ)


def test_mask_tokens_statistics_over_200k_tokens():
    ids = _batch()
    out = mask_tokens(ids, mask_id=MASK, vocab_size=500, special_ids=SPECIALS,
                      generator=torch.Generator().manual_seed(0))
    stats = masking_stats(ids, out.input_ids, out.labels, mask_id=MASK, special_ids=SPECIALS)
    assert stats["tokens"] > 100_000
    assert abs(stats["selected"] - 0.15) < 0.005
    assert abs(stats["mask"] - 0.80) < 0.005
    assert abs(stats["random"] - 0.10) < 0.005
    assert abs(stats["unchanged"] - 0.10) < 0.005
    assert stats["special_selected"] == 0


def test_mask_tokens_invariants():
    ids = _batch(n_rows=500)
    out = mask_tokens(ids, mask_id=MASK, vocab_size=500, special_ids=SPECIALS,
                      generator=torch.Generator().manual_seed(1))
    selected = out.labels != IGNORE_INDEX
    special = torch.isin(ids, torch.tensor(SPECIALS))
    assert not (selected & special).any()  # [CLS]/[SEP]/[PAD] are never selected
    assert torch.equal(out.labels[selected], ids[selected])  # labels = the original ids
    assert (out.labels[~selected] == IGNORE_INDEX).all()
    assert torch.equal(out.input_ids[~selected], ids[~selected])  # the rest is untouched
    changed = selected & (out.input_ids != MASK) & (out.input_ids != ids)
    assert changed.any()
    assert not torch.isin(out.input_ids[changed], torch.tensor(SPECIALS)).any()
    assert ids.equal(_batch(n_rows=500))  # the input is not modified in place
    again = mask_tokens(ids, mask_id=MASK, vocab_size=500, special_ids=SPECIALS,
                        generator=torch.Generator().manual_seed(1))
    assert torch.equal(again.input_ids, out.input_ids) and torch.equal(again.labels, out.labels)


def test_mask_tokens_rates_follow_the_arguments():
    ids = _batch(n_rows=2000)
    out = mask_tokens(ids, mask_id=MASK, vocab_size=500, special_ids=SPECIALS,
                      mlm_probability=0.3, mask_replace_prob=1.0, random_replace_prob=0.0,
                      generator=torch.Generator().manual_seed(2))
    stats = masking_stats(ids, out.input_ids, out.labels, mask_id=MASK, special_ids=SPECIALS)
    assert abs(stats["selected"] - 0.3) < 0.01 and stats["mask"] == 1.0
    with pytest.raises(ValueError, match="mask_replace_prob \\+ random_replace_prob must be <= 1"):
        mask_tokens(ids, mask_id=MASK, vocab_size=500, special_ids=SPECIALS,
                    mask_replace_prob=0.9, random_replace_prob=0.2)


def test_our_masking_matches_transformers_collator(tok, corpus):
    """Same rates as DataCollatorForLanguageModeling(mlm_probability=0.15) on the same tokens."""
    rows = [{"input_ids": ids} for ids in corpus["input_ids"]] * 4
    collator = DataCollatorForLanguageModeling(tok, mlm_probability=0.15, seed=0)
    theirs = collator(rows)
    original = pad_batch([r["input_ids"] for r in rows], tok.pad_token_id)[0]
    specials = tok.all_special_ids
    hf_stats = masking_stats(original, theirs["input_ids"], theirs["labels"],
                             mask_id=tok.mask_token_id, special_ids=specials)
    ours = mask_tokens(original, mask_id=tok.mask_token_id, vocab_size=len(tok),
                       special_ids=specials, generator=torch.Generator().manual_seed(0))
    our_stats = masking_stats(original, ours.input_ids, ours.labels,
                              mask_id=tok.mask_token_id, special_ids=specials)
    assert hf_stats["tokens"] > 100_000
    for key in ("selected", "mask", "random", "unchanged"):
        assert abs(hf_stats[key] - our_stats[key]) < 0.01, key
    assert hf_stats["special_selected"] == our_stats["special_selected"] == 0


def test_whole_word_masking_masks_all_pieces_together(tok, corpus):
    enc = corpus
    words = word_ids_tensor([enc.word_ids(i) for i in range(len(enc["input_ids"]))], 64)
    ids = pad_batch(enc["input_ids"], tok.pad_token_id)[0]
    words = words[:, :ids.shape[1]]
    out = mask_tokens(ids, mask_id=tok.mask_token_id, vocab_size=len(tok),
                      special_ids=tok.all_special_ids, word_ids=words,
                      generator=torch.Generator().manual_seed(0))
    selected = out.labels != IGNORE_INDEX
    multi_piece = 0
    for row in range(ids.shape[0]):
        for w in words[row].unique().tolist():
            if w < 0:
                continue
            where = words[row] == w
            picked = selected[row][where]
            assert picked.all() or not picked.any()  # never a partially masked word
            multi_piece += int(where.sum() > 1 and picked.all())
    assert multi_piece > 20  # the test saw selected multi-piece words
    # about 15 % of the words are selected
    n_words = sum(len(set(w for w in enc.word_ids(i) if w is not None))
                  for i in range(len(enc["input_ids"])))
    n_selected_words = sum(len(set(words[r][selected[r]].tolist())) for r in range(ids.shape[0]))
    assert abs(n_selected_words / n_words - 0.15) < 0.01


def test_mlm_batches_are_reproducible_per_step():
    encoded = [[2] + list(range(5, 5 + n)) + [3] for n in range(3, 30)]
    make = lambda: MLMBatches(encoded, 8, mask_id=MASK, pad_id=0, vocab_size=60,  # noqa: E731
                              special_ids=SPECIALS, seed=3)
    a, b = make(), make()
    for step in (0, 7, 7, 100):
        x, y = a(step), b(step)
        assert all(torch.equal(x[k], y[k]) for k in ("input_ids", "attention_mask", "labels"))
    assert not torch.equal(a(1)["input_ids"], a(2)["input_ids"])
    batch = a(5)
    assert batch["input_ids"].shape == batch["labels"].shape == batch["attention_mask"].shape
    assert (batch["labels"][batch["attention_mask"] == 0] == IGNORE_INDEX).all()


def test_mlm_loss_runs_the_head_on_selected_positions_only():
    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(vocab_size=60, hidden_size=32, num_hidden_layers=1,
                                       num_attention_heads=4, max_position_embeddings=40)).eval()
    batches = MLMBatches([[2] + list(range(5, 35)) + [3]] * 4, 4, mask_id=MASK, pad_id=0,
                         vocab_size=60, special_ids=SPECIALS)
    batch = batches(0)
    loss, metrics = mlm_loss(model, batch)
    with torch.no_grad():
        logits, full = model(batch["input_ids"], None, batch["attention_mask"], batch["labels"])
    assert torch.allclose(loss, full, atol=1e-6)
    where = batch["labels"] != IGNORE_INDEX
    acc = (logits[where].argmax(-1) == batch["labels"][where]).float().mean().item()
    assert metrics["accuracy"] == pytest.approx(acc)


def test_unigram_baseline_and_fill_mask(tok):
    train_ids = [[2, 7, 7, 7, 9, 3], [2, 9, 7, 3]]
    labels = torch.tensor([[-100, 7, 9, -100], [7, -100, 7, 7]])
    top, acc = unigram_baseline(train_ids, labels, SPECIALS)
    assert top == 7 and acc == pytest.approx(4 / 5)
    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=1,
                                       num_attention_heads=4, max_position_embeddings=64))
    favourite = tok.convert_ids_to_tokens(200)
    with torch.no_grad():  # make one token the obvious answer everywhere
        model.head.bias[200] = 50.0
        model.head.bias[tok.mask_token_id] = 100.0  # specials are never proposed
    result = fill_mask(model, tok, "the acting is [MASK] and the plot is [MASK] .", top_k=3)
    assert len(result) == 2 and all(len(r) == 3 for r in result)
    assert result[0][0][0] == favourite and result[0][0][1] > 0.99
    probs = [p for _, p in result[1]]
    assert probs == sorted(probs, reverse=True)
    assert not any(t in BERT_SPECIAL_TOKENS for r in result for t, _ in r)
    with pytest.raises(ValueError, match="text has no \\[MASK\\] token"):
        fill_mask(model, tok, "no mask here")


def test_word_ids_tensor_keeps_counting_through_a_pair(tok):
    enc = tok("the plot is good", "i loved it")
    words = word_ids_tensor([enc.word_ids()], 16)[0].tolist()
    real = [w for w in words if w >= 0]
    assert real == sorted(real) and len(set(real)) == 7  # 4 + 3 distinct words
    assert words[len(enc["input_ids"]):] == [-1] * (16 - len(enc["input_ids"]))


def test_word_ids_tensor_one_word_first_text():
    """A one-word text A must not share its index with B's first word."""
    assert word_ids_tensor([[None, 0, None, 0, 1, None]], 6)[0].tolist() == [-1, 0, -1, 1, 2, -1]
    assert word_ids_tensor([[None, 0, 0, 1, None]], 5)[0].tolist() == [-1, 0, 0, 1, -1]


def test_accuracy_by_replacement_splits_and_baseline():
    torch.manual_seed(0)
    model = BertForMaskedLM(BertConfig(vocab_size=60, hidden_size=32, num_hidden_layers=1,
                                       num_attention_heads=4, max_position_embeddings=40)).eval()
    batches = [MLMBatches([[2] + list(range(5, 35)) + [3]] * 8, 8, mask_id=MASK, pad_id=0,
                          vocab_size=60, special_ids=SPECIALS)(i) for i in range(3)]
    out = accuracy_by_replacement(model, batches, mask_id=MASK, guess_id=7)
    n = {k: out[f"n_{k}"] for k in ("mask", "random", "kept")}
    assert out["n_all"] == sum(n.values()) > 0
    weighted = sum(out[k] * n[k] for k in n if n[k]) / out["n_all"]
    assert out["all"] == pytest.approx(weighted)
    assert out["baseline_kept"] == 1.0  # copying the visible token is always right there
    assert out["baseline_random"] == 0.0  # ... and always wrong at random replacements
    labels = torch.cat([b["labels"][b["input_ids"] == MASK] for b in batches])
    assert out["baseline_mask"] == pytest.approx(float((labels == 7).float().mean()))
    assert out["loss"] == pytest.approx(
        sum(mlm_loss(model, b)[0].item() * int((b["labels"] != -100).sum()) for b in batches)
        / out["n_all"], rel=1e-5)
