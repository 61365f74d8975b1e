"""Text augmentation, as taught in chapter 06 (``notebooks/06_data_augmentation.ipynb``).

* EDA (Wei & Zou 2019) on word lists: ``synonym_replacement`` (WordNet), ``random_insertion``,
  ``random_deletion`` (never returns an empty list for a non-empty input), ``random_swap``
  (keeps the multiset of words). Every operation takes a ``random.Random`` and returns a
  new list, so the same seed gives the same output and the input is never changed.
* Noise: ``char_noise`` (typos: swap, drop, repeat or replace a letter) and ``token_dropout``
  (words replaced by ``<unk>``).
* Contextual replacement with a masked language model (``contextual_replacement``).
* Mixup on vectors (``mixup``, ``mixup_loss``).
* An on-the-fly ``AugmentedDataset`` and the word-level ``WordVocab`` it encodes with.

WordNet is read through NLTK from the tree that ``make setup`` installs
(``course_utils._maintain.wordnet``); ``wordnet()`` raises a clear error if it is missing.
"""

from __future__ import annotations

import random
import re
import warnings
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import torch
import torch.nn.functional as F
from torch.utils.data import Dataset

from course_utils.validation import check_float, check_int, check_type

__all__ = ["tokenize", "detokenize", "wordnet", "synonyms", "synonym_replacement",
           "random_insertion", "random_deletion", "random_swap", "eda", "char_noise",
           "token_dropout", "contextual_replacement", "mixup", "mixup_loss", "WordVocab",
           "AugmentedDataset", "collate_padded", "NEGATIONS", "STOPWORDS", "WORDNET_POS"]

# Words that flip or weaken what follows them. Augmentations that must keep the label
# leave these alone (the chapter measures what happens when they do not).
NEGATIONS = frozenset({
    "not", "no", "never", "nothing", "nobody", "none", "neither", "nor", "nowhere", "hardly",
    "barely", "scarcely", "without", "n't", "cannot", "can't", "don't", "doesn't", "didn't",
    "isn't", "aren't", "wasn't", "weren't", "won't", "wouldn't", "couldn't", "shouldn't",
    "haven't", "hasn't", "hadn't", "ain't", "dont", "doesnt", "didnt", "isnt", "wasnt", "cant",
    "wont", "wouldnt", "couldnt"})
# Function words EDA never replaces with synonyms (a short list; nltk's needs a download).
STOPWORDS = frozenset("""a an the and or but if then so than that this these those there here
it its it's i i'd i'm i've me my we our you your he him his she her they them their is are was
were be been being am do does did have has had having to of in on at by for with from as into
about over after before under again once all any both each few more most other some such only
own same too very s t just can will would should could may might must up down out off what
which who whom when where why how also yet just really""".split()) | NEGATIONS
WORDNET_POS = {"n": "noun", "v": "verb", "a": "adjective (incl. satellites)", "r": "adverb"}
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]")


def tokenize(text: str) -> list[str]:
    """Lower-cased words (``isn't`` stays one word) and punctuation marks."""
    check_type("text", text, str)
    return _TOKEN.findall(text.lower())


def detokenize(words: Sequence[str]) -> str:
    """Words joined by spaces, without a space before punctuation."""
    return re.sub(r" ([.,!?;:)])", r"\1", " ".join(words))


# --- WordNet --------------------------------------------------------------------------------
@lru_cache(maxsize=1)
def wordnet() -> Any:
    """NLTK's WordNet reader, loaded from the project's ``nltk_data`` tree.

    Raises ``RuntimeError`` with the fix if WordNet is not installed (no silent fallback:
    synonym replacement without a thesaurus would be a different augmentation).
    """
    from course_utils._maintain.wordnet import default_destination, installed

    import nltk

    dest = default_destination()
    if installed(dest) and str(dest) not in nltk.data.path:
        nltk.data.path.insert(0, str(dest))
    from nltk.corpus import wordnet as wn

    try:
        with warnings.catch_warnings():  # "multilingual functions are not available": no OMW here
            warnings.filterwarnings("ignore", message=".*multilingual functions.*")
            wn.ensure_loaded()
    except LookupError as err:
        raise RuntimeError(
            "WordNet is not installed for NLTK. `make setup` installs it offline from the "
            "Debian packages wordnet-base + wordnet-sense-index; or run "
            "`python -m course_utils._maintain.wordnet` (it says what failed).") from err
    return wn


