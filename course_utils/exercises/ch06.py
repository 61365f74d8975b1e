"""Checkers for chapter 06 (data augmentation)."""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from course_utils import augment as aug
from course_utils.checking import Case, CheckResult, run_check

_SENTENCES = [
    "the acting is wooden but the score is haunting".split(),
    "i would not call the pacing sluggish at all".split(),
    "a b".split(),
    "never dull not even for a minute and the ending works".split(),
    ("one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
     "fifteen sixteen seventeen eighteen nineteen twenty").split(),
]


def _is_word_list(got: Any) -> bool:
    return isinstance(got, list) and all(isinstance(w, str) for w in got)


def _is_subsequence(got: Sequence[str], words: Sequence[str]) -> bool:
    it = iter(words)
    return all(any(w == x for x in it) for w in got)


# --- Exercise 1: swaps that stay inside a sentence ----------------------------------------------
ENDS = frozenset({".", "!", "?"})


def _sentences(words: Sequence[str]) -> list[Counter]:
    """The multiset of words of each sentence (split at . ! ?)."""
    out, current = [], Counter()
    for w in words:
        if w in ENDS:
            out.append(current)
            current = Counter()
        else:
            current[w] += 1
    return out + [current]


def _swap_case(fn: Callable, words: list[str], n: int, seed: int) -> Case:
    def check(got: Any) -> tuple[bool, str]:
        want = (f"the same {len(words)} words, every sentence keeping its own words, at most "
                f"{2 * n} positions changed")
        if not _is_word_list(got):
            return False, f"{want}\n   what differs: got {type(got).__name__}, not a list of str"
        if Counter(got) != Counter(words):
            return False, f"{want}\n   what differs: the multiset of words changed " \
                          f"(missing {sorted((Counter(words) - Counter(got)).elements())[:3]}, " \
                          f"extra {sorted((Counter(got) - Counter(words)).elements())[:3]})"
        moved_ends = [i for i, w in enumerate(words) if w in ENDS and got[i] != w]
        if moved_ends or _sentences(got) != _sentences(words):
            return False, f"{want}\n   what differs: a word moved into another sentence (or a " \
                          f"sentence end moved) -- pick both positions inside one sentence"
        moved = sum(a != b for a, b in zip(got, words))
        if moved > 2 * n:
            return False, f"{want}\n   what differs: {moved} positions changed -- each swap " \
                          f"exchanges two words; a shuffle is not n swaps"
        plain = [w for w in words if w not in ENDS]
        if n == 1 and len(set(plain)) == len(plain) and moved != 2 and \
                any(sum(c.values()) >= 2 for c in _sentences(words)):
            return False, f"{want}\n   what differs: one swap of distinct words must change " \
                          f"exactly 2 positions, got {moved} -- are i and j always different?"
        again = fn(list(words), n, random.Random(seed))
        if again != got:
            return False, f"{want}\n   what differs: the same seed gave a different output " \
                          f"({again}) -- use only the rng you are given"
        return True, want

    return Case(args=(list(words), n, random.Random(seed)), check=check,
                label=f"{' '.join(words)!r}, n={n}, rng=Random({seed})")


_TWO_SENTENCES = "the plot drags . but the cast shines !".split()
_SHORT_SENTENCES = "wow . the plot drags but a cast shines . ok . fine !".split()
_THREE_SENTENCES = ("i expected to hate it . i was wrong . the score soars and the "
                    "ending lands").split()


