"""Checkers for chapter 03 (BERT: masked language modelling, pretraining and fine-tuning)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F

from course_utils.checking import Case, CheckResult, explain_mismatch, run_check
from course_utils.mlm import IGNORE_INDEX, masking_stats, top_k_candidates
from course_utils.models.bert import mean_pool

CLS, SEP, PAD, MASK = 2, 3, 0, 4
SPECIALS = (0, 1, 2, 3, 4)


def pair_inputs(ids_a: Sequence[int], ids_b: Sequence[int] | None, cls_id: int,
                sep_id: int) -> tuple[list[int], list[int]]:
    """Reference: ``[CLS] A [SEP] (B [SEP])`` and its token type ids (0 for A's part, 1 for B's)."""
    ids = [cls_id, *ids_a, sep_id]
    types = [0] * len(ids)
    if ids_b is not None:
        ids += [*ids_b, sep_id]
        types += [1] * (len(ids_b) + 1)
    return ids, types


def check_pair_inputs(fn: Callable[..., tuple[list[int], list[int]]]) -> CheckResult:
    """Exercise 1: build [CLS] A [SEP] B [SEP] and the segment (token type) ids."""
    cases = [Case(args=([11, 12, 13], [21, 22], CLS, SEP), label="A = 3 tokens, B = 2 tokens"),
             Case(args=([11], [21], CLS, SEP), label="one token each"),
             Case(args=([11, 12, 13, 14], None, CLS, SEP), label="a single sentence (B = None)"),
             Case(args=([], [21, 22, 23], CLS, SEP), label="empty A"),
             Case(args=([7, 8], [9, 10, 11], 101, 102),
                  label="bert-base-uncased ids: [CLS] = 101, [SEP] = 102")]
    return run_check("Exercise 1 · pair_inputs", fn, cases, reference=pair_inputs,
                     comparator=lambda got, exp: _same_lists(got, exp),
                     hint="ids = [cls] + A + [sep] (+ B + [sep]); the first part (with its "
                          "[CLS] and [SEP]) is segment 0, B and its final [SEP] segment 1. "
                          "Return two plain lists.")


def _as_lists(value: object) -> object:
    """Tensors in a 2-tuple answer become lists (plain lists are asked for; tensors are fine)."""
    if isinstance(value, tuple) and len(value) == 2:
        return tuple(v.tolist() if isinstance(v, torch.Tensor) else v for v in value)
    return value


def _same_lists(got: object, expected: tuple) -> tuple[bool, str]:
    reason = explain_mismatch(_as_lists(got), expected)
    return reason is None, reason or ""


def _rows(n_rows: int, seed: int, vocab: int = 1000, t: int = 40) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    ids = torch.randint(5, vocab, (n_rows, t), generator=g)
    lengths = torch.randint(8, t + 1, (n_rows,), generator=g)
    ids[torch.arange(t)[None, :] >= lengths[:, None]] = PAD
    ids[:, 0] = CLS
    ids[torch.arange(n_rows), lengths - 1] = SEP
    return ids


def _masking_property(ids: torch.Tensor, vocab: int, tol: float) -> Callable:
    def check(out: object) -> tuple[bool, str]:
        want = ("a pair (masked_ids, labels) of tensors shaped like input_ids; specials never "
                "selected; labels = original id where selected, -100 elsewhere; ")
        if not (isinstance(out, tuple) and len(out) == 2
                and all(isinstance(o, torch.Tensor) for o in out)):
            return False, want + "got something else"
        masked, labels = out
        if masked.shape != ids.shape or labels.shape != ids.shape:
            return False, want + f"shapes {tuple(masked.shape)}, {tuple(labels.shape)}"
        for what, tensor in (("masked_ids", masked), ("labels", labels)):
            if tensor.is_floating_point() or tensor.is_complex() or tensor.dtype == torch.bool:
                return False, want + (f"but {what} has dtype {str(tensor.dtype)[6:]} (ids and "
                                      f"labels must be integer tensors, like input_ids)")
        selected = labels != IGNORE_INDEX
        if not selected.any():
            return False, want + "but no token is selected (every label is -100)"
        special = torch.isin(ids, torch.tensor(SPECIALS))
        if (selected & special).any():
            return False, want + "but a special token ([PAD]/[UNK]/[CLS]/[SEP]/[MASK]) was selected"
        if not torch.equal(labels[selected], ids[selected]):
            return False, want + "but labels at selected positions are not the original ids"
        if not torch.equal(masked[~selected], ids[~selected]):
            return False, want + "but a token that is not selected was changed"
        swapped = selected & (masked != MASK) & (masked != ids)
        if torch.isin(masked[swapped], torch.tensor(SPECIALS)).any() or \
                (masked[swapped] >= vocab).any():
            return False, want + "but a random replacement is a special token or out of range"
        stats = masking_stats(ids, masked, labels, mask_id=MASK, special_ids=SPECIALS)
        target = {"selected": 0.15, "mask": 0.8, "random": 0.1, "unchanged": 0.1}
        off = {k: round(stats[k], 4) for k in target if abs(stats[k] - target[k]) > tol}
        if off:
            return False, (f"rates within ±{tol:.0%} of 15 % selected and 80/10/10; measured "
                           f"{ {k: round(stats[k], 4) for k in target} } (off: {off})")
        return True, "ok"
    return check


def check_mask_tokens(fn: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> CheckResult:
    """Exercise 2: BERT's 15 % selection and 80/10/10 replacement, with -100 labels.

    Every draw must come from ``generator``: the answer is run twice with equally seeded
    generators (the global RNG moved on in between) and must give the same result. The
    input must not be edited in place.
    """
    def seeded_twice(ids, mask_id, vocab, *, generator):
        seed = generator.initial_seed()
        with torch.random.fork_rng(devices=[]):  # the notebook's global RNG is left alone
            first = fn(ids, mask_id, vocab, generator=torch.Generator().manual_seed(seed))
            torch.manual_seed(seed + 12345)  # a global RNG unlike the generator's stream
            again = fn(ids.clone(), mask_id, vocab,
                       generator=torch.Generator().manual_seed(seed))
        reproducible.append(isinstance(first, tuple) and isinstance(again, tuple)
                            and len(first) == len(again)
                            and all(isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)
                                    and a.shape == b.shape and torch.equal(a, b)
                                    for a, b in zip(first, again)))
        return first

    def with_generator_rule(prop: Callable) -> Callable:
        def check(out: object) -> tuple[bool, str]:
            ok, text = prop(out)
            if ok and not reproducible[-1]:
                return False, ("the same result for the same generator seed; got a different "
                               "one on a second run: every random draw (torch.rand, randint, "
                               "bernoulli...) must use generator=generator")
            return ok, text
        return check

    def mask_share(ids: torch.Tensor) -> Callable:
        structure = _masking_property(ids, 7, 1.0)

        def check(out: object) -> tuple[bool, str]:
            ok, text = structure(out)
            if not ok:
                return ok, text
            masked, labels = out
            share = float((masked[labels != IGNORE_INDEX] == MASK).float().mean())
            if abs(share - 0.8) > 0.02:
                return False, (f"[MASK] at 80 % of the selected tokens (±2 points), measured "
                               f"{share:.1%}: with only two ordinary ids, a 'random' replacement "
                               f"drawn from randint(4, V) is [MASK] a third of the time -- draw "
                               f"random ids from the non-special range only")
            return True, "ok"
        return check

    reproducible: list[bool] = []
    big = _rows(5000, seed=0)  # ~110k maskable tokens: rates are checked to ±1 point
    small = _rows(50, seed=1, vocab=30, t=12)
    tiny = _rows(1500, seed=2, vocab=7)  # ordinary ids 5 and 6 only; ~36k maskable tokens
    sprinkle = torch.rand(tiny.shape, generator=torch.Generator().manual_seed(3))
    body = (tiny != PAD) & (tiny != CLS) & (tiny != SEP)
    tiny[body & (sprinkle < 0.03)] = 1  # [UNK] in the text: special, never selected
    tiny[body & (sprinkle > 0.97)] = MASK  # a literal [MASK] in the input: special too
    cases = [Case(args=(big, MASK, 1000), kwargs={"generator": torch.Generator().manual_seed(0)},
                  label="5,000 rows of [CLS] ... [SEP] [PAD]..., vocabulary 1,000",
                  check=with_generator_rule(_masking_property(big, 1000, 0.01))),
             Case(args=(small, MASK, 30), kwargs={"generator": torch.Generator().manual_seed(1)},
                  label="50 short rows, vocabulary 30 (random ids must avoid the specials)",
                  check=with_generator_rule(_masking_property(small, 30, 1.0))),
             Case(args=(tiny, MASK, 7), kwargs={"generator": torch.Generator().manual_seed(2)},
                  label="vocabulary 7: two ordinary ids, with [UNK] and [MASK] in the input",
                  check=with_generator_rule(mask_share(tiny)))]
    return run_check("Exercise 2 · mask_tokens", seeded_twice if callable(fn) else fn, cases,
                     inputs_unchanged=True,
                     hint="selected = (rand < 0.15) & ~special; labels = where(selected, ids, "
                          "-100); u = rand; [MASK] where selected & u < 0.8; a random "
                          "non-special id where selected & 0.8 <= u < 0.9; keep the rest. "
                          "Use the generator for every random draw; clone the input.")


def check_mlm_loss(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> CheckResult:
    """Exercise 3: the MLM loss -- mean cross-entropy over positions whose label is not -100."""
    def make(b: int, t: int, v: int, seed: int, share: float) -> tuple:
        g = torch.Generator().manual_seed(seed)
        logits = torch.randn(b, t, v, generator=g) * 3
        labels = torch.randint(v, (b, t), generator=g)
        drop = torch.rand(b, t, generator=g) > share
        drop.view(-1)[0] = False  # at least one scored position
        return logits, labels.masked_fill(drop, IGNORE_INDEX)
    cases = [Case(args=make(2, 6, 11, 0, 0.15), label="B=2, T=6, V=11, ~15 % scored"),
             Case(args=make(4, 20, 50, 1, 0.15), label="B=4, T=20, V=50"),
             Case(args=make(1, 5, 7, 2, 0.0), label="only one scored position"),
             Case(args=make(3, 8, 9, 3, 1.0), label="every position scored")]
    return run_check("Exercise 3 · mlm_loss", fn, cases,
                     reference=lambda logits, labels: F.cross_entropy(
                         logits.reshape(-1, logits.shape[-1]), labels.reshape(-1),
                         ignore_index=IGNORE_INDEX),
                     hint="flatten logits to (B*T, V) and labels to (B*T,); average -log p(label) "
                          "over the positions with label != -100 only (F.cross_entropy's "
                          "ignore_index does this).")


def check_mean_pooling(fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]) -> CheckResult:
    """Exercise 4: mean of the hidden states over real tokens (padding excluded)."""
    def make(b: int, t: int, h: int, seed: int) -> tuple:
        g = torch.Generator().manual_seed(seed)
        hidden = torch.randn(b, t, h, generator=g)
        lengths = torch.randint(1, t + 1, (b,), generator=g)
        mask = (torch.arange(t)[None, :] < lengths[:, None]).long()
        hidden[mask == 0] = 100.0  # padding states are large: they must not leak in
        return hidden, mask
    cases = [Case(args=make(2, 5, 3, 0), label="B=2, T=5, H=3"),
             Case(args=make(4, 12, 8, 1), label="B=4, T=12, H=8"),
             Case(args=(torch.arange(12.).view(1, 4, 3), torch.tensor([[1, 1, 1, 1]])),
                  label="no padding"),
             Case(args=make(3, 7, 4, 2)[0:1] + (torch.tensor([[1, 0, 0, 0, 0, 0, 0]] * 3),),
                  label="a single real token per row")]
    return run_check("Exercise 4 · mean_pooling", fn, cases, reference=mean_pool,
                     hint="weights = mask[..., None] as float; (hidden * weights).sum(1) / "
                          "weights.sum(1).")


def check_top_k(fn: Callable[..., tuple[torch.Tensor, torch.Tensor]]) -> CheckResult:
    """Exercise 5: fill-mask's top-k at one [MASK] position, renormalised without specials."""
    def make(v: int, seed: int) -> torch.Tensor:
        logits = torch.randn(v, generator=torch.Generator().manual_seed(seed)) * 2
        logits[MASK] = logits.max() + 5  # a special token that would otherwise win
        return logits
    cases = [Case(args=(make(20, 0), 3, SPECIALS), label="V=20, k=3"),
             Case(args=(make(500, 1), 5, SPECIALS), label="V=500, k=5"),
             Case(args=(make(50, 2), 1, SPECIALS), label="k=1"),
             Case(args=(make(12, 3), 7, (0, 1, 2, 3, 4, 5)), label="six excluded ids")]
    return run_check("Exercise 5 · top_k_candidates", fn, cases, reference=top_k_candidates,
                     hint="set the excluded logits to -inf, softmax, then .topk(k); return "
                          "(probabilities, ids), most probable first.")