@lru_cache(maxsize=100_000)
def synonyms(word: str, pos: str | None = None) -> tuple[str, ...]:
    """WordNet synonyms of ``word`` (lemma names of its synsets), sorted, without the word.

    ``pos`` in ``WORDNET_POS`` keeps only synsets of that part of speech (``"a"`` includes
    satellite adjectives). Multi-word lemmas come back with spaces (``"well_known"`` ->
    ``"well known"``). Sorted, so the choice among them depends only on the random seed.
    """
    check_type("word", word, str)
    if pos is not None and pos not in WORDNET_POS:
        raise ValueError(f"pos must be one of {sorted(WORDNET_POS)} or None, got {pos!r}")
    word = word.lower()
    found = set()
    for synset in wordnet().synsets(word, pos=pos):
        for lemma in synset.lemmas():
            name = lemma.name().replace("_", " ").lower()
            if name != word:
                found.add(name)
    return tuple(sorted(found))


def _check_words(words: Any) -> list[str]:
    if not isinstance(words, (list, tuple)) or not all(isinstance(w, str) for w in words):
        raise TypeError(f"words must be a list of strings, got {type(words).__name__}")
    return list(words)


def _check_rng(rng: Any) -> random.Random:
    if not isinstance(rng, random.Random):
        raise TypeError("rng must be a random.Random (e.g. random.Random(0)), so that the same "
                        f"seed gives the same output; got {type(rng).__name__}")
    return rng


