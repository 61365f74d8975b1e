"""Chapter 06 checkers: the notebook's solutions pass, plausible wrong answers fail, stubs ⏳."""

import random

import pytest
import torch
import torch.nn.functional as F

from checker_verdicts import assert_not_attempted, assert_passes, assert_rejected
from course_utils import augment as aug
from course_utils._maintain.testing import solution_notebook
from course_utils.exercises import ch06

pytestmark = pytest.mark.usefixtures("one_thread", "lenient_checkers")

NOTEBOOK = solution_notebook("06_data_augmentation.ipynb")
NAMES = ["get_synonyms", "swap_within_sentences", "delete_with_floor", "known_synonyms", "mixup_step", "negation_safe_deletion",
         "predict_safe_deletion", "flip_rate", "delete_negations", "delete_as_many_others"]


@pytest.fixture(scope="module")
def sol(nb):
    nb.wn = aug.wordnet()  # the notebook's global WordNet reader
    return nb


# --- Exercise 1 ----------------------------------------------------------------------------
def _sentence_positions(words):
    groups, current = [], []
    for i, w in enumerate(words):
        if w in {".", "!", "?"}:
            groups.append(current)
            current = []
        else:
            current.append(i)
    return [g for g in groups + [current] if len(g) >= 2]


def swap_across_sentences(words, n, rng):  # plain random swap: words change sentence
    return aug.random_swap(words, n, rng)


def swap_same_index_allowed(words, n, rng):  # i == j happens: sometimes no change at all
    out, groups = list(words), _sentence_positions(words)
    for _ in range(n if groups else 0):
        group = rng.choice(groups)
        i, j = rng.choice(group), rng.choice(group)
        out[i], out[j] = out[j], out[i]
    return out


def swap_by_shuffling(words, n, rng):  # shuffles each sentence: not n swaps
    out = list(words)
    for group in _sentence_positions(words):
        values = [out[i] for i in group]
        rng.shuffle(values)
        for i, v in zip(group, values):
            out[i] = v
    return out


def swap_in_place(words, n, rng):  # modifies the caller's list
    groups = _sentence_positions(words)
    for _ in range(n if groups else 0):
        i, j = rng.sample(rng.choice(groups), 2)
        words[i], words[j] = words[j], words[i]
    return words


def swap_global_random(words, n, rng):  # ignores the rng: not reproducible
    out, groups = list(words), _sentence_positions(words)
    for _ in range(n if groups else 0):
        i, j = random.sample(random.choice(groups), 2)
        out[i], out[j] = out[j], out[i]
    return out


def swap_one_sentence(words, n, rng):  # draws one sentence, then makes all n swaps in it
    out, groups = list(words), _sentence_positions(words)
    if groups:
        group = rng.choice(groups)
        for _ in range(n):
            i, j = rng.sample(group, 2)
            out[i], out[j] = out[j], out[i]
    return out


def swap_skip_short(words, n, rng):  # draws among all sentences, skips short ones: fewer than n swaps
    out, groups = list(words), _sentence_positions(words)
    everything = groups + [[0]] * (len([w for w in words if w in {".", "!", "?"}]) + 1 - len(groups))
    for _ in range(n):
        group = rng.choice(everything)
        if len(group) < 2:
            continue
        i, j = rng.sample(group, 2)
        out[i], out[j] = out[j], out[i]
    return out


def swap_first_sentence_adjacent(words, n, rng):  # neighbours in the first sentence only
    out, groups = list(words), _sentence_positions(words)
    if groups:
        group = groups[0]
        for _ in range(n):
            k = rng.randrange(len(group) - 1)
            out[group[k]], out[group[k + 1]] = out[group[k + 1]], out[group[k]]
    return out


def test_swap_within_sentences(sol):
    check = ch06.check_swap_within_sentences
    assert_passes(check, sol.swap_within_sentences)
    assert_rejected(check, swap_across_sentences, "another sentence")
    assert_rejected(check, swap_same_index_allowed, "exactly 2 positions")
    assert_rejected(check, swap_by_shuffling)
    assert_rejected(check, swap_in_place, "changed its input")
    assert_rejected(check, swap_global_random, "same seed")
    assert_rejected(check, swap_one_sentence, "two sentences")
    assert_rejected(check, swap_skip_short, "exactly 2 positions")
    assert_rejected(check, swap_first_sentence_adjacent)
    assert_not_attempted(check)