def word_ids_from_pieces(tokens: Sequence[str],
                         specials: Sequence[str] = ("[CLS]", "[SEP]", "[PAD]")) -> list[int | None]:
    """Reference: the word index of every WordPiece token (None for specials); ## continues a word."""
    out: list[int | None] = []
    word = -1
    for token in tokens:
        if token in specials:
            out.append(None)
        else:
            if not token.startswith("##"):
                word += 1
            out.append(word)
    return out


def check_word_ids(fn: Callable[[Sequence[str]], list[int | None]]) -> CheckResult:
    """Exercise 6: group WordPiece tokens into words (for whole-word masking)."""
    cases = [Case(args=(["[CLS]", "the", "plot", "is", "un", "##for", "##get", "##table", ".",
                         "[SEP]"],)),
             Case(args=(["[CLS]", "pro", "##ba", "##bility", "[SEP]", "[PAD]", "[PAD]"],)),
             Case(args=(["[CLS]", "a", "b", "[SEP]", "c", "##d", "[SEP]"],),
                  label="a sentence pair: word indices keep counting after the middle [SEP]"),
             Case(args=(["good"],), label="no special tokens"),
             Case(args=(["[CLS]", "[MASK]", "##s", "[SEP]"],),
                  label="[MASK] is a word like any other")]
    return run_check("Exercise 6 · word_ids_from_pieces", fn, cases,
                     reference=word_ids_from_pieces,
                     hint="walk the tokens; [CLS]/[SEP]/[PAD] -> None; a token that does not "
                          "start with ## starts a new word (index + 1); a ## piece keeps the "
                          "current index.")


