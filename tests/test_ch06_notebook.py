"""Chapter 06, teach-then-import: the notebook's EDA, skip-gram and solutions == course_utils'."""

import random

import pytest
import torch
from torch import nn

from course_utils import augment as aug
from course_utils import embeddings as emb
from course_utils._maintain.testing import solution_notebook

pytestmark = pytest.mark.usefixtures("one_thread")

# the nb fixture (conftest.py) imports NAMES from NOTEBOOK
NOTEBOOK = solution_notebook("06_data_augmentation.ipynb")
NAMES = ["get_synonyms", "synonym_replacement", "random_insertion", "random_deletion",
         "random_swap", "keep_probability", "SkipGramNS", "swap_within_sentences", "delete_with_floor",
         "known_synonyms", "mixup_step", "negation_safe_deletion"]

TEXTS = [aug.tokenize(t) for t in (
    "The acting is wooden, but the score is haunting and the plot never drags.",
    "I wouldn't call the pacing sluggish. Not bad at all!",
    "A triumph.",
    "",
)]


@pytest.fixture(scope="module")
def book(nb):
    nb.wn = aug.wordnet()  # the notebook's global WordNet reader
    return nb


def test_notebook_known_synonyms_filters_by_vocabulary(book):
    everything = set(" ".join(aug.synonyms("film")).split())
    assert book.known_synonyms("film", everything) == list(aug.synonyms("film"))
    assert book.known_synonyms("film", set()) == []
    assert book.known_synonyms("film", {"movie", "motion", "picture"}) == ["motion picture", "movie", "picture"]


def test_notebook_synonyms_equal_course_utils(book):
    for word in ("good", "dull", "film", "plot", "acting", "never"):
        assert book.get_synonyms(word) == aug.synonyms(word)
        for pos in ("n", "v", "a", "r"):
            assert book.get_synonyms(word, pos) == aug.synonyms(word, pos)


@pytest.mark.parametrize("seed", range(8))
def test_notebook_eda_equals_course_utils(book, seed):
    for words in TEXTS:
        for n in (1, 3):
            assert book.synonym_replacement(words, n, random.Random(seed)) == \
                aug.synonym_replacement(words, n, random.Random(seed))
            assert book.random_insertion(words, n, random.Random(seed)) == \
                aug.random_insertion(words, n, random.Random(seed))
            assert book.random_swap(words, n, random.Random(seed)) == \
                aug.random_swap(words, n, random.Random(seed))
            swapped = book.swap_within_sentences(words, n, random.Random(seed))
            assert sorted(swapped) == sorted(words)
            assert [i for i, w in enumerate(swapped) if w in ".!?"] == \
                [i for i, w in enumerate(words) if w in ".!?"]
        for p in (0.0, 0.3, 1.0):
            assert book.random_deletion(words, p, random.Random(seed)) == \
                aug.random_deletion(words, p, random.Random(seed))
            assert book.delete_with_floor(words, p, random.Random(seed)) == \
                aug.random_deletion(words, p, random.Random(seed)) or p == 1.0


def test_negation_safe_deletion_equals_random_deletion_with_a_keep_set(book):
    # with no negations in the text, it is plain random deletion
    words = aug.tokenize("the acting is wooden and the score is haunting")
    for seed in range(10):
        assert book.negation_safe_deletion(words, 0.4, random.Random(seed)) == \
            aug.random_deletion(words, 0.4, random.Random(seed))
    kept = book.negation_safe_deletion(TEXTS[1], 1.0, random.Random(0))
    assert kept == ["wouldn't", "call", "not", "bad"]


def test_notebook_skipgram_equals_course_utils(book):
    counts = torch.tensor([50.0, 20.0, 5.0, 1.0])
    assert torch.allclose(book.keep_probability(counts, 1e-2), emb.keep_probabilities(counts, 1e-2))
    torch.manual_seed(0)
    ours, theirs = book.SkipGramNS(30, 6), emb.SkipGramNS(30, 6)
    with torch.no_grad():
        ours.u.weight.normal_()
    theirs.load_state_dict(ours.state_dict())
    c, o, n = torch.randint(0, 30, (5,)), torch.randint(0, 30, (5,)), torch.randint(0, 30, (5, 4))
    assert torch.equal(ours(c, o, n), theirs(c, o, n))


def test_notebook_mixup_step_equals_course_utils(book):
    torch.manual_seed(0)
    model = nn.Linear(5, 3)
    x, y, perm = torch.randn(8, 5), torch.randint(0, 3, (8,)), torch.randperm(8)
    mixed, y_a, y_b = aug.mixup(x, y, 0.35, perm)
    assert torch.allclose(book.mixup_step(model, x, y, 0.35, perm),
                          aug.mixup_loss(model(mixed), y_a, y_b, 0.35), atol=1e-6)
