"""The committed pretrained course encoder (data/pretrained/course-bert-reviews)."""

import json
from dataclasses import asdict

import pytest
import torch

from course_utils.mlm import MLMBatches, accuracy_by_replacement, unigram_baseline
from course_utils.models.bert import (COURSE_ENCODER_DIR, PRESETS, BertForMaskedLM,
                                      load_course_encoder)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_files_are_small_and_reproduce_the_config():
    files = {p.name: p.stat().st_size for p in COURSE_ENCODER_DIR.iterdir()}
    assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json",
            "metrics.json", "README.md"} <= set(files)
    assert sum(files.values()) < 8_000_000
    hf = json.loads((COURSE_ENCODER_DIR / "config.json").read_text())
    ours = PRESETS["course-encoder"]
    assert hf["vocab_size"] == ours.vocab_size and hf["hidden_size"] == ours.hidden_size
    assert hf["num_hidden_layers"] == ours.num_hidden_layers
    assert hf["num_attention_heads"] == ours.num_attention_heads
    assert hf["max_position_embeddings"] == ours.max_position_embeddings
    metrics = json.loads((COURSE_ENCODER_DIR / "metrics.json").read_text())
    assert metrics["config"] == asdict(ours)
    assert metrics["mlm_acc_all"] > 2 * metrics["unigram_acc"]
    assert metrics["mlm_acc_mask"] > metrics["baseline_mask"]
    readme = (COURSE_ENCODER_DIR / "README.md").read_text()
    assert f"{metrics['mlm_acc_all']:.1%}" in readme and "tools/pretrain_course_bert.py" in readme


def test_loads_like_a_checkpoint_and_beats_unigram_on_validation_reviews():
    from course_utils.data import load_reviews

    enc = load_course_encoder()
    assert enc.source == "local" and isinstance(enc.model, BertForMaskedLM)
    tok = enc.tokenizer
    assert tok.truncation_side == "left" and len(tok) == PRESETS["course-encoder"].vocab_size
    reviews = load_reviews()
    val = tok(list(reviews["validation"]["text"])[:200], truncation=True,
              max_length=64)["input_ids"]
    train = tok(list(reviews["train"]["text"])[:2000], truncation=True, max_length=64)["input_ids"]
    kw = dict(mask_id=tok.mask_token_id, pad_id=tok.pad_token_id, vocab_size=len(tok),
              special_ids=tok.all_special_ids)
    batches = [MLMBatches(val, 100, seed=99, **kw)(i) for i in range(2)]
    labels = torch.cat([b["labels"].flatten() for b in batches])
    top, unigram = unigram_baseline(train, labels, tok.all_special_ids)
    acc = accuracy_by_replacement(enc.model, batches, mask_id=tok.mask_token_id, guess_id=top)
    assert acc["all"] > 1.5 * unigram and acc["mask"] > acc["baseline_mask"]
    hf = load_course_encoder(hf=True).model
    ids = torch.tensor([val[0]])
    ours_logits, _ = enc.model(ids)
    assert torch.allclose(ours_logits, hf(input_ids=ids).logits, atol=1e-4)


def test_missing_folder_falls_back_to_a_random_model(tmp_path, capsys):
    enc = load_course_encoder(tmp_path / "nothing-here")
    assert enc.source == "fallback" and "randomly initialised" in capsys.readouterr().out
    assert enc.tokenizer.truncation_side == "left"
    assert enc.model.config.hidden_size == PRESETS["course-encoder"].hidden_size