def own_sentence(ids: Sequence[int], position: int, boundary_ids: Sequence[int], cls_id: int,
                 sep_id: int) -> tuple[list[int], int]:
    """Reference: ``[CLS]`` + the sentence holding ``ids[position]`` (end mark included) + ``[SEP]``.

    The sentence starts after the last boundary token before ``position`` (or at the start
    of the text) and ends at the first boundary token at or after it (or at the end of the
    text). Also returns the position of the same token in the new list.
    """
    body_start = 1 if ids and ids[0] == cls_id else 0
    body_end = len(ids) - 1 if ids and ids[-1] == sep_id else len(ids)  # exclusive
    start = position
    while start > body_start and ids[start - 1] not in boundary_ids:
        start -= 1
    end = position
    while end < body_end - 1 and ids[end] not in boundary_ids:
        end += 1
    return [cls_id, *ids[start:end + 1], sep_id], position - start + 1


def check_own_sentence(fn: Callable[..., tuple[list[int], int]]) -> CheckResult:
    """Exercise 7a: cut a review down to the sentence that holds one token."""
    dot, bang, ask, m = 5, 6, 7, MASK
    cases = [Case(args=([CLS, 11, 12, dot, 21, m, 23, dot, 31, 32, dot, SEP], 5, (dot, bang, ask),
                        CLS, SEP), label="the middle sentence of three"),
             Case(args=([CLS, 11, m, 13, dot, 21, 22, dot, SEP], 2, (dot, bang, ask), CLS, SEP),
                  label="the first sentence"),
             Case(args=([CLS, 11, dot, 21, m, SEP], 4, (dot, bang, ask), CLS, SEP),
                  label="the last sentence has no end mark (a truncated review)"),
             Case(args=([CLS, 11, bang, m, 22, ask, 31, SEP], 3, (dot, bang, ask), CLS, SEP),
                  label="the token right after a '!'; the sentence ends at '?'"),
             Case(args=([CLS, 11, m, 13, SEP], 2, (dot, bang, ask), CLS, SEP),
                  label="one sentence, no end mark: the whole text"),
             Case(args=([101, 7, dot, 8, m, dot, 9, 102], 4, (dot,), 101, 102),
                  label="bert-base-uncased ids: [CLS] = 101, [SEP] = 102"),
             Case(args=([11, m, dot, 21, 22], 1, (dot, bang, ask), CLS, SEP),
                  label="plain ids without [CLS]/[SEP]: the sentence may start at index 0"),
             Case(args=([11, dot, 21, m], 3, (dot, bang, ask), CLS, SEP),
                  label="plain ids: the last sentence runs to the last token")]
    return run_check("Exercise 7a · own_sentence", fn, cases, reference=own_sentence,
                     comparator=lambda got, exp: _same_lists(got, exp),
                     hint="walk left from position while the previous token is not an end "
                          "mark (stop after [CLS]); walk right until you reach an end mark "
                          "(keep it) or the token before [SEP]; wrap the slice in [CLS] ... "
                          "[SEP] and shift the position by the tokens you dropped on the left "
                          "(+1 for the new [CLS]).")