# --- Exercise 2 ----------------------------------------------------------------------------
def floor_missing(words, p, rng, min_words=1):  # may return []
    return [w for w in words if rng.random() >= p]


def floor_inverted(words, p, rng, min_words=1):  # keeps with probability p
    out = [w for w in words if rng.random() < p]
    return out or list(words[:min_words])


def floor_first_words(words, p, rng, min_words=1):  # pads with the first words, losing survivors
    out = [w for w in words if rng.random() >= p]
    return out if len(out) >= min(min_words, len(words)) else list(words[:min_words])


def _floor_restore(words, p, rng, min_words, pick):
    kept = [rng.random() >= p for _ in words]
    deleted = [i for i, k in enumerate(kept) if not k]
    missing = min(min_words, len(words)) - sum(kept)
    if missing > 0:
        for i in pick(deleted, missing):
            kept[i] = True
    return [w for w, k in zip(words, kept) if k]


def floor_restore_first_deleted(words, p, rng, min_words=1):  # deterministic restoration
    return _floor_restore(words, p, rng, min_words, lambda deleted, m: deleted[:m])


def floor_restore_last_deleted(words, p, rng, min_words=1):
    return _floor_restore(words, p, rng, min_words, lambda deleted, m: deleted[-m:])


def test_delete_with_floor(sol):
    assert_passes(ch06.check_delete_with_floor, sol.delete_with_floor)
    assert_rejected(ch06.check_delete_with_floor, floor_missing)
    assert_rejected(ch06.check_delete_with_floor, floor_inverted)
    assert_rejected(ch06.check_delete_with_floor, floor_first_words, "surviving word was lost")
    assert_rejected(ch06.check_delete_with_floor, floor_restore_first_deleted, "seed to seed")
    assert_rejected(ch06.check_delete_with_floor, floor_restore_last_deleted, "seed to seed")
    assert_not_attempted(ch06.check_delete_with_floor)


# --- Exercise 3 ----------------------------------------------------------------------------
_VOCAB = frozenset("movie motion picture flick cinema show boring dim dumb great fine".split())


def known_unfiltered(word, vocab):  # every synonym, known or not
    return list(aug.synonyms(word))


def known_whole_string(word, vocab):  # 'motion picture' is never in a vocabulary of words
    return sorted(s for s in aug.synonyms(word) if s in vocab)


def known_any_word(word, vocab):  # 'picture show' kept because 'picture' is known
    return sorted(s for s in aug.synonyms(word) if any(t in vocab for t in s.split()))


def test_known_synonyms(sol):
    check = ch06.check_known_synonyms
    assert_passes(check, sol.known_synonyms)
    assert_rejected(check, known_unfiltered)
    assert_rejected(check, known_whole_string, "one of its words is in vocab")
    assert_rejected(check, known_any_word, "not just one")
    assert_not_attempted(check)


# --- Exercise 4 ----------------------------------------------------------------------------
def mixup_weights_swapped(model, x, y, lam, perm):
    logits = model(lam * x + (1 - lam) * x[perm])
    return (1 - lam) * F.cross_entropy(logits, y) + lam * F.cross_entropy(logits, y[perm])


def mixup_only_first_label(model, x, y, lam, perm):
    return F.cross_entropy(model(lam * x + (1 - lam) * x[perm]), y)


def mixup_unmixed_inputs(model, x, y, lam, perm):
    logits = model(x)
    return lam * F.cross_entropy(logits, y) + (1 - lam) * F.cross_entropy(logits, y[perm])


def mixup_mixed_logits(model, x, y, lam, perm):  # mixes the outputs: equal only for a linear model
    logits = lam * model(x) + (1 - lam) * model(x[perm])
    return lam * F.cross_entropy(logits, y) + (1 - lam) * F.cross_entropy(logits, y[perm])


def mixup_no_grad(model, x, y, lam, perm):  # the right number, but nothing to backpropagate
    with torch.no_grad():
        logits = model(lam * x + (1 - lam) * x[perm])
        return lam * F.cross_entropy(logits, y) + (1 - lam) * F.cross_entropy(logits, y[perm])