def check_swap_within_sentences(fn: Callable[[list[str], int, random.Random], list[str]]
                                ) -> CheckResult:
    """Exercise 1: n swaps of two distinct positions of one sentence; reproducible."""
    cases = [_swap_case(fn, _SENTENCES[2], 1, s) for s in range(6)]
    cases += [_swap_case(fn, _TWO_SENTENCES, 1, s) for s in range(6)]
    cases += [_swap_case(fn, _THREE_SENTENCES, 3, s) for s in range(6)]
    cases += [_swap_case(fn, _SENTENCES[4], 2, 7), _swap_case(fn, "one . two .".split(), 2, 0),
              _swap_case(fn, ["alone"], 2, 0), _swap_case(fn, [], 1, 0)]
    cases += [_swap_case(fn, _SHORT_SENTENCES, 1, s) for s in range(8)]

    def spread_over_seeds() -> dict[str, bool]:
        """Over 24 seeds: swaps reach several sentences, non-adjacent pairs, and split up."""
        words = _THREE_SENTENCES
        sentence_of = {}
        k = 0
        for i, w in enumerate(words):
            if w in ENDS:
                k += 1
            else:
                sentence_of[i] = k
        seen = {"a sentence other than the first": False, "two words that are not neighbours": False,
                "one call touching two sentences": False}
        for seed in range(24):
            one = fn(list(words), 1, random.Random(seed))
            changed = [i for i, (a, b) in enumerate(zip(one, words)) if a != b]
            if any(sentence_of.get(i, 0) > 0 for i in changed):
                seen["a sentence other than the first"] = True
            if len(changed) == 2 and changed[1] - changed[0] > 1:
                seen["two words that are not neighbours"] = True
            three = fn(list(words), 3, random.Random(seed))
            if len({sentence_of[i] for i, (a, b) in enumerate(zip(three, words)) if a != b}) > 1:
                seen["one call touching two sentences"] = True
        return seen

    def spread(got: Any) -> tuple[bool, str]:
        want = "over 24 seeds, swaps in every sentence, of any two positions, each swap drawing its own sentence"
        never = [k for k, v in got.items() if not v]
        return (True, want) if not never else (
            False, f"{want}\n   what differs: no seed ever swapped {never[0]} -- "
                   f"draw the sentence and both positions with rng for every swap")

    def outputs_for_8_seeds() -> set[tuple[str, ...]]:
        return {tuple(fn(list(_SENTENCES[4]), 1, random.Random(s))) for s in range(8)}

    def differ(got: Any) -> tuple[bool, str]:
        want = "different swaps for different seeds"
        return (True, want) if len(got) > 1 else (
            False, f"{want}\n   what differs: every seed swapped the same positions -- draw "
                   f"them with rng")

    hint = ("a swap may only exchange two words of the same sentence, and a sentence end "
            "('.', '!', '?') never moves. Which sentences can host a swap at all? Make every "
            "one of the n swaps a real one, drawn with the rng you are given.")
    result = run_check("Exercise 1 · swap_within_sentences", fn, cases, inputs_unchanged=True,
                       hint=hint)
    if not result.ok:
        return result
    result = run_check("Exercise 1 · swap_within_sentences", outputs_for_8_seeds,
                       [Case(label="the same 20 words with 8 different seeds", check=differ)],
                       hint="the positions must come from the rng argument.")
    if not result.ok:
        return result
    return run_check("Exercise 1 · swap_within_sentences", spread_over_seeds,
                     [Case(label="three sentences, 24 seeds", check=spread)],
                     hint="every one of the n swaps draws its own sentence (among those with two "
                          "words or more) and two different positions anywhere in it.")


# --- Exercise 2: deletion with a floor -------------------------------------------------------
def _survivors(words: Sequence[str], p: float, seed: int) -> list[bool]:
    rng = random.Random(seed)
    return [rng.random() >= p for _ in words]


def _floor_case(words: list[str], p: float, seed: int, min_words: int) -> Case:
    kept = _survivors(words, p, seed)
    survivors = [w for w, k in zip(words, kept) if k]
    target = min(min_words, len(words))

    def check(got: Any) -> tuple[bool, str]:
        if len(survivors) >= target:
            want = f"{survivors} (the words whose rng.random() >= p)"
            if got == survivors:
                return True, want
            if _is_word_list(got) and got == [w for w, k in zip(words, kept) if not k]:
                return False, want + "\n   what differs: you kept the deleted words -- a word " \
                                     "is deleted when rng.random() < p"
            return False, want
        want = (f"{target} words in their original order, including the survivors "
                f"{survivors}")
        if not _is_word_list(got):
            return False, f"{want}\n   what differs: got {type(got).__name__}"
        if len(got) != target:
            return False, f"{want}\n   what differs: got {len(got)} words"
        if not _is_subsequence(got, words):
            return False, f"{want}\n   what differs: the words are not in their original order"
        if not _is_subsequence(survivors, got) and Counter(survivors) - Counter(got):
            return False, f"{want}\n   what differs: a surviving word was lost -- put deleted " \
                          f"words back, keep the survivors"
        return True, want

    return Case(args=(list(words), p, random.Random(seed)), kwargs={"min_words": min_words},
                check=check, label=f"{len(words)} words, p={p}, rng=Random({seed}), "
                                   f"min_words={min_words}")