def check_sentence_only_reading(fn: Callable[[], dict[str, float]], *,
                                reading: Callable[[Callable | None], float],
                                boundary_ids: Sequence[int], cls_id: int,
                                sep_id: int) -> CheckResult:
    """Exercise 7b: the stance-reading AUC with the whole review vs the word's own sentence.

    ``reading(view)`` is the notebook's measurement (``view=None``: the whole review); the
    checker runs it once with the reference ``own_sentence`` to know the expected value.
    """
    whole = float(reading(None))
    cut = float(reading(lambda ids, j: own_sentence(ids, j, boundary_ids, cls_id, sep_id)))

    def prop(out: object) -> tuple[bool, str]:
        keys = {"whole review", "own sentence"}
        if not isinstance(out, dict) or set(out) != keys:
            return False, f"a dict with exactly the keys {sorted(keys)}"
        for key, expected in (("whole review", whole), ("own sentence", cut)):
            value = out[key]
            if not isinstance(value, (int, float)) or abs(float(value) - expected) > 1e-9:
                return False, f"out[{key!r}] == {expected:.4f}, got {value!r}"
        return True, ""

    return run_check("Exercise 7b · sentence_only_reading", fn,
                     [Case(label="your measurement", check=prop)],
                     hint="stance_reading(course_mlm, view=...)['MLM AUC'] where the view calls "
                          "your own_sentence with the end-mark ids of the course tokenizer "
                          "('.', '!', '?') and its [CLS]/[SEP] ids; 'whole review' is the same "
                          "call without a view.")
