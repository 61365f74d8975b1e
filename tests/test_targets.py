"""Chapter targets (spec §10), asserted on the numbers the notebooks recorded.

Runs after the notebooks (``make test`` -> test-after) and reads
``$COURSE_RESULTS_DIR/<profile>/NN.json``. A chapter whose notebook exists but recorded
nothing fails: the notebook run did not reach its ``record(...)`` calls.
"""

from __future__ import annotations

import os
import operator

import pytest

from course_utils.catalog import CHAPTERS
from course_utils.notebooks import repo_root
from course_utils.results import load_results

pytestmark = pytest.mark.targets
PROFILE = os.environ.get("COURSE_PROFILE", "quick")
OPS = {"<=": operator.le, ">=": operator.ge, "==": operator.eq}

# (chapter, result name, operator, threshold, why) -- quick-profile targets.
TARGETS = [
    ("00", "runtime_s", "<=", 30.0, "chapter 00 runs in <= 30 s"),
    ("00", "env_ok", "==", True, "the environment check passes"),
    ("00", "scaling_fit_r2", ">=", 0.9, "the power law fits the measured losses"),
    ("01", "gru_attention_exact_match", ">=", 0.90, "attention GRU solves held-out dates"),
    ("01", "mha_parity_max_abs_diff", "<=", 1e-5, "our MHA == nn.MultiheadAttention"),
    ("01", "sdpa_parity_max_abs_diff", "<=", 1e-5, "our attention == F.sdpa"),
    ("01", "pe_relative_shift_max_err", "<=", 1e-4, "PE(p+k) is a linear map of PE(p)"),
    ("02", "gpt_vs_bigram_ratio", "<=", 0.8, "GPT val perplexity <= 0.8 x bigram"),
    ("02", "hf_parity_max_abs_diff", "<=", 1e-4, "our GPT == HF GPT2LMHeadModel"),
    ("02", "hf_greedy_match", "==", 1.0, "greedy generation identical to HF"),
    ("02", "beam1_equals_greedy", "==", 1.0, "beam search with width 1 == greedy"),
    ("02", "kv_cache_identical", "==", 1.0, "KV-cache generation == no-cache"),
    ("03", "hf_parity_max_abs_diff", "<=", 1e-4, "our BERT == HF BertForMaskedLM"),
    ("03", "mask_stats_max_dev_pp", "<=", 0.5, "masking within 0.5 pp of 15/80/10/10"),
    ("03", "mask_stats_tokens", ">=", 100_000, "mask statistics over >= 100k tokens"),
    ("03", "mlm_vs_unigram_ratio", ">=", 2.0, "masked top-1 >= 2x the unigram baseline"),
    # pretrained-[CLS] fine-tuning is recorded but not thresholded: it is unstable on 2,000
    # labels (seen anywhere from chance to 0.76 across small setup changes; see the notebook)
    ("03", "finetune_pretrained_mean_test_acc", ">=", 0.6, "fine-tuned sentiment above chance"),
    ("03", "finetune_scratch_cls_test_acc", ">=", 0.6, "from-scratch run recorded and trained"),
    ("04", "vit_test_acc", ">=", 0.95, "ViT on digits reaches 0.95 test accuracy"),
    ("04", "vit_train_seconds", "<=", 60.0, "within 60 s of training"),
    ("04", "hf_parity_max_abs_diff", "<=", 1e-4, "our ViT == HF ViTModel"),
    ("09", "optimizer_parity_max_abs_diff", "<=", 1e-6, "our optimizers == torch.optim"),
    ("09", "schedule_parity_max_abs_diff", "<=", 1e-9, "our schedules == torch/transformers"),
    ("09", "grad_accum_max_param_diff", "<=", 1e-5, "accumulation == the big batch"),
    ("09", "warmup_gain_nats", ">=", 0.1, "warmup makes a measurable difference"),
]
# the bottleneck: on long inputs attention beats the single-vector encoder by a wide margin
BOTTLENECK = ("01", "toy_reversal_long_attention", "toy_reversal_long_no_attention", 0.5)
if PROFILE == "quick":
    TARGETS += [(c.number, "runtime_s", "<=", 120.0, "every chapter runs in <= 120 s")
                for c in CHAPTERS if c.number != "00"]


def _available(chapter: str) -> bool:
    stem = next(c.stem for c in CHAPTERS if c.number == chapter)
    return (repo_root() / "notebooks" / "solutions" / f"{stem}.ipynb").exists()


@pytest.mark.skipif("COURSE_RESULTS_DIR" not in os.environ,
                    reason="needs COURSE_RESULTS_DIR from a notebook run (make test)")
@pytest.mark.parametrize("chapter,name,op,threshold,why", TARGETS,
                         ids=[f"{t[0]}-{t[1]}" for t in TARGETS])
def test_chapter_target(chapter, name, op, threshold, why):
    if not _available(chapter):
        pytest.skip(f"chapter {chapter} is not written yet")
    recorded = load_results(chapter, PROFILE)
    assert recorded, f"chapter {chapter} recorded nothing in {PROFILE} (did its notebook run?)"
    assert name in recorded, f"chapter {chapter} did not record {name!r}: {sorted(recorded)}"
    value = recorded[name]["value"]
    assert OPS[op](value, threshold), f"{why}: {name} = {value}, target {op} {threshold}"


@pytest.mark.skipif("COURSE_RESULTS_DIR" not in os.environ,
                    reason="needs COURSE_RESULTS_DIR from a notebook run (make test)")
def test_chapter01_bottleneck_is_visible():
    chapter, with_attn, without, margin = BOTTLENECK
    if not _available(chapter):
        pytest.skip("chapter 01 is not written yet")
    recorded = load_results(chapter, PROFILE)
    gap = recorded[with_attn]["value"] - recorded[without]["value"]
    assert gap >= margin, f"attention - no attention on long inputs = {gap:.3f} < {margin}"