def synonym_replacement(words: Sequence[str], n: int, rng: random.Random,
                        stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """Replace ``n`` distinct non-stopwords (every occurrence) by a random WordNet synonym."""
    words = _check_words(words)
    check_int("n", n, min_value=0)
    rng = _check_rng(rng)
    candidates = list(dict.fromkeys(w for w in words if w not in stopwords and synonyms(w)))
    rng.shuffle(candidates)
    out = words[:]
    for word in candidates[:n]:
        choice = rng.choice(synonyms(word))
        out = [choice if w == word else w for w in out]
    return " ".join(out).split(" ") if out else out  # multi-word synonyms become words


def random_insertion(words: Sequence[str], n: int, rng: random.Random,
                     stopwords: frozenset[str] = STOPWORDS) -> list[str]:
    """Insert a synonym of a random non-stopword at a random position, ``n`` times."""
    words = _check_words(words)
    check_int("n", n, min_value=0)
    rng = _check_rng(rng)
    out = words[:]
    candidates = [w for w in dict.fromkeys(words) if w not in stopwords and synonyms(w)]
    if not candidates:
        return out
    for _ in range(n):
        new = rng.choice(synonyms(rng.choice(candidates))).split(" ")
        position = rng.randint(0, len(out))
        out[position:position] = new
    return out


def random_deletion(words: Sequence[str], p: float, rng: random.Random,
                    keep: frozenset[str] = frozenset()) -> list[str]:
    """Delete each word with probability ``p``; never returns ``[]`` for a non-empty input.

    Words in ``keep`` are never deleted. If every word was deleted, one random word of the
    input survives (EDA's rule).
    """
    words = _check_words(words)
    check_float("p", p, min_value=0.0, max_value=1.0)
    rng = _check_rng(rng)
    if not words:
        return []
    out = [w for w in words if w in keep or rng.random() >= p]
    return out if out else [rng.choice(words)]


def random_swap(words: Sequence[str], n: int, rng: random.Random) -> list[str]:
    """Swap two distinct random positions, ``n`` times (the multiset of words is kept)."""
    words = _check_words(words)
    check_int("n", n, min_value=0)
    rng = _check_rng(rng)
    out = words[:]
    if len(out) < 2:
        return out
    for _ in range(n):
        i, j = rng.sample(range(len(out)), 2)
        out[i], out[j] = out[j], out[i]
    return out


EDA_OPS = ("synonym", "insertion", "deletion", "swap")


def eda(words: Sequence[str], op: str, alpha: float, rng: random.Random) -> list[str]:
    """One EDA operation with strength ``alpha``: n = max(1, round(alpha * len)) or p = alpha."""
    words = _check_words(words)
    check_float("alpha", alpha, min_value=0.0, max_value=1.0)
    n = max(1, round(alpha * len(words)))
    if op == "synonym":
        return synonym_replacement(words, n, rng)
    if op == "insertion":
        return random_insertion(words, n, rng)
    if op == "deletion":
        return random_deletion(words, alpha, rng)
    if op == "swap":
        return random_swap(words, n, rng)
    raise ValueError(f"op must be one of {EDA_OPS}, got {op!r}")


# --- noise ----------------------------------------------------------------------------------
_LETTERS = "abcdefghijklmnopqrstuvwxyz"


def char_noise(words: Sequence[str], p: float, rng: random.Random,
               keep: frozenset[str] = NEGATIONS) -> list[str]:
    """Give each word (of 3+ letters, not in ``keep``) a typo with probability ``p``.

    A typo swaps two neighbouring letters, drops one, doubles one or replaces one.
    """
    words = _check_words(words)
    check_float("p", p, min_value=0.0, max_value=1.0)
    rng = _check_rng(rng)
    out = []
    for w in words:
        if len(w) >= 3 and w.isalpha() and w not in keep and rng.random() < p:
            i = rng.randrange(len(w) - 1)
            kind = rng.randrange(4)
            if kind == 0:
                w = w[:i] + w[i + 1] + w[i] + w[i + 2:]
            elif kind == 1:
                w = w[:i] + w[i + 1:]
            elif kind == 2:
                w = w[:i] + w[i] + w[i:]
            else:
                w = w[:i] + rng.choice(_LETTERS) + w[i + 1:]
        out.append(w)
    return out


def token_dropout(words: Sequence[str], p: float, rng: random.Random,
                  unk: str = "<unk>") -> list[str]:
    """Replace each word by ``unk`` with probability ``p`` (the length is kept)."""
    words = _check_words(words)
    check_float("p", p, min_value=0.0, max_value=1.0)
    rng = _check_rng(rng)
    return [unk if rng.random() < p else w for w in words]


# --- contextual replacement with a masked language model -------------------------------------
@torch.no_grad()
def contextual_replacement(texts: Sequence[str], model: Any, tokenizer: Any, p: float,
                           rng: random.Random, top_k: int = 10,
                           keep: frozenset[str] = NEGATIONS) -> list[str]:
    """Mask a share ``p`` of the whole words of each text and let an MLM fill them in.

    Only words that are one WordPiece and not in ``keep`` are masked; each is replaced by
    a sample from the model's top-``top_k`` predictions other than the original word.
    ``model`` is a Hugging Face ``*ForMaskedLM`` in eval mode (it returns ``.logits``).
    """
    check_float("p", p, min_value=0.0, max_value=1.0)
    rng = _check_rng(rng)
    word_lists = [tokenize(t) for t in texts]
    encoded, masked_at = [], []
    for words in word_lists:
        pieces = [tokenizer.convert_tokens_to_ids(tokenizer.tokenize(w)) for w in words]
        ids, spots = [tokenizer.cls_token_id], []
        for w, piece in zip(words, pieces):
            if len(piece) == 1 and w.isalpha() and w not in keep and rng.random() < p:
                spots.append((len(ids), piece[0]))
                ids.append(tokenizer.mask_token_id)
            else:
                ids.extend(piece)
        ids.append(tokenizer.sep_token_id)
        encoded.append(ids)
        masked_at.append(spots)
    width = max(len(ids) for ids in encoded)
    batch = torch.full((len(encoded), width), tokenizer.pad_token_id)
    for row, ids in enumerate(encoded):
        batch[row, :len(ids)] = torch.tensor(ids)
    logits = model(input_ids=batch, attention_mask=(batch != tokenizer.pad_token_id).long()).logits
    special = set(tokenizer.all_special_ids)
    out = []
    for row, (ids, spots) in enumerate(zip(encoded, masked_at)):
        for position, original in spots:
            top = logits[row, position].topk(top_k + len(special) + 1).indices.tolist()
            choices = [t for t in top if t != original and t not in special
                       and not tokenizer.convert_ids_to_tokens(t).startswith("##")][:top_k]
            ids[position] = rng.choice(choices) if choices else original
        out.append(_tidy(tokenizer.decode(ids[1:-1]).replace(" ##", "")))
    return out


def _tidy(text: str) -> str:
    """Undo WordPiece decoding's spaces around punctuation ("it ' s ." -> "it's.")."""
    text = re.sub(r" ?' ?", "'", text)
    text = re.sub(r" ?- ?", "-", text)
    return re.sub(r" ([.,!?;:)])", r"\1", text)


# --- mixup ----------------------------------------------------------------------------------
def mixup(x: torch.Tensor, y: torch.Tensor, lam: float, perm: torch.Tensor
          ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(lam * x + (1 - lam) * x[perm], y, y[perm])`` (Zhang et al. 2018)."""
    check_float("lam", float(lam), min_value=0.0, max_value=1.0)
    if perm.shape != (x.shape[0],):
        raise ValueError(f"perm must have shape ({x.shape[0]},), got {tuple(perm.shape)}")
    return lam * x + (1 - lam) * x[perm], y, y[perm]


def mixup_loss(logits: torch.Tensor, y_a: torch.Tensor, y_b: torch.Tensor,
               lam: float) -> torch.Tensor:
    """``lam * CE(logits, y_a) + (1 - lam) * CE(logits, y_b)`` (batch mean).

    Equal to the cross-entropy against the mixed one-hot target ``lam e_a + (1 - lam) e_b``.
    """
    return lam * F.cross_entropy(logits, y_a) + (1 - lam) * F.cross_entropy(logits, y_b)


# --- vocabulary, on-the-fly dataset ----------------------------------------------------------
@dataclass
class WordVocab:
    """Word ids with ``<pad>=0`` and ``<unk>=1``."""

    itos: list[str] = field(default_factory=lambda: ["<pad>", "<unk>"])

    def __post_init__(self) -> None:
        if self.itos[:2] != ["<pad>", "<unk>"]:
            raise ValueError(f"the first two words must be <pad>, <unk>, got {self.itos[:2]}")
        self.stoi = {w: i for i, w in enumerate(self.itos)}

    @classmethod
    def build(cls, token_lists: Iterable[Sequence[str]], min_count: int = 1) -> WordVocab:
        """Words seen at least ``min_count`` times, most frequent first (ties alphabetical)."""
        counts = Counter(w for words in token_lists for w in words)
        kept = sorted((w for w, c in counts.items() if c >= min_count and w not in
                       ("<pad>", "<unk>")), key=lambda w: (-counts[w], w))
        return cls(["<pad>", "<unk>", *kept])

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, words: Sequence[str]) -> list[int]:
        """Ids of ``words`` (unknown words -> 1)."""
        return [self.stoi.get(w, 1) for w in words]


class AugmentedDataset(Dataset):
    """Token lists + labels; ``augment(words, rng)`` is applied *when an item is read*.

    ``encode(words)`` turns the words into the model's input (e.g. ``vocab.encode``).

    Each read of item ``i`` draws a new augmentation from ``random.Random(f"{seed}:{i}:{k}")``
    (``k`` counts the reads of ``i``), so an epoch sees fresh variants and a run with the
    same seed sees the same ones, whatever the order of reads. With probability
    ``1 - p_augment`` the original is returned.
    """

    def __init__(self, token_lists: Sequence[Sequence[str]], labels: Sequence[int],
                 encode: Callable[[list[str]], Any],
                 augment: Callable[[list[str], random.Random], list[str]] | None = None,
                 p_augment: float = 1.0, seed: int = 0):
        if len(token_lists) != len(labels):
            raise ValueError(f"{len(token_lists)} texts but {len(labels)} labels")
        check_float("p_augment", p_augment, min_value=0.0, max_value=1.0)
        self.token_lists = [list(t) for t in token_lists]
        self.labels = [int(y) for y in labels]
        self.encode, self.augment, self.p_augment, self.seed = encode, augment, p_augment, seed
        self.reads = [0] * len(self.token_lists)
        self._encoded: dict[int, Any] = {}  # encode(original words), computed once per item

    def __len__(self) -> int:
        return len(self.token_lists)

    def _draw(self, index: int) -> list[str] | None:
        """The augmented words of this read of ``index``, or None for the original."""
        rng = random.Random(f"{self.seed}:{index}:{self.reads[index]}")
        self.reads[index] += 1
        if self.augment is not None and rng.random() < self.p_augment:
            return self.augment(list(self.token_lists[index]), rng) or None
        return None

    def words(self, index: int) -> list[str]:
        """The (possibly augmented) words of item ``index``; counts as a read."""
        new = self._draw(index)
        return self.token_lists[index] if new is None else new

    def __getitem__(self, index: int) -> tuple[Any, int]:
        """``(encode(words), label)`` with freshly augmented words."""
        new = self._draw(index)
        if new is not None:
            return self.encode(new), self.labels[index]
        if index not in self._encoded:
            self._encoded[index] = self.encode(self.token_lists[index])
        return self._encoded[index], self.labels[index]


def collate_padded(batch: Sequence[tuple[Sequence[int], int]]
                   ) -> tuple[torch.Tensor, torch.Tensor]:
    """Pad ``(ids, label)`` items into ``(ids (B, T), labels (B,))`` with ``<pad>=0``."""
    ids = torch.nn.utils.rnn.pad_sequence([torch.as_tensor(b[0]) for b in batch],
                                          batch_first=True)
    return ids, torch.tensor([b[1] for b in batch])