def check_delete_with_floor(fn: Callable[..., list[str]]) -> CheckResult:
    """Exercise 2: deletion with probability p that keeps at least min_words words."""
    long = [f"w{i}" for i in range(400)]
    cases = [_floor_case(_SENTENCES[0], 0.0, 0, 1), _floor_case(_SENTENCES[0], 0.3, 1, 1),
             _floor_case(long, 0.3, 2, 1), _floor_case(_SENTENCES[3], 1.0, 3, 1),
             _floor_case(_SENTENCES[3], 1.0, 4, 3), _floor_case(_SENTENCES[4], 0.9, 5, 4),
             _floor_case(_SENTENCES[4], 0.8, 7, 5),
             _floor_case(["only"], 0.99, 6, 1), _floor_case(_SENTENCES[2], 1.0, 7, 5),
             _floor_case([], 0.5, 8, 1)]
    result = run_check("Exercise 2 · delete_with_floor", fn, cases, inputs_unchanged=True,
                       hint="first draw rng.random() once per word and keep a word if the draw "
                          "is >= p; then, if fewer than min_words survive, choose (with rng) "
                          "some of the deleted positions to restore, and rebuild the list in "
                          "the original order.")
    if not result.ok:
        return result

    def restored_for_12_seeds() -> set[tuple[str, ...]]:
        return {tuple(fn(list(_SENTENCES[4]), 1.0, random.Random(s), min_words=3)) for s in range(12)}

    def varied(got: Any) -> tuple[bool, str]:
        want = "with p=1 every word is deleted; the 3 restored words differ from seed to seed"
        return (True, want) if len(got) > 3 else (
            False, f"{want}\n   what differs: only {len(got)} different outputs over 12 seeds -- "
                   f"choose the words to restore with rng, not the first or last deleted ones")

    return run_check("Exercise 2 · delete_with_floor", restored_for_12_seeds,
                     [Case(label="20 words, p=1.0, min_words=3, 12 seeds", check=varied)],
                     hint="choose the positions to restore with rng.sample.")


# --- Exercise 3: synonyms the classifier can read --------------------------------------------
def _known_reference(word: str, vocab: Any) -> list[str]:
    return sorted(s for s in aug.synonyms(word) if all(t in vocab for t in s.split()))


def _known_comparator(got: Any, expected: list[str]) -> tuple[bool, str]:
    if not _is_word_list(got):
        return False, f"expected a sorted list of str, got {type(got).__name__}"
    if got == expected:
        return True, ""
    if sorted(set(got)) == expected:
        return False, "the same synonyms, but not as a sorted list of distinct strings"
    extra, missing = sorted(set(got) - set(expected)), sorted(set(expected) - set(got))
    reason = f"extra {extra[:4]}, missing {missing[:4]}"
    if any(" " in w for w in missing):
        reason += " -- a multi-word synonym is readable when *every* one of its words is in vocab"
    elif any(" " in w for w in extra):
        reason += " -- a multi-word synonym needs *all* its words in vocab, not just one"
    elif extra:
        reason += " -- keep only synonyms whose words are all in vocab"
    return False, reason


_VOCAB = frozenset("movie motion picture flick cinema show boring dim dumb great fine skilful "
                   "secret plan story game well honest dear full expert".split())


def check_known_synonyms(fn: Callable[[str, Any], list[str]]) -> CheckResult:
    """Exercise 3: WordNet synonyms whose every word is in the classifier's vocabulary."""
    cases = [Case(args=(w, _VOCAB)) for w in ("film", "dull", "good", "plot", "acting")]
    cases += [Case(args=("film", frozenset({"motion", "movie"}))), Case(args=("good", frozenset()))]
    return run_check("Exercise 3 · known_synonyms", fn, cases, reference=_known_reference,
                     comparator=_known_comparator,
                     hint="start from get_synonyms(word); a synonym can be read by the classifier "
                          "only if the featurizer would not map any of its words to 'unknown'.")


# --- Exercise 4: the mixup loss ------------------------------------------------------------
def _mixup_reference(model: nn.Module, x: torch.Tensor, y: torch.Tensor, lam: float,
                     perm: torch.Tensor) -> torch.Tensor:
    logits = model(lam * x + (1 - lam) * x[perm])
    return lam * F.cross_entropy(logits, y) + (1 - lam) * F.cross_entropy(logits, y[perm])