def test_mixup_loss(sol):
    assert_passes(ch06.check_mixup_loss, sol.mixup_step)
    for wrong in (mixup_weights_swapped, mixup_only_first_label, mixup_unmixed_inputs):
        assert_rejected(ch06.check_mixup_loss, wrong)
    assert_rejected(ch06.check_mixup_loss, mixup_mixed_logits, "mix the inputs")
    assert_rejected(ch06.check_mixup_loss, mixup_no_grad, "no gradient")
    assert_not_attempted(ch06.check_mixup_loss)


# --- Exercise 5 ----------------------------------------------------------------------------
def safe_plain_deletion(words, p, rng):  # deletes negations too
    return aug.random_deletion(words, p, rng)


def safe_negation_only(words, p, rng):  # forgets the word after the negation
    out = [w for w in words if rng.random() >= p or w in aug.NEGATIONS]
    return out or ([rng.choice(words)] if words else [])


def safe_may_be_empty(words, p, rng):
    protected = {i for i, w in enumerate(words) if w in aug.NEGATIONS}
    protected |= {i + 1 for i in protected}
    return [w for i, w in enumerate(words) if rng.random() >= p or i in protected]


def test_negation_safe_deletion(sol):
    assert_passes(ch06.check_negation_safe_deletion, sol.negation_safe_deletion)
    assert_rejected(ch06.check_negation_safe_deletion, safe_plain_deletion, "protected words")
    assert_rejected(ch06.check_negation_safe_deletion, safe_negation_only, "protected words")
    assert_rejected(ch06.check_negation_safe_deletion, safe_may_be_empty, "empty list")
    assert_not_attempted(ch06.check_negation_safe_deletion)


# --- Exercise 6 (experiment) ----------------------------------------------------------------
@pytest.fixture
def toy_judge(sol):
    """A rule 'judge' on 40 positive reviews reading '... not bad ...', plus 60 others."""
    texts = [["the", "plot", "is", "not", "bad", "at", "all", f"x{i}"] for i in range(40)] + [["meh"]] * 60

    def predict(token_lists):
        return torch.tensor([int("bad" not in w or "not" in w) for w in token_lists])

    sol.groups, sol.val_tokens = {"negation": list(range(40))}, texts
    sol.val_y, sol.predict = torch.ones(100, dtype=torch.long), predict
    return sol


_SOL = {}


def _edited(edit, rows, seed=None):
    sol = _SOL["sol"]
    return [edit(sol.val_tokens[i], random.Random(i if seed is None else seed)) for i in rows]


def rate_is_accuracy(edit):
    return 1.0 - _SOL["sol"].flip_rate(edit)


def rate_is_count(edit):
    return _SOL["sol"].flip_rate(edit) * 40


def rate_wrong_denominator(edit):  # divides by every validation review
    sol = _SOL["sol"]
    rows = sol.groups["negation"]
    return ((sol.predict(_edited(edit, rows)) != sol.val_y[rows]).sum() / len(sol.val_y)).item()


def rate_tiny_sample(edit):  # the first 10 reviews, one shared seed
    sol = _SOL["sol"]
    rows = sol.groups["negation"][:10]
    return (sol.predict(_edited(edit, rows, seed=0)) != sol.val_y[rows]).float().mean().item()


def test_negation_experiment(toy_judge):
    sol = toy_judge
    _SOL["sol"] = sol
    args = (sol.predict, sol.val_tokens, sol.val_y, sol.groups["negation"])

    def check(f, p):
        return ch06.check_negation_experiment(f, p, *args)

    assert_passes(check, (sol.flip_rate, sol.predict_safe_deletion))
    for guess in ("lower", "higher", "same"):            # recorded, never graded
        assert_passes(check, (sol.flip_rate, lambda g=guess: g))
    assert_rejected(check, (sol.flip_rate, lambda: "more"), "predict_safe_deletion")
    assert_rejected(check, (rate_is_accuracy, sol.predict_safe_deletion))
    assert_rejected(check, (rate_is_count, sol.predict_safe_deletion), "not a count")
    assert_rejected(check, (rate_wrong_denominator, sol.predict_safe_deletion), "divide")
    assert_rejected(check, (rate_tiny_sample, sol.predict_safe_deletion), "divide")
    assert_not_attempted(check, 2)
