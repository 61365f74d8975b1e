"""Pretrain the course's small BERT on the reviews with MLM and save it in Hugging Face format.

The chapters that adapt a *pretrained* encoder (05 PEFT, 08 contrastive, 10 distillation,
11 the project) cannot download ``bert-base-uncased`` offline, and a notebook cannot afford
a long pretraining run. This script does that run once, deterministically, on one CPU core,
and writes ``data/pretrained/course-bert-reviews/``:

* ``model.safetensors`` + ``config.json``: a ``transformers.BertForMaskedLM`` (made with
  ``course_utils.models.bert.to_hf_bert``), loadable with ``from_pretrained``;
* ``tokenizer.json`` / ``tokenizer_config.json``: the frozen WordPiece vocabulary of
  ``data/reviews/wordpiece-<V>.txt`` with ``truncation_side="left"`` (classification keeps
  the end of a review, where the verdict is; pretraining uses the same truncation);
* ``metrics.json`` and ``README.md``: the command, steps, wall time, MLM accuracy (all
  selected tokens and [MASK]-only) against the unigram and copy baselines, and a frozen
  linear probe of sentiment against a randomly initialised encoder.

Run from the repository root (2,500 steps: about 35 minutes of wall time on a shared
2-core machine, where the process got roughly a third of a core)::

    OMP_NUM_THREADS=1 .venv/bin/python tools/pretrain_course_bert.py

``--measure`` times a few steps and exits (to choose ``--steps``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import asdict
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import torch  # noqa: E402

from course_utils.data import data_dir, load_reviews  # noqa: E402
from course_utils.mlm import (MLMBatches, accuracy_by_replacement, mlm_loss,  # noqa: E402
                              pad_batch, unigram_baseline)
from course_utils.models.bert import (COURSE_ENCODER_DIR, PRESETS, Bert,  # noqa: E402
                                      BertForMaskedLM, mean_pool, to_hf_bert)
from course_utils.optim import decay_param_groups  # noqa: E402
from course_utils.schedules import as_scheduler, warmup_cosine  # noqa: E402
from course_utils.tokenization import load_wordpiece  # noqa: E402
from course_utils.train import TrainConfig, train  # noqa: E402

PRESET = "course-encoder"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--out", default=str(COURSE_ENCODER_DIR), help="output folder")
    p.add_argument("--steps", type=int, default=2500, help="MLM optimizer steps")
    p.add_argument("--batch", type=int, default=64, help="reviews per step")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate (AdamW)")
    p.add_argument("--warmup", type=int, default=250, help="linear warmup steps")
    p.add_argument("--max-len", type=int, default=64, help="tokens per review (left-truncated)")
    p.add_argument("--eval-every", type=int, default=500)
    p.add_argument("--eval-reviews", type=int, default=1000)
    p.add_argument("--probe-labels", type=int, default=500, help="labelled reviews of the probe")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--measure", action="store_true", help="time 50 steps and exit")
    p.add_argument("--readme-only", action="store_true",
                   help="rewrite README.md from the folder's metrics.json (no training)")
    return p.parse_args(argv)


@torch.no_grad()
def features(bert: Bert, ids: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """Frozen [CLS] and mean-pooled final hidden states, (N, H) each."""
    bert.eval()
    cls, mean = [], []
    for start in range(0, len(ids), 250):
        input_ids, attention = pad_batch(ids[start:start + 250], pad_id)
        hidden = bert(input_ids, None, attention).last_hidden_state
        cls.append(hidden[:, 0])
        mean.append(mean_pool(hidden, attention))
    return torch.cat(cls).numpy(), torch.cat(mean).numpy()


def linear_probe(bert: Bert, train_ids, train_y, test_ids, test_y, pad_id: int) -> dict:
    """Logistic regression on frozen features: test accuracy for [CLS] and mean pooling."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    out = {}
    for name, xtr, xte in zip(("cls", "mean"), features(bert, train_ids, pad_id),
                              features(bert, test_ids, pad_id)):
        clf = make_pipeline(StandardScaler(), LogisticRegression(C=0.1, max_iter=2000))
        clf.fit(xtr, train_y)
        out[name] = float(clf.score(xte, test_y))
    return out