def _mixup_cases() -> list[Case]:
    cases = []
    for i, (shape, classes, lam) in enumerate((((8, 5), 3, 0.3), ((6, 4), 4, 0.8),
                                               ((5, 1, 3, 3), 10, 0.6), ((4, 5), 3, 1.0),
                                               ((7, 5), 3, 0.0), ((16, 12), 6, 0.25))):
        g = torch.Generator().manual_seed(i)
        torch.manual_seed(i)
        features = 1
        for s in shape[1:]:
            features *= s
        model = nn.Sequential(nn.Flatten(), nn.Linear(features, 8), nn.Tanh(), nn.Linear(8, classes))
        x = torch.randn(*shape, generator=g)
        y = torch.randint(0, classes, (shape[0],), generator=g)
        perm = torch.randperm(shape[0], generator=g)
        cases.append(Case(args=(model, x, y, lam, perm),
                          label=f"x {tuple(shape)}, {classes} classes, lam={lam}"))
    return cases


def _mixup_comparator(got: Any, expected: torch.Tensor) -> tuple[bool, str]:
    if not isinstance(got, torch.Tensor):
        return False, f"expected a tensor, got {type(got).__name__} -- keep the graph: no .item()"
    if not got.requires_grad:
        return False, "the loss has no gradient -- it was computed under torch.no_grad() or detached"
    if got.shape != expected.shape or not torch.allclose(got.detach(), expected.detach(), atol=1e-5, rtol=1e-4):
        return False, f"got {got.detach().flatten()[:1].tolist()}, expected {expected.detach().flatten()[:1].tolist()}" \
                      " -- mix the inputs, not the logits: the model is not linear"
    return True, ""


