"""Character-level vocabularies: text <-> ids, with padding and special tokens.

``CharVocab.build(texts)`` collects every character; ids 0-3 are reserved for
``<pad>``, ``<bos>``, ``<eos>`` and ``<unk>``. ``encode_batch`` pads a list of strings into
a (B, T) LongTensor and returns the true lengths, the input every seq2seq model of the
course takes.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import torch

from course_utils.validation import check_int, check_type

__all__ = ["CharVocab", "LengthBucketBatches", "PAD", "BOS", "EOS", "UNK", "display_token"]

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
SPECIALS = (PAD, BOS, EOS, UNK)

# Shown instead of glyphs that the default matplotlib font (DejaVu Sans) cannot draw.
_GLOSSES = {"年": "nián", "月": "yuè", "日": "rì", "号": "hào", " ": "␣"}


@dataclass
class CharVocab:
    """A character vocabulary with ``<pad>=0, <bos>=1, <eos>=2, <unk>=3``."""

    itos: list[str] = field(default_factory=lambda: list(SPECIALS))

    def __post_init__(self) -> None:
        if list(self.itos[:4]) != list(SPECIALS):
            raise ValueError(f"the first four symbols must be {list(SPECIALS)}, got "
                             f"{self.itos[:4]}")
        if len(set(self.itos)) != len(self.itos):
            raise ValueError("symbols must be unique")
        self.stoi = {s: i for i, s in enumerate(self.itos)}

    @classmethod
    def build(cls, texts: Iterable[str]) -> CharVocab:
        """Every character of ``texts``, in sorted order, after the four specials."""
        chars: set[str] = set()
        for text in texts:
            check_type("text", text, str)
            chars.update(text)
        return cls(list(SPECIALS) + sorted(chars - set(SPECIALS)))

    pad_id = property(lambda self: 0, doc="id of <pad>")
    bos_id = property(lambda self: 1, doc="id of <bos>")
    eos_id = property(lambda self: 2, doc="id of <eos>")
    unk_id = property(lambda self: 3, doc="id of <unk>")

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, text: str, *, bos: bool = False, eos: bool = False) -> list[int]:
        """Ids of the characters of ``text`` (unknown ones map to <unk>)."""
        check_type("text", text, str)
        ids = [self.stoi.get(ch, self.unk_id) for ch in text]
        return ([self.bos_id] if bos else []) + ids + ([self.eos_id] if eos else [])

    def decode(self, ids: Sequence[int] | torch.Tensor, *, stop_at_eos: bool = True) -> str:
        """Text of ``ids``, skipping <pad>/<bos> and stopping at the first <eos>."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        out = []
        for i in ids:
            check_int("id", i, min_value=0, max_value=len(self) - 1)
            if i == self.eos_id and stop_at_eos:
                break
            if i in (self.pad_id, self.bos_id, self.eos_id):
                continue
            out.append(self.itos[i])
        return "".join(out)

    def encode_batch(self, texts: Sequence[str], *, bos: bool = False, eos: bool = False,
                     max_len: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """Pad the encoded ``texts`` into ``(ids (B, T), lengths (B,))``; T = longest."""
        if isinstance(texts, str):
            raise TypeError("texts must be a sequence of strings, got a single str")
        seqs = [self.encode(t, bos=bos, eos=eos) for t in texts]
        lengths = torch.tensor([len(s) for s in seqs], dtype=torch.long)
        width = max(lengths.tolist(), default=0)
        if max_len is not None:
            check_int("max_len", max_len, min_value=1)
            if width > max_len:
                raise ValueError(f"a text encodes to {width} ids, longer than max_len={max_len}")
            width = max_len
        ids = torch.full((len(seqs), width), self.pad_id, dtype=torch.long)
        for row, seq in enumerate(seqs):
            ids[row, : len(seq)] = torch.tensor(seq, dtype=torch.long)
        return ids, lengths

    def decode_batch(self, ids: torch.Tensor) -> list[str]:
        """``decode`` for every row of a (B, T) tensor."""
        check_type("ids", ids, torch.Tensor)
        if ids.ndim != 2:
            raise ValueError(f"ids must be 2-dimensional (B, T), got shape {tuple(ids.shape)}")
        return [self.decode(row) for row in ids.tolist()]

    def tokens(self, ids: Sequence[int] | torch.Tensor) -> list[str]:
        """The symbol of every id (specials included), e.g. for attention-map labels."""
        if isinstance(ids, torch.Tensor):
            ids = ids.tolist()
        return [self.itos[i] for i in ids]


def display_token(token: str) -> str:
    """A label matplotlib's default font can draw (CJK date markers become pinyin)."""
    check_type("token", token, str)
    if token in _GLOSSES:
        return _GLOSSES[token]
    if len(token) == 1 and ord(token) > 0x2FFF:  # CJK and beyond: not in DejaVu Sans
        return f"U+{ord(token):04X}"
    return token


class LengthBucketBatches:
    """``step -> indices`` of a batch whose sequences have similar lengths (less padding).

    Every epoch shuffles all examples, sorts each pool of ``pool_batches * batch_size``
    of them by length, cuts the pools into batches and shuffles the batches: every
    example appears once per epoch, and a batch holds neighbours in length. The result
    depends only on ``(seed, step)``, so a resumed run sees the same batches.
    """

    def __init__(self, lengths: torch.Tensor, batch_size: int, *, seed: int = 0,
                 pool_batches: int = 50) -> None:
        check_type("lengths", lengths, torch.Tensor)
        if lengths.ndim != 1 or lengths.numel() == 0:
            raise ValueError(f"lengths must be a non-empty 1-D tensor, got shape "
                             f"{tuple(lengths.shape)}")
        check_int("batch_size", batch_size, min_value=1, max_value=lengths.numel())
        check_int("pool_batches", pool_batches, min_value=1)
        self.lengths, self.batch_size = lengths.long().cpu(), batch_size
        self.seed, self.pool = seed, pool_batches * batch_size
        self.per_epoch = lengths.numel() // batch_size  # the remainder is dropped each epoch
        self._epoch, self._batches = -1, []

    def _build(self, epoch: int) -> list[torch.Tensor]:
        gen = torch.Generator().manual_seed(self.seed * 100_003 + epoch)
        perm = torch.randperm(self.lengths.numel(), generator=gen)
        perm = perm[: self.per_epoch * self.batch_size]
        batches = []
        for start in range(0, perm.numel(), self.pool):
            pool = perm[start: start + self.pool]
            pool = pool[torch.argsort(self.lengths[pool], stable=True)]
            batches += list(pool.split(self.batch_size))
        order = torch.randperm(len(batches), generator=gen)
        return [batches[i] for i in order]

    def __len__(self) -> int:
        return self.per_epoch

    def __call__(self, step: int) -> torch.Tensor:
        """Indices (batch_size,) of the batch used at training step ``step`` (0-based)."""
        check_int("step", step, min_value=0)
        epoch, index = divmod(step, self.per_epoch)
        if epoch != self._epoch:
            self._epoch, self._batches = epoch, self._build(epoch)
        return self._batches[index]