def main(argv: list[str] | None = None) -> dict:
    args = parse_args(argv)
    if args.readme_only:
        metrics = json.loads((Path(args.out) / "metrics.json").read_text())
        (Path(args.out) / "README.md").write_text(readme(metrics, metrics.get("argv")))
        return metrics
    torch.set_num_threads(1)
    torch.manual_seed(args.seed)
    config = PRESETS[PRESET]
    tok = load_wordpiece(data_dir() / "reviews" / f"wordpiece-{config.vocab_size}.txt",
                         model_max_length=args.max_len)
    tok.truncation_side = "left"  # keep the end of a review (the verdict), as fine-tuning does
    reviews = load_reviews()
    train_ids = tok(list(reviews["train"]["text"]), truncation=True,
                    max_length=args.max_len)["input_ids"]
    val_texts = list(reviews["validation"]["text"])[:args.eval_reviews]
    val_ids = tok(val_texts, truncation=True, max_length=args.max_len)["input_ids"]
    specials = tok.all_special_ids
    kw = dict(mask_id=tok.mask_token_id, pad_id=tok.pad_token_id, vocab_size=len(tok),
              special_ids=specials)
    batches = MLMBatches(train_ids, args.batch, seed=args.seed, **kw)
    val_batches = [MLMBatches(val_ids, 100, seed=1234, **kw)(i)
                   for i in range(max(1, args.eval_reviews // 100))]  # fixed masks
    val_labels = torch.cat([b["labels"].flatten() for b in val_batches])
    top_id, unigram_acc = unigram_baseline(train_ids, val_labels, specials)

    model = BertForMaskedLM(config)
    n_params = sum(p.numel() for p in model.parameters())
    optimizer = torch.optim.AdamW(decay_param_groups(model, 0.01), lr=args.lr)
    steps = 50 if args.measure else args.steps
    scheduler = as_scheduler(optimizer, lambda s: warmup_cosine(
        s, lr=args.lr, warmup_steps=min(args.warmup, steps // 10), total_steps=steps))

    def evaluate(m) -> dict[str, float]:
        out = accuracy_by_replacement(m, val_batches, mask_id=tok.mask_token_id, guess_id=top_id)
        print(f"  eval: loss {out['loss']:.3f} · all {out['all']:.3f} · [MASK] {out['mask']:.3f}",
              flush=True)
        return out

    print(f"{PRESET}: {n_params:,} parameters, {len(train_ids):,} training reviews, "
          f"{steps} steps x {args.batch}", flush=True)
    started = time.perf_counter()
    history = train(model, optimizer, batches, mlm_loss,
                    TrainConfig(max_steps=steps, eval_every=0 if args.measure else args.eval_every,
                                progress=False),
                    scheduler=scheduler, eval_fn=None if args.measure else evaluate)
    seconds = time.perf_counter() - started
    if args.measure:
        print(f"{steps / seconds:.2f} steps/s ({seconds:.1f} s for {steps} steps; "
              f"load {os.getloadavg()[0]:.2f})")
        return {}
    final = {k: history.eval[k][-1] for k in history.eval}

    # Does MLM on this grammar carry sentiment? Frozen linear probe vs a random encoder.
    order = torch.randperm(len(train_ids), generator=torch.Generator().manual_seed(args.seed))
    rows = order[:args.probe_labels].tolist()
    train_labels = list(reviews["train"]["label"])
    probe_tr = [train_ids[i] for i in rows]
    probe_y = [train_labels[i] for i in rows]
    test = reviews["test"]
    n_test = min(2000, len(test))
    test_ids = tok(list(test["text"])[:n_test], truncation=True, max_length=args.max_len)["input_ids"]
    test_y = list(test["label"])[:n_test]
    probe = linear_probe(model.bert, probe_tr, probe_y, test_ids, test_y, tok.pad_token_id)
    torch.manual_seed(args.seed)
    probe_random = linear_probe(Bert(config), probe_tr, probe_y, test_ids, test_y,
                                tok.pad_token_id)

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    hf = to_hf_bert(model)
    hf.save_pretrained(out)
    tok.model_max_length = config.max_position_embeddings
    tok.save_pretrained(out)
    size = sum(f.stat().st_size for f in out.iterdir() if f.is_file() and f.name != "README.md")
    metrics = {
        "preset": PRESET, "config": asdict(config), "parameters": n_params,
        "steps": args.steps, "batch": args.batch, "lr": args.lr, "warmup": args.warmup,
        "max_len": args.max_len, "seed": args.seed, "train_reviews": len(train_ids),
        "wall_seconds": round(seconds, 1), "load_average_1min_at_end": os.getloadavg()[0],
        "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
        "mlm_val_reviews": args.eval_reviews, "mlm_val_selected_tokens": int(final["n_all"]),
        "mlm_acc_all": final["all"], "mlm_acc_mask": final["mask"],
        "mlm_acc_random": final["random"], "mlm_acc_kept": final["kept"],
        "mlm_loss": final["loss"], "unigram_token": tok.convert_ids_to_tokens(top_id),
        "unigram_acc": unigram_acc, "copy_baseline_all": final["baseline_all"],
        "baseline_mask": final["baseline_mask"],
        "probe_labels": args.probe_labels, "probe_test_reviews": n_test,
        "probe_pretrained_cls": probe["cls"], "probe_pretrained_mean": probe["mean"],
        "probe_random_cls": probe_random["cls"], "probe_random_mean": probe_random["mean"],
        "eval_history": {"step": history.eval_step,
                         "all": history.eval["all"], "mask": history.eval["mask"]},
        "folder_bytes": size,
        "argv": list(argv if argv is not None else sys.argv[1:]),
    }
    (out / "metrics.json").write_text(json.dumps(metrics, indent=1) + "\n")
    (out / "README.md").write_text(readme(metrics, argv))
    print(json.dumps({k: v for k, v in metrics.items() if k not in ("config", "eval_history")},
                     indent=1))
    return metrics


def readme(m: dict, argv: list[str] | None) -> str:
    c = m["config"]
    best_pre = max(m["probe_pretrained_cls"], m["probe_pretrained_mean"])
    best_rand = max(m["probe_random_cls"], m["probe_random_mean"])
    verdict = (f"Here the frozen pretrained features are **worse** for a linear sentiment probe "
               f"than random ones ({best_pre:.1%} vs {best_rand:.1%}, best pooling each): MLM on "
               f"this corpus taught grammar and slot-filling, not stance. Fine-tuning (or a "
               f"PEFT method that changes the encoder's computation) has to add the sentiment; "
               f"a frozen-feature head alone cannot.") if best_pre <= best_rand else (
               f"The pretrained features beat random ones for a linear sentiment probe "
               f"({best_pre:.1%} vs {best_rand:.1%}, best pooling each).")
    cmd = " ".join(["OMP_NUM_THREADS=1 .venv/bin/python tools/pretrain_course_bert.py",
                    *(argv if argv is not None else sys.argv[1:])]).strip()
    return f"""# `course-bert-reviews`: the course's small pretrained BERT

A BERT encoder (chapter 03's `course_utils.models.bert`, preset `{m['preset']}`) pretrained
with masked language modelling on the {m['train_reviews']:,} training reviews of
`data/reviews`, saved in Hugging Face format (`BertForMaskedLM`, safetensors) with its
WordPiece tokenizer. It is the offline stand-in for `bert-base-uncased`: chapters 05, 08,
10 and 11 load it with `course_utils.models.bert.load_course_encoder()`, which goes
through `course_utils.assets.load_pretrained` like a Hub checkpoint.

Written by `tools/pretrain_course_bert.py` (deterministic: same command, same files):

    {cmd}

| | |
|---|---|
| architecture | H={c['hidden_size']}, L={c['num_hidden_layers']}, A={c['num_attention_heads']}, vocab {c['vocab_size']} (`data/reviews/wordpiece-{c['vocab_size']}.txt`), {c['max_position_embeddings']} positions |
| parameters | {m['parameters']:,} (folder: {m['folder_bytes'] / 1e6:.2f} MB) |
| pretraining | {m['steps']:,} steps x {m['batch']} reviews, max_len {m['max_len']} (left truncation: the end of a review is kept), AdamW lr {m['lr']} warmup {m['warmup']} + cosine, 15 % / 80-10-10 dynamic masking, seed {m['seed']} |
| wall time | {m['wall_seconds'] / 60:.1f} min on one CPU core (torch {m['torch']}, load average {m['load_average_1min_at_end']:.2f} at the end: the machine was shared) |

## MLM accuracy (validation, {m['mlm_val_reviews']} reviews, {m['mlm_val_selected_tokens']:,} selected tokens, fixed masks)

| | all selected tokens | at [MASK] only |
|---|---|---|
| this model | {m['mlm_acc_all']:.1%} | {m['mlm_acc_mask']:.1%} |
| unigram baseline (always `{m['unigram_token']}`) | {m['unigram_acc']:.1%} | {m['baseline_mask']:.1%} |
| copy baseline (copy the visible token, else `{m['unigram_token']}`) | {m['copy_baseline_all']:.1%} | {m['baseline_mask']:.1%} |

At random-replaced positions: {m['mlm_acc_random']:.1%}; at kept positions (the answer is
visible): {m['mlm_acc_kept']:.1%}. MLM loss {m['mlm_loss']:.3f} nats.

## Does it know sentiment? A frozen linear probe

Logistic regression (standardised features, C = 0.1) on the frozen final hidden states of
{m['probe_labels']} labelled training reviews; accuracy on {m['probe_test_reviews']} test reviews.

| encoder | [CLS] | mean over tokens |
|---|---|---|
| pretrained (this model) | {m['probe_pretrained_cls']:.1%} | {m['probe_pretrained_mean']:.1%} |
| randomly initialised, same architecture | {m['probe_random_cls']:.1%} | {m['probe_random_mean']:.1%} |

The reviews grammar lets any polarity word fill any slot of a template, so predicting a
masked word rewards knowing *which words fit a slot* more than the review's stance; the
probe measures how much sentiment the pretrained features carry anyway. {verdict}
"""


if __name__ == "__main__":
    main()