def check_mixup_loss(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 4: lam * CE(f(mix), y) + (1 - lam) * CE(f(mix), y[perm])."""
    return run_check("Exercise 4 · mixup_step", fn, _mixup_cases(), reference=_mixup_reference,
                     comparator=_mixup_comparator, inputs_unchanged=True,
                     hint="mix the inputs (lam on x, 1 - lam on x[perm]), run the model once on "
                          "the mix, and weigh the two cross-entropies with the same lam: y gets "
                          "lam, y[perm] gets 1 - lam.")


# --- Exercise 5: negation-safe deletion -------------------------------------------------------
def _negation_safe_reference(words: list[str], p: float, rng: random.Random) -> list[str]:
    protected = {i for i, w in enumerate(words) if w in aug.NEGATIONS}
    protected |= {i + 1 for i in protected if i + 1 < len(words)}
    out = [w for i, w in enumerate(words) if rng.random() >= p or i in protected]
    return out if out or not words else [rng.choice(words)]


def _safe_case(words: list[str], p: float, seed: int) -> Case:
    expected = _negation_safe_reference(list(words), p, random.Random(seed))
    protected = {i for i, w in enumerate(words) if w in aug.NEGATIONS}
    protected |= {i + 1 for i in protected if i + 1 < len(words)}
    must_keep = [words[i] for i in sorted(protected)]

    def check(got: Any) -> tuple[bool, str]:
        want = f"{expected}"
        if not _is_word_list(got):
            return False, f"{want}\n   what differs: got {type(got).__name__}"
        if words and not got:
            return False, f"{want}\n   what differs: an empty list -- keep one random word"
        lost = Counter(must_keep) - Counter(got)
        if lost:
            return False, f"{want}\n   what differs: protected words were deleted: " \
                          f"{sorted(lost.elements())} (a negation and the word after it stay)"
        if got != expected:
            return False, f"{want}\n   what differs: the protected words are there, but the " \
                          f"others differ -- draw rng.random() once for every word, in order"
        return True, want

    return Case(args=(list(words), p, random.Random(seed)), check=check,
                label=f"{' '.join(words)!r}, p={p}, rng=Random({seed})")


def check_negation_safe_deletion(fn: Callable[[list[str], float, random.Random], list[str]]
                                 ) -> CheckResult:
    """Exercise 5: random deletion that keeps negations and the word after each."""
    cases = [_safe_case(_SENTENCES[1], 0.5, 0), _safe_case(_SENTENCES[3], 0.5, 1),
             _safe_case(_SENTENCES[3], 1.0, 2), _safe_case(_SENTENCES[0], 0.3, 3),
             _safe_case(_SENTENCES[0], 1.0, 4), _safe_case("it isn't good".split(), 1.0, 5),
             _safe_case("the ending is not".split(), 1.0, 6), _safe_case([], 0.5, 7)]
    return run_check("Exercise 5 · negation_safe_deletion", fn, cases, inputs_unchanged=True,
                     hint="mark the positions of negation words (aug.NEGATIONS) and the position "
                          "after each; draw rng.random() for every word and keep it if the draw "
                          "is >= p or its position is marked; never return [] for a non-empty "
                          "input.")


# --- Exercise 6: the negation experiment ------------------------------------------------------
def _as_rate(value: Any) -> float | None:
    if isinstance(value, torch.Tensor) and value.numel() == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return float(value)


SAFE_P = 0.3  # deletion probability of the Exercise 6 experiment
PREDICTIONS = ("lower", "same", "higher")


def check_negation_experiment(flip_rate: Callable[[Callable], float], predict: Callable[[], str],
                              judge: Callable, tokens: Sequence[list[str]], labels: torch.Tensor,
                              rows: Sequence[int]) -> CheckResult:
    """Exercise 6 (experiment): does negation-safe deletion flip the judge less than random deletion?

    The learner's ``flip_rate`` is compared with a reference measurement on the same reviews;
    the prediction is recorded and printed next to the result, not graded.
    """
    rows = list(rows)
    edits = {"no edit": lambda words, rng: list(words),
             "random deletion": lambda words, rng: aug.random_deletion(words, SAFE_P, rng),
             "negation-safe deletion": lambda words, rng: _negation_safe_reference(words, SAFE_P, rng)}

    def reference(edit: Callable) -> float:
        edited = [edit(list(tokens[i]), random.Random(i)) for i in rows]
        return (torch.as_tensor(judge(edited)) != torch.as_tensor(labels)[rows]).float().mean().item()

    expected = {name: reference(edit) for name, edit in edits.items()}
    tolerance = 0.5 / max(len(rows), 1)

    def measure() -> dict[str, Any]:
        return {name: flip_rate(edit) for name, edit in edits.items()}

    def check_rates(got: Any) -> tuple[bool, str]:
        want = ", ".join(f"{k}: {v:.3f}" for k, v in expected.items()) + \
            f" (shares of the {len(rows)} reviews in rows, each edited with random.Random(i))"
        rates = {k: _as_rate(v) for k, v in got.items()}
        bad = [k for k, v in rates.items() if v is None or not 0.0 <= v <= 1.0]
        if bad:
            return False, f"{want}\n   what differs: flip_rate returned {got[bad[0]]!r} for " \
                          f"'{bad[0]}' -- a share (a float between 0 and 1), not a count"
        off = [k for k in rates if abs(rates[k] - expected[k]) > tolerance]
        if off:
            k = off[0]
            return False, f"{want}\n   what differs: for '{k}' you measured {rates[k]:.3f} -- divide " \
                          f"by the number of negation reviews, use all of them, and seed review i " \
                          f"with random.Random(i)"
        return True, want

    result = run_check("Exercise 6 · flip_rate", measure,
                       [Case(label=f"the judge, three edits (p={SAFE_P})", check=check_rates)],
                       hint="edit every review of groups['negation'] with random.Random(i), "
                            "predict all of them, return the share whose prediction != label.")
    if not result.ok:
        return result

    def recorded(got: Any) -> tuple[bool, str]:
        want = f"one of {PREDICTIONS}"
        if not isinstance(got, str) or got.strip().lower() not in PREDICTIONS:
            return False, f"{want}\n   what differs: predict_safe_deletion() returned {got!r}"
        return True, want

    verdict = run_check("Exercise 6 · your prediction (recorded, not graded)", predict,
                        [Case(label="a prediction", check=recorded)],
                        hint=f"return one of {PREDICTIONS}.")
    if verdict.ok:
        safe, plain = expected["negation-safe deletion"], expected["random deletion"]
        print(f"   you predicted: {predict().strip().lower()} · measured: random deletion flips "
              f"{plain:.1%}, negation-safe deletion {safe:.1%} of the {len(rows)} negation reviews "
              f"(p={SAFE_P}); one review is {1 / max(len(rows), 1):.1%}")
    return verdict
