"""Byte-pair encoding (BPE): the teaching version, and a trained Hugging Face tokenizer (chapter 02).

BPE (Sennrich et al., 2016) starts from single symbols and repeatedly merges the most
frequent adjacent pair into a new symbol:

* ``word_frequencies`` -> ``pair_counts`` -> ``merge_pair`` -> ``train_bpe`` (character level,
  with an end-of-word marker ``</w>``; merges and vocabulary shown step by step), and
  ``bpe_encode_word`` to segment a word with learned merges ("lowest" -> "low", "est</w>");
* ``ByteLevelBPE``: the same algorithm on the **bytes** of UTF-8 text (GPT-2's idea): the
  256 byte values are the base vocabulary, so any string can be encoded -- no ``[UNK]``;
* ``train_bytelevel_bpe``: the production version with the ``tokenizers`` library (Rust),
  wrapped as a ``transformers`` ``PreTrainedTokenizerFast`` (``<|endoftext|>`` as EOS/BOS/PAD);
  ``encode_stream`` concatenates documents into one id stream for language modelling;
* ``train_wordpiece`` (chapter 03): BERT's WordPiece tokenizer (lower-cased, ``##``
  continuation pieces, ``[PAD] [UNK] [CLS] [SEP] [MASK]`` = ids 0-4, ``[CLS] A [SEP] B [SEP]``
  templates with token type ids), trained with ``tokenizers`` and wrapped for ``transformers``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from course_utils.validation import check_int, check_type

__all__ = ["END_OF_WORD", "word_frequencies", "pair_counts", "merge_pair", "BPEResult",
           "train_bpe", "bpe_encode_word", "PRETOKENIZE_PATTERN", "pretokenize", "ByteLevelBPE",
           "EOT", "train_bytelevel_bpe", "encode_stream", "BERT_SPECIAL_TOKENS",
           "train_wordpiece", "save_wordpiece_vocab", "load_wordpiece"]

END_OF_WORD = "</w>"
EOT = "<|endoftext|>"  # GPT-2's document separator; our EOS, BOS and PAD token

Word = tuple[Hashable, ...]


# ---------------------------------------------------------------------------------------
# Character-level BPE on a word-frequency table (the classic algorithm)
# ---------------------------------------------------------------------------------------
def word_frequencies(texts: Iterable[str], *, lowercase: bool = False,
                     end_of_word: str | None = END_OF_WORD) -> dict[Word, int]:
    """{("l", "o", "w", "</w>"): 5, ...}: whitespace-separated words as symbol tuples."""
    counts: Counter[str] = Counter()
    for text in texts:
        check_type("text", text, str)
        counts.update((text.lower() if lowercase else text).split())
    tail = (end_of_word,) if end_of_word else ()
    return {tuple(word) + tail: n for word, n in counts.items()}


def pair_counts(word_freqs: dict[Word, int]) -> Counter:
    """How often each adjacent symbol pair occurs, weighted by word frequency."""
    pairs: Counter = Counter()
    for word, freq in word_freqs.items():
        for pair in zip(word, word[1:]):
            pairs[pair] += freq
    return pairs


def merge_pair(word_freqs: dict[Word, int], pair: tuple[Hashable, Hashable],
               new_symbol: Hashable | None = None) -> dict[Word, int]:
    """Replace every occurrence of ``pair`` (left to right, no overlaps) by one symbol.

    The new symbol is ``pair[0] + pair[1]`` (strings or bytes concatenate) unless given.
    """
    if not (isinstance(pair, tuple) and len(pair) == 2):
        raise ValueError(f"pair must be a tuple of two symbols, got {pair!r}")
    first, second = pair
    merged = first + second if new_symbol is None else new_symbol
    out: dict[Word, int] = {}
    for word, freq in word_freqs.items():
        if first in word:
            symbols, i = [], 0
            while i < len(word):
                if i + 1 < len(word) and word[i] == first and word[i + 1] == second:
                    symbols.append(merged)
                    i += 2
                else:
                    symbols.append(word[i])
                    i += 1
            word = tuple(symbols)
        out[word] = out.get(word, 0) + freq
    return out


@dataclass
class BPEResult:
    """Learned merges (in order), the final segmentation table and a log of every step."""

    merges: list[tuple[Hashable, Hashable]]
    word_freqs: dict[Word, int]
    history: list[dict[str, Any]] = field(default_factory=list)  # pair, count, n_symbols

    def vocabulary(self) -> set[Hashable]:
        """Every symbol used by the final segmentation."""
        return {s for word in self.word_freqs for s in word}


def train_bpe(word_freqs: dict[Word, int], num_merges: int, *, min_count: int = 2) -> BPEResult:
    """Merge the most frequent pair ``num_merges`` times (stops early below ``min_count``).

    Ties are broken by the first pair in count order (deterministic: pairs are counted in
    the word table's insertion order).
    """
    check_int("num_merges", num_merges, min_value=0)
    check_int("min_count", min_count, min_value=1)
    merges, history = [], []
    for _ in range(num_merges):
        pairs = pair_counts(word_freqs)
        if not pairs:
            break
        best, count = max(pairs.items(), key=lambda item: item[1])  # first maximum wins
        if count < min_count:
            break
        word_freqs = merge_pair(word_freqs, best)
        merges.append(best)
        history.append({"pair": best, "count": count,
                        "n_symbols": len({s for w in word_freqs for s in w})})
    return BPEResult(merges, word_freqs, history)


def bpe_encode_word(word: str | Sequence[Hashable], merges: Sequence[tuple[Hashable, Hashable]],
                    *, end_of_word: str | None = END_OF_WORD) -> list[Hashable]:
    """Segment one word: apply the learned merges, earliest-learned first (GPT-2's rule)."""
    symbols = list(word) + ([end_of_word] if end_of_word and isinstance(word, str) else [])
    rank = {pair: i for i, pair in enumerate(merges)}
    while len(symbols) > 1:
        pairs = [(rank.get(p, len(rank)), i) for i, p in enumerate(zip(symbols, symbols[1:]))]
        best_rank, i = min(pairs)
        if best_rank == len(rank):
            break  # no learned merge applies
        symbols[i:i + 2] = [symbols[i] + symbols[i + 1]]
    return symbols


# ---------------------------------------------------------------------------------------
# Byte-level BPE (GPT-2's variant), still in plain Python
# ---------------------------------------------------------------------------------------
#: Split text into word-like chunks before BPE (a simplification of GPT-2's pattern):
#: contractions, an optional space + letters / digits / other symbols, whitespace.
PRETOKENIZE_PATTERN = re.compile(
    r"'(?:s|t|re|ve|m|ll|d)| ?[^\W\d_]+| ?\d+| ?[^\s\w]+|\s+(?!\S)|\s+")


def pretokenize(text: str) -> list[str]:
    """Chunks that BPE merges within (never across): ``"I'm here." -> ["I", "'m", " here", "."]``."""
    check_type("text", text, str)
    return PRETOKENIZE_PATTERN.findall(text)


class ByteLevelBPE:
    """BPE over UTF-8 bytes: ids 0-255 are the bytes, merges add ids 256, 257, ...

    ``train(texts, num_merges)`` learns merges from pre-tokenized chunks; ``encode`` maps
    any string to ids (every byte is in the base vocabulary, so there is no unknown token);
    ``decode`` inverts it exactly.
    """

    def __init__(self) -> None:
        self.merges: list[tuple[bytes, bytes]] = []
        self.vocab: list[bytes] = [bytes([b]) for b in range(256)]  # id -> bytes
        self.history: list[dict[str, Any]] = []
        self._ids = {tok: i for i, tok in enumerate(self.vocab)}
        self._rank: dict[tuple[bytes, bytes], int] = {}

    def __len__(self) -> int:
        return len(self.vocab)

    def train(self, texts: Iterable[str], num_merges: int, *, min_count: int = 2
              ) -> "ByteLevelBPE":
        """Learn ``num_merges`` merges (fewer if no pair occurs ``min_count`` times)."""
        chunks: Counter[str] = Counter()
        for text in texts:
            chunks.update(pretokenize(text))
        table = {tuple(bytes([b]) for b in chunk.encode("utf-8")): n for chunk, n in chunks.items()}
        result = train_bpe(table, num_merges, min_count=min_count)
        self.merges = list(result.merges)
        self.vocab = [bytes([b]) for b in range(256)] + [a + b for a, b in self.merges]
        self.history = result.history
        self._ids = {tok: i for i, tok in enumerate(self.vocab)}
        self._rank = {pair: i for i, pair in enumerate(self.merges)}
        return self

    def _encode_chunk(self, chunk: str) -> list[int]:
        symbols = [bytes([b]) for b in chunk.encode("utf-8")]
        while len(symbols) > 1:
            best = min(range(len(symbols) - 1),
                       key=lambda i: self._rank.get((symbols[i], symbols[i + 1]), 1 << 60))
            if (symbols[best], symbols[best + 1]) not in self._rank:
                break
            symbols[best:best + 2] = [symbols[best] + symbols[best + 1]]
        return [self._ids[s] for s in symbols]

    def encode(self, text: str) -> list[int]:
        """Token ids of ``text`` (any Unicode string)."""
        return [i for chunk in pretokenize(text) for i in self._encode_chunk(chunk)]

    def decode(self, ids: Sequence[int]) -> str:
        """Text of ``ids`` (bytes joined, then decoded as UTF-8)."""
        for i in ids:
            check_int("id", i, min_value=0, max_value=len(self.vocab) - 1)
        return b"".join(self.vocab[i] for i in ids).decode("utf-8", errors="replace")

    def tokens(self, text: str) -> list[str]:
        """The pieces of ``text`` as readable strings (a space shown as '␣')."""
        return [_show_bytes(self.vocab[i]) for i in self.encode(text)]


def _show_bytes(piece: bytes) -> str:
    """A byte string as text, a space as '␣'; bytes that are not whole UTF-8 chars as <e7>."""
    try:
        return piece.decode("utf-8").replace(" ", "␣")
    except UnicodeDecodeError:
        return "".join(f"<{b:02x}>" for b in piece)


# ---------------------------------------------------------------------------------------
# The production version: Hugging Face tokenizers
# ---------------------------------------------------------------------------------------
def train_bytelevel_bpe(texts: Iterable[str], vocab_size: int, *, min_frequency: int = 2,
                        special_tokens: Sequence[str] = (EOT,), model_max_length: int = 1024
                        ) -> Any:
    """Train a GPT-2-style byte-level BPE with ``tokenizers``; return a ``PreTrainedTokenizerFast``.

    The 256 byte symbols (shown as printable characters, a space as ``Ġ``) are always in
    the vocabulary; ``special_tokens[0]`` (default ``<|endoftext|>``, id 0) is used as EOS,
    BOS and PAD. ``vocab_size`` counts the specials, the 256 bytes and the merges.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    specials = list(special_tokens)
    check_int("vocab_size", vocab_size, min_value=256 + len(specials))
    check_int("min_frequency", min_frequency, min_value=1)
    if not specials:
        raise ValueError("special_tokens must hold at least the end-of-text token")
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    trainer = trainers.BpeTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                  special_tokens=specials, show_progress=False,
                                  initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tok.train_from_iterator(texts, trainer)
    eot = specials[0]
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token=eot, bos_token=eot,
                                   pad_token=eot, model_max_length=model_max_length)


def encode_stream(tokenizer: Any, texts: Sequence[str], *, eos: bool = True) -> torch.Tensor:
    """All ``texts`` as one 1-D LongTensor of ids, each followed by the EOS id (GPT-2 style)."""
    if isinstance(texts, str):
        raise TypeError("texts must be a list of strings, not one string")
    eos_id = tokenizer.eos_token_id
    if eos and eos_id is None:
        raise ValueError("the tokenizer has no eos_token; pass eos=False or set one")
    ids: list[int] = []
    for encoded in tokenizer(list(texts), add_special_tokens=False)["input_ids"]:
        ids.extend(encoded)
        if eos:
            ids.append(eos_id)
    return torch.tensor(ids, dtype=torch.long)


# ---------------------------------------------------------------------------------------
# BERT's WordPiece (chapter 03)
# ---------------------------------------------------------------------------------------
#: BERT's special tokens, in id order (ids 0-4 of every WordPiece vocabulary trained here).
BERT_SPECIAL_TOKENS = ("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]")


def _bert_text_pipeline(tok: Any, lowercase: bool) -> None:
    """``bert-base-uncased``'s normaliser (lower-case, strip accents) and pre-tokenizer."""
    from tokenizers import normalizers, pre_tokenizers

    tok.normalizer = normalizers.BertNormalizer(lowercase=lowercase, strip_accents=lowercase,
                                                clean_text=True, handle_chinese_chars=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()


def _wordpiece_tokenizer(vocab: dict[str, int], *, lowercase: bool = True,
                         model_max_length: int = 512) -> Any:
    """BERT's pipeline around a WordPiece ``vocab`` {token: id}, as a ``PreTrainedTokenizerFast``."""
    from tokenizers import Tokenizer, decoders, models, processors
    from transformers import PreTrainedTokenizerFast

    pad, unk, cls, sep, mask = BERT_SPECIAL_TOKENS
    missing = [t for t in BERT_SPECIAL_TOKENS if t not in vocab]
    if missing:
        raise ValueError(f"the vocabulary lacks BERT's special tokens {missing}")
    tok = Tokenizer(models.WordPiece(vocab, unk_token=unk, continuing_subword_prefix="##"))
    _bert_text_pipeline(tok, lowercase)
    tok.decoder = decoders.WordPiece(prefix="##")
    tok.post_processor = processors.TemplateProcessing(
        single=f"{cls}:0 $A:0 {sep}:0", pair=f"{cls}:0 $A:0 {sep}:0 $B:1 {sep}:1",
        special_tokens=[(cls, vocab[cls]), (sep, vocab[sep])])
    return PreTrainedTokenizerFast(tokenizer_object=tok, pad_token=pad, unk_token=unk,
                                   cls_token=cls, sep_token=sep, mask_token=mask,
                                   model_max_length=model_max_length,
                                   model_input_names=["input_ids", "token_type_ids",
                                                      "attention_mask"])


def train_wordpiece(texts: Iterable[str], vocab_size: int, *, lowercase: bool = True,
                    min_frequency: int = 2, model_max_length: int = 512) -> Any:
    """Train a BERT WordPiece tokenizer with ``tokenizers``; return a ``PreTrainedTokenizerFast``.

    Normalisation as ``bert-base-uncased`` (lower-case, accents stripped), BERT's
    pre-tokenizer (split on whitespace and punctuation), ``##`` marks a piece that continues
    a word. Single texts become ``[CLS] A [SEP]``, pairs ``[CLS] A [SEP] B [SEP]`` with
    token type ids 0 for A (and its [CLS]/[SEP]) and 1 for B. Ids: specials 0-4, then the
    learned entries in sorted order. The trainer breaks ties between equally scored merges
    in hash-map order, so a few entries can differ between runs: use
    ``save_wordpiece_vocab`` / ``load_wordpiece`` to freeze one.
    """
    from tokenizers import Tokenizer, models, trainers

    check_int("vocab_size", vocab_size, min_value=len(BERT_SPECIAL_TOKENS) + 1)
    check_int("min_frequency", min_frequency, min_value=1)
    tok = Tokenizer(models.WordPiece(unk_token=BERT_SPECIAL_TOKENS[1],
                                     continuing_subword_prefix="##"))
    _bert_text_pipeline(tok, lowercase)
    trainer = trainers.WordPieceTrainer(vocab_size=vocab_size, min_frequency=min_frequency,
                                        special_tokens=list(BERT_SPECIAL_TOKENS),
                                        continuing_subword_prefix="##", show_progress=False)
    tok.train_from_iterator(texts, trainer)
    # The trainer's ids also depend on hash-map order; WordPiece encodes by longest match,
    # which ignores ids, so renumber them: specials first, then the entries sorted.
    learned = sorted(t for t in tok.get_vocab() if t not in BERT_SPECIAL_TOKENS)
    vocab = {t: i for i, t in enumerate([*BERT_SPECIAL_TOKENS, *learned])}
    return _wordpiece_tokenizer(vocab, lowercase=lowercase, model_max_length=model_max_length)


def save_wordpiece_vocab(tokenizer: Any, path: str | Path) -> Path:
    """Write the vocabulary one token per line in id order (BERT's ``vocab.txt`` format)."""
    path = Path(path)
    ordered = sorted(tokenizer.get_vocab().items(), key=lambda kv: kv[1])
    if [i for _, i in ordered] != list(range(len(ordered))):
        raise ValueError("token ids must be 0..V-1 without gaps to be saved as vocab.txt")
    path.write_text("\n".join(t for t, _ in ordered) + "\n", encoding="utf-8")
    return path


def load_wordpiece(path: str | Path, *, lowercase: bool = True, model_max_length: int = 512
                   ) -> Any:
    """A BERT WordPiece tokenizer from a ``vocab.txt`` (one token per line, line number = id)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no WordPiece vocabulary at {path}; create one with "
                                f"save_wordpiece_vocab(train_wordpiece(...), path)")
    tokens = path.read_text(encoding="utf-8").split("\n")
    if tokens and tokens[-1] == "":
        tokens.pop()
    vocab = {t: i for i, t in enumerate(tokens)}
    if len(vocab) != len(tokens):
        raise ValueError(f"{path} lists a token twice; expected one unique token per line")
    return _wordpiece_tokenizer(vocab, lowercase=lowercase, model_max_length=model_max_length)
