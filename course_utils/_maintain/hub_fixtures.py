"""A fixture Hub: tiny random models and datasets under the real repository ids.

The full profile loads ``openai-community/gpt2``, ``google-bert/bert-base-uncased``,
``google/vit-base-patch16-224``, ``distilbert/distilbert-base-uncased``,
``textattack/bert-base-uncased-imdb``, ``Helsinki-NLP/opus-mt-en-de``,
``Helsinki-NLP/opus-mt-de-en``, ``stanfordnlp/imdb`` and ``uoft-cs/cifar10`` from the Hugging Face Hub. This machine (and
CI) cannot reach it, so ``build(hf_home)`` writes stand-ins into a Hugging Face cache
folder, in the layout that ``from_pretrained`` and ``load_dataset`` read in offline mode:

* models: ``hub/models--ORG--NAME/refs/main`` + ``snapshots/<sha>/`` with a tiny randomly
  initialised model of the real architecture (``save_pretrained``, safetensors) and a
  working tokenizer or image processor;
* datasets: a prepared ``datasets`` cache (``datasets/ORG___NAME/plain_text/0.0.0/<hash>/``)
  with the real schema (IMDB: text/label, train/test/unsupervised; CIFAR-10: img/label,
  train/test), built from the course's reviews and from coloured noise.

Then ``COURSE_PROFILE=smoke COURSE_HUB_FIXTURES=<hf_home>`` runs every notebook through its
full-profile branches in seconds (``make test-smoke``). Nothing here is a real model: the
numbers such a run prints are meaningless; it proves that the code paths execute.
Built deterministically in a few seconds; not committed (``build/hub_fixtures``).
Usage: ``python -m course_utils._maintain.hub_fixtures [HF_HOME]``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

from course_utils.paths import repo_root

__all__ = ["MODEL_IDS", "DATASET_IDS", "build"]

SHA = "f1x7ure0" * 5  # the commit every fixture snapshot claims to be
MODEL_IDS = ("openai-community/gpt2", "google-bert/bert-base-uncased",
             "google/vit-base-patch16-224", "distilbert/distilbert-base-uncased",
             "textattack/bert-base-uncased-imdb", "Helsinki-NLP/opus-mt-en-de",
             "Helsinki-NLP/opus-mt-de-en")
DATASET_IDS = ("stanfordnlp/imdb", "uoft-cs/cifar10")
_STAMP = ".course-fixtures"


def _review_texts(n: int, split: str = "train") -> tuple[list[str], list[int]]:
    import pyarrow.parquet as pq

    table = pq.read_table(repo_root() / "data" / "reviews" / f"{split}.parquet",
                          columns=["text", "label"]).slice(0, n)
    return table.column("text").to_pylist(), table.column("label").to_pylist()


def _write_model(hf_home: Path, repo_id: str, save: Callable[[Path], None]) -> None:
    """Save a model (and its tokenizer) into the Hub cache layout under ``repo_id``."""
    repo = hf_home / "hub" / f"models--{repo_id.replace('/', '--')}"
    snapshot = repo / "snapshots" / SHA
    shutil.rmtree(repo, ignore_errors=True)
    snapshot.mkdir(parents=True)
    save(snapshot)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(SHA)


def _gpt2(out: Path) -> None:
    import torch
    from transformers import GPT2Config, GPT2LMHeadModel

    from course_utils.tokenization import train_bytelevel_bpe

    texts, _ = _review_texts(2000)
    tok = train_bytelevel_bpe(texts, 400)
    torch.manual_seed(0)
    model = GPT2LMHeadModel(GPT2Config(vocab_size=len(tok), n_positions=256, n_embd=32,
                                       n_layer=2, n_head=2, bos_token_id=tok.eos_token_id,
                                       eos_token_id=tok.eos_token_id))
    model.save_pretrained(out)
    tok.save_pretrained(out)


def _bert_tokenizer(out: Path) -> Any:
    from course_utils.tokenization import load_wordpiece

    tok = load_wordpiece(repo_root() / "data" / "reviews" / "wordpiece-2000.txt")
    tok.save_pretrained(out)
    return tok


def _bert(out: Path) -> None:
    import torch
    from transformers import BertConfig, BertForMaskedLM

    tok = _bert_tokenizer(out)
    torch.manual_seed(1)
    BertForMaskedLM(BertConfig(vocab_size=len(tok), hidden_size=32, num_hidden_layers=2,
                               num_attention_heads=2, intermediate_size=64,
                               max_position_embeddings=512,
                               pad_token_id=tok.pad_token_id)).save_pretrained(out)


def _bert_imdb(out: Path) -> None:
    import torch
    from transformers import BertConfig, BertForSequenceClassification

    tok = _bert_tokenizer(out)
    torch.manual_seed(4)
    BertForSequenceClassification(BertConfig(
        vocab_size=len(tok), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
        intermediate_size=64, max_position_embeddings=512, num_labels=2,
        pad_token_id=tok.pad_token_id)).save_pretrained(out)


def _distilbert(out: Path) -> None:
    import torch
    from transformers import DistilBertConfig, DistilBertForMaskedLM

    tok = _bert_tokenizer(out)
    torch.manual_seed(2)
    DistilBertForMaskedLM(DistilBertConfig(vocab_size=len(tok), dim=32, n_layers=2, n_heads=2,
                                           hidden_dim=64, max_position_embeddings=512,
                                           pad_token_id=tok.pad_token_id)).save_pretrained(out)


def _vit(out: Path) -> None:
    import torch
    from transformers import ViTConfig, ViTForImageClassification, ViTImageProcessor

    torch.manual_seed(3)
    config = ViTConfig(image_size=224, patch_size=16, hidden_size=32, num_hidden_layers=2,
                       num_attention_heads=2, intermediate_size=64, num_labels=10)
    ViTForImageClassification(config).save_pretrained(out)
    ViTImageProcessor(size={"height": 224, "width": 224}, image_mean=[0.5, 0.5, 0.5],
                      image_std=[0.5, 0.5, 0.5]).save_pretrained(out)


def _marian(out: Path) -> None:
    """A tiny MarianMT model with a real MarianTokenizer (SentencePiece models + vocab.json)."""
    import json

    import sentencepiece as spm
    import torch
    from transformers import MarianConfig, MarianMTModel, MarianTokenizer

    texts, _ = _review_texts(2000)
    with tempfile.TemporaryDirectory() as tmp:
        corpus = Path(tmp) / "corpus.txt"
        corpus.write_text("\n".join(texts), encoding="utf-8")
        spm.SentencePieceTrainer.train(
            input=str(corpus), model_prefix=str(Path(tmp) / "sp"), vocab_size=400,
            model_type="unigram", character_coverage=1.0, unk_id=0, bos_id=-1, eos_id=-1,
            pad_id=-1, minloglevel=2)
        for name in ("source.spm", "target.spm"):  # one model for both "languages"
            shutil.copyfile(Path(tmp) / "sp.model", out / name)
        pieces = [line.split("\t")[0] for line in
                  (Path(tmp) / "sp.vocab").read_text(encoding="utf-8").splitlines()]
    vocab = {"</s>": 0, "<unk>": 1}  # Marian's layout: eos 0, unk 1, ..., pad last
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    vocab["<pad>"] = len(vocab)
    (out / "vocab.json").write_text(json.dumps(vocab), encoding="utf-8")
    tok = MarianTokenizer(str(out / "source.spm"), str(out / "target.spm"), str(out / "vocab.json"))
    torch.manual_seed(5)
    MarianMTModel(MarianConfig(
        vocab_size=len(tok), d_model=32, encoder_layers=1, decoder_layers=1,
        encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64,
        decoder_ffn_dim=64, max_position_embeddings=512, pad_token_id=tok.pad_token_id,
        eos_token_id=tok.eos_token_id, decoder_start_token_id=tok.pad_token_id,
        forced_eos_token_id=tok.eos_token_id)).save_pretrained(out)
    tok.save_pretrained(out)


def _prepare_dataset(hf_home: Path, repo_id: str, splits: dict[str, Any], features: Any) -> None:
    """Write a prepared ``datasets`` cache for ``repo_id`` (config ``plain_text``)."""
    from datasets import Dataset
    from datasets.packaged_modules.parquet.parquet import Parquet

    name = repo_id.split("/")[1]
    cache = hf_home / "datasets"
    folder = cache / repo_id.replace("/", "___")
    shutil.rmtree(folder, ignore_errors=True)
    with tempfile.TemporaryDirectory() as tmp:
        files = {}
        for split, columns in splits.items():
            files[split] = str(Path(tmp) / f"{split}.parquet")
            Dataset.from_dict(columns, features=features).to_parquet(files[split])
        builder = Parquet(cache_dir=str(cache), dataset_name=repo_id.replace("/", "___"),
                          config_name="plain_text", data_files=files, hash="0" * 16,
                          features=features)
        builder.download_and_prepare()
    # offline, `load_dataset(repo_id)` looks for config "plain_text" and files "<name>-<split>"
    (config_dir,) = [p for p in folder.iterdir() if p.name.startswith("plain_text")]
    config_dir.rename(folder / "plain_text")
    for path in [*(folder / "plain_text").rglob("*"), *cache.glob(f"*{folder.name}*.lock")]:
        if path.suffix == ".lock":
            path.unlink()
        elif path.suffix == ".arrow":
            path.rename(path.with_name(path.name.replace(repo_id.replace("/", "___"), name)))


def _imdb(hf_home: Path) -> None:
    from datasets import ClassLabel, Features, Value

    def part(n: int, split: str, unlabelled: bool = False) -> dict[str, list]:
        texts, labels = _review_texts(n, split)
        # IMDB's reviews carry HTML line breaks; chapter 11 cleans them
        texts = [t.replace(". ", ". <br /><br />", 1) for t in texts]
        return {"text": texts, "label": [-1] * n if unlabelled else labels}

    features = Features({"text": Value("string"), "label": ClassLabel(names=["neg", "pos"])})
    _prepare_dataset(hf_home, "stanfordnlp/imdb",
                     {"train": part(400, "train"), "test": part(400, "test"),
                      "unsupervised": part(100, "validation", unlabelled=True)}, features)


def _cifar10(hf_home: Path) -> None:
    import numpy as np
    from datasets import ClassLabel, Features, Image

    from course_utils.data import CIFAR10_CLASSES

    rng = np.random.default_rng(0)
    colours = rng.uniform(0, 255, size=(10, 3))

    def part(n: int) -> dict[str, list]:
        from PIL import Image as PILImage

        labels = [i % 10 for i in range(n)]
        images = []
        for label in labels:  # class-coloured noise: learnable, but nothing like CIFAR
            pixels = colours[label] + rng.normal(0, 40, size=(32, 32, 3))
            images.append(PILImage.fromarray(pixels.clip(0, 255).astype(np.uint8)))
        return {"img": images, "label": labels}

    features = Features({"img": Image(), "label": ClassLabel(names=list(CIFAR10_CLASSES))})
    _prepare_dataset(hf_home, "uoft-cs/cifar10", {"train": part(600), "test": part(200)},
                     features)


def build(hf_home: str | Path, force: bool = False) -> Path:
    """Write every fixture model and dataset into ``hf_home``; returns it. Skips if current."""
    hf_home = Path(hf_home).resolve()
    stamp = hf_home / _STAMP
    source = Path(__file__).read_bytes()
    if not force and stamp.exists() and stamp.read_bytes() == source:
        return hf_home
    hf_home.mkdir(parents=True, exist_ok=True)
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    started = time.perf_counter()
    for repo_id, save in zip(MODEL_IDS, (_gpt2, _bert, _vit, _distilbert, _bert_imdb, _marian,
                                         _marian), strict=True):
        _write_model(hf_home, repo_id, save)
    _imdb(hf_home)
    _cifar10(hf_home)
    stamp.write_bytes(source)
    print(f"fixture Hub written to {hf_home} in {time.perf_counter() - started:.1f} s: "
          f"{', '.join(MODEL_IDS + DATASET_IDS)}")
    return hf_home


def main(argv: list[str] | None = None) -> int:
    """Command line: ``python -m course_utils._maintain.hub_fixtures [HF_HOME] [--force]``."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("hf_home", nargs="?", default=str(repo_root() / "build" / "hub_fixtures"))
    parser.add_argument("--force", action="store_true", help="rebuild even if up to date")
    args = parser.parse_args(argv)
    build(args.hf_home, force=args.force)
    return 0


if __name__ == "__main__":
    sys.exit(main())
