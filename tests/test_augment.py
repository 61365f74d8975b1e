"""course_utils.augment: EDA properties, determinism, WordNet offline, noise, mixup, the Dataset."""

import random

import pytest
import torch
import torch.nn.functional as F

from course_utils import augment as aug

SENTENCES = [aug.tokenize(t) for t in (
    "The acting is wooden, but the score is haunting.",
    "I wouldn't call the pacing sluggish at all.",
    "Never dull, not even for a minute.",
    "A triumph.",
    "To be, or not to be, that is the question:",
)]


def test_wordnet_loads_offline_from_the_projects_nltk_data():
    # `make setup` builds <venv>/nltk_data/corpora/wordnet; no download is possible here
    from course_utils._maintain.wordnet import default_destination, installed

    assert installed(default_destination()), (
        "WordNet is missing: run `make setup` (or python -m course_utils._maintain.wordnet); "
        "chapter 06 needs it")
    good = aug.synonyms("good")
    assert {"beneficial", "well"} <= set(good)
    assert "good" not in good and list(good) == sorted(good)
    assert aug.wordnet().get_version() == "3.0"
    assert aug.synonyms("film", "n") and all("_" not in s for s in aug.synonyms("film", "n"))


def test_synonyms_rejects_an_unknown_part_of_speech():
    with pytest.raises(ValueError, match="pos must be"):
        aug.synonyms("good", "x")


def test_tokenize_and_detokenize():
    assert aug.tokenize("It isn't bad, really!") == ["it", "isn't", "bad", ",", "really", "!"]
    assert aug.detokenize(["it", "isn't", "bad", ",", "really", "!"]) == "it isn't bad, really!"


@pytest.mark.parametrize("seed", range(20))
def test_deletion_never_empty_and_keeps_order(seed):
    for words in SENTENCES + [["one"]]:
        for p in (0.0, 0.5, 0.9, 1.0):
            out = aug.random_deletion(words, p, random.Random(seed))
            assert out, (words, p)
            it = iter(words)
            assert all(w in it for w in out)  # a subsequence: order kept
    assert aug.random_deletion([], 0.5, random.Random(seed)) == []
    assert aug.random_deletion(SENTENCES[0], 0.0, random.Random(seed)) == SENTENCES[0]


def test_deletion_rate_and_keep_set():
    words = [f"w{i}" for i in range(5000)]
    kept = aug.random_deletion(words, 0.3, random.Random(0))
    assert abs(len(kept) / len(words) - 0.7) < 0.03
    out = aug.random_deletion(SENTENCES[1], 1.0, random.Random(0), keep=aug.NEGATIONS)
    assert out == ["wouldn't"]


@pytest.mark.parametrize("seed", range(20))
def test_swap_keeps_the_multiset_and_changes_two_positions_per_swap(seed):
    for words in SENTENCES:
        out = aug.random_swap(words, 3, random.Random(seed))
        assert sorted(out) == sorted(words)
        assert sum(a != b for a, b in zip(out, words)) <= 6
    distinct = [f"w{i}" for i in range(10)]
    one = aug.random_swap(distinct, 1, random.Random(seed))
    assert sum(a != b for a, b in zip(one, distinct)) == 2
    assert aug.random_swap(["alone"], 5, random.Random(seed)) == ["alone"]


OPS = {
    "synonym": lambda w, r: aug.synonym_replacement(w, 2, r),
    "insertion": lambda w, r: aug.random_insertion(w, 2, r),
    "deletion": lambda w, r: aug.random_deletion(w, 0.3, r),
    "swap": lambda w, r: aug.random_swap(w, 2, r),
    "typos": lambda w, r: aug.char_noise(w, 0.5, r),
    "dropout": lambda w, r: aug.token_dropout(w, 0.3, r),
    "eda": lambda w, r: aug.eda(w, "synonym", 0.2, r),
}


@pytest.mark.parametrize("name", list(OPS))
def test_same_seed_same_output_and_input_untouched(name):
    op = OPS[name]
    for words in SENTENCES:
        before = list(words)
        assert op(words, random.Random(7)) == op(words, random.Random(7))
        assert words == before
    outputs = {tuple(op(SENTENCES[0], random.Random(s))) for s in range(10)}
    assert len(outputs) > 1, f"{name}: different seeds should give different outputs"


def test_synonym_replacement_and_insertion_use_wordnet_synonyms():
    words = aug.tokenize("the plot is dull")
    for seed in range(5):
        out = aug.synonym_replacement(words, 1, random.Random(seed))
        new = [w for w in out if w not in words]
        assert new, out
        assert " ".join(new) in aug.synonyms("dull") + aug.synonyms("plot")
        grown = aug.random_insertion(words, 2, random.Random(seed))
        assert len(grown) >= len(words) + 2
    # stop words are never replaced: Hamlet's line has one content word
    hamlet = SENTENCES[4]
    out = aug.synonym_replacement(hamlet, 5, random.Random(0))
    assert "question" not in out
    rest = iter(out)
    assert all(w in rest for w in hamlet if w != "question")


def test_eda_dispatch_and_validation():
    with pytest.raises(ValueError, match="op must be one of"):
        aug.eda(SENTENCES[0], "shuffle", 0.1, random.Random(0))
    with pytest.raises(TypeError, match="random.Random"):
        aug.random_swap(SENTENCES[0], 1, 0)
    with pytest.raises(TypeError, match="list of strings"):
        aug.random_swap("a sentence", 1, random.Random(0))
    with pytest.raises(ValueError):
        aug.random_deletion(SENTENCES[0], 1.5, random.Random(0))


def test_char_noise_spares_negations_and_short_words():
    words = ["not", "never", "isn't", "a", "is", "wonderful", "terrible"] * 20
    out = aug.char_noise(words, 1.0, random.Random(0))
    assert len(out) == len(words)
    for w, o in zip(words, out):
        if w in aug.NEGATIONS or len(w) < 3:
            assert o == w
    assert sum(o != w for w, o in zip(words, out)) >= 30


def test_token_dropout_keeps_the_length():
    out = aug.token_dropout(SENTENCES[0], 1.0, random.Random(0))
    assert out == ["<unk>"] * len(SENTENCES[0])


def test_mixup_and_its_loss_equal_the_soft_target_cross_entropy():
    torch.manual_seed(0)
    x, y = torch.randn(6, 4), torch.tensor([0, 1, 2, 0, 1, 2])
    perm = torch.tensor([5, 4, 3, 2, 1, 0])
    mixed, y_a, y_b = aug.mixup(x, y, 0.3, perm)
    assert torch.allclose(mixed, 0.3 * x + 0.7 * x[perm])
    assert torch.equal(y_a, y) and torch.equal(y_b, y[perm])
    logits = torch.randn(6, 3)
    soft = 0.3 * F.one_hot(y_a, 3) + 0.7 * F.one_hot(y_b, 3)
    expected = -(soft * F.log_softmax(logits, -1)).sum(-1).mean()
    assert torch.allclose(aug.mixup_loss(logits, y_a, y_b, 0.3), expected, atol=1e-6)
    with pytest.raises(ValueError, match="perm must have shape"):
        aug.mixup(x, y, 0.5, torch.tensor([0, 1]))


def test_augmented_dataset_draws_fresh_reproducible_variants():
    texts, labels = SENTENCES[:3], [1, 1, 0]

    def make():
        return aug.AugmentedDataset(texts, labels, len, lambda w, r: aug.random_deletion(w, 0.5, r),
                                    p_augment=1.0, seed=3)

    a, b = make(), make()
    first = [a.words(0) for _ in range(6)]
    assert first == [b.words(0) for _ in range(6)]  # same seed, same sequence of variants
    assert len({tuple(w) for w in first}) > 1  # fresh variants on every read
    item, label = a[1]
    assert label == 1 and isinstance(item, int)
    plain = aug.AugmentedDataset(texts, labels, len, None)
    assert [plain[i] for i in range(3)] == [(len(t), y) for t, y in zip(texts, labels)]
    with pytest.raises(ValueError, match="labels"):
        aug.AugmentedDataset(texts, [1], len)


def test_word_vocab_and_collate():
    vocab = aug.WordVocab.build([["b", "a", "b"], ["c"]])
    assert vocab.itos == ["<pad>", "<unk>", "b", "a", "c"]
    assert vocab.encode(["a", "zzz"]) == [3, 1]
    ids, labels = aug.collate_padded([([2, 3], 0), ([4], 1)])
    assert ids.tolist() == [[2, 3], [4, 0]] and labels.tolist() == [0, 1]


class _ToyTokenizer:
    """Whole-word vocabulary with BERT's special tokens, for contextual_replacement."""

    def __init__(self, words):
        self.itos = ["[PAD]", "[CLS]", "[SEP]", "[MASK]", "[UNK]", *words]
        self.stoi = {w: i for i, w in enumerate(self.itos)}
        self.pad_token_id, self.cls_token_id, self.sep_token_id, self.mask_token_id = 0, 1, 2, 3
        self.all_special_ids = [0, 1, 2, 3, 4]

    def tokenize(self, word):
        return [word if word in self.stoi else "[UNK]"]

    def convert_tokens_to_ids(self, tokens):
        return [self.stoi[t] for t in tokens]

    def convert_ids_to_tokens(self, i):
        return self.itos[i]

    def decode(self, ids):
        return " ".join(self.itos[i] for i in ids)


class _ToyMLM(torch.nn.Module):
    """Always predicts 'great' first, then 'fine'."""

    def __init__(self, tokenizer):
        super().__init__()
        self.great, self.fine, self.size = tokenizer.stoi["great"], tokenizer.stoi["fine"], \
            len(tokenizer.itos)

    def forward(self, input_ids, attention_mask):
        logits = torch.zeros(*input_ids.shape, self.size)
        logits[..., self.great], logits[..., self.fine] = 2.0, 1.0
        return type("Out", (), {"logits": logits})()


def test_contextual_replacement_masks_only_allowed_words():
    tok = _ToyTokenizer(["the", "film", "is", "not", "great", "fine", "."])
    out = aug.contextual_replacement(["The film is not great."], _ToyMLM(tok), tok, p=1.0,
                                     rng=random.Random(0), top_k=1)
    # every alphabetic non-negation word is replaced by the top prediction other than itself
    assert out == ["great great great not fine."]
