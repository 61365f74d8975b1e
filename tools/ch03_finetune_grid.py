"""Chapter 03's development grid: fine-tune the course encoder, pretrained vs random init.

The notebook can afford one fine-tuning setting with few labels; this script runs the grid
it was chosen from and the larger-label runs it cannot afford, and writes every run's
training, validation and test accuracy to ``results/dev/ch03_finetune_grid.json``:

* labels 200 and 2,000, each seed drawing its own labelled reviews (as in the notebook);
* steps x peak learning rate (AdamW with decay groups, warmup + cosine, batch 32,
  dropout 0.1, mean pooling, the course encoder's 64-token left truncation);
* five initialisations (``course_utils.finetune.INITS``): the pretrained course encoder; the
  same architecture randomly initialised; and three that change one factor to ask *what* in
  the pretrained weights holds fine-tuning back: pretrained layers with a fresh (random)
  word-embedding table, random layers with the pretrained table, and the pretrained encoder
  with its table rescaled to the random table's mean row norm (same directions, random init's
  scale: geometry or scale?).

Every run goes through ``course_utils.finetune.finetune_classifier``, as the notebook's do.

Settings are compared on validation (the first 1,000 validation reviews); the test numbers
(first 1,000 test reviews) are reported, never used to choose. Deterministic on one core::

    OMP_NUM_THREADS=1 .venv/bin/python tools/ch03_finetune_grid.py            # ~35 min
    OMP_NUM_THREADS=1 .venv/bin/python tools/ch03_finetune_grid.py --part 200  # one label size

``--part`` (one label size) and ``--inits`` (indices into ``INITS``) run a subset and merge it
into the existing file (two cores: run both parts at once).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from course_utils.data import load_reviews  # noqa: E402
from course_utils.finetune import (INITS, FinetuneConfig, finetune_classifier,  # noqa: E402
                                   initial_encoder, predict_classes)
from course_utils.models.bert import load_course_encoder  # noqa: E402

OUT = REPO / "results" / "dev" / "ch03_finetune_grid.json"
GRID = {200: [(20, 1e-3), (40, 2e-3), (80, 1e-3), (200, 3e-4)],
        2000: [(150, 1e-3), (150, 3e-4)]}
SEEDS = (0, 1, 2)
MAX_LEN, BATCH, N_EVAL = 64, 32, 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", type=int, choices=sorted(GRID), help="one label size only")
    parser.add_argument("--inits", type=int, nargs="+", help="indices into INITS (default all)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    torch.set_num_threads(1)

    reviews = load_reviews()
    train_texts = list(reviews["train"]["text"])
    train_y = torch.tensor(list(reviews["train"]["label"]))
    course = load_course_encoder()
    if course.source != "local":
        raise SystemExit(f"expected the committed course encoder, got source {course.source!r}")
    tok, config = course.tokenizer, course.model.bert.config
    state = {k: v.detach().clone() for k, v in course.model.bert.state_dict().items()}

    def encode(texts) -> list[list[int]]:
        return tok(list(texts), truncation=True, max_length=MAX_LEN)["input_ids"]

    evals = {split: (encode(reviews[split]["text"][:N_EVAL]),
                     torch.tensor(reviews[split]["label"][:N_EVAL]),
                     torch.tensor(reviews[split]["hard"][:N_EVAL]))
             for split in ("validation", "test")}

    def run(init: str, n_labels: int, steps: int, lr: float, seed: int) -> dict:
        # the notebook's finetune_course, with every initialisation of INITS
        rows = torch.randperm(len(train_texts),
                              generator=torch.Generator().manual_seed(100 + seed))[:n_labels].tolist()
        ids, y = encode([train_texts[i] for i in rows]), train_y[rows]
        clf = finetune_classifier(initial_encoder(init, seed, config, state), ids, y,
                                  tok.pad_token_id, FinetuneConfig(steps, lr, batch_size=BATCH), seed)
        row = {"labels": n_labels, "steps": steps, "lr": lr, "seed": seed, "init": init,
               "train_acc": (predict_classes(clf, ids, tok.pad_token_id) == y).float().mean().item()}
        for split, (eval_ids, eval_y, hard) in evals.items():
            right = predict_classes(clf, eval_ids, tok.pad_token_id) == eval_y
            row[f"{split}_acc"] = right.float().mean().item()
            row[f"{split}_hard_acc"] = right[hard].float().mean().item()
        return row

    parts = [args.part] if args.part else sorted(GRID)
    inits = [INITS[i] for i in args.inits] if args.inits else list(INITS)
    started, new = time.perf_counter(), []
    for n_labels in parts:
        for steps, lr in GRID[n_labels]:
            for seed in SEEDS:
                for init in inits:
                    row = run(init, n_labels, steps, lr, seed)
                    new.append(row)
                    print(json.dumps({k: round(v, 3) if isinstance(v, float) else v
                                      for k, v in row.items()}), flush=True)
    # merge with the file as it is now (another part may have finished meanwhile)
    def key(r: dict) -> tuple:
        return r["labels"], r["steps"], r["lr"], r["seed"], r["init"]

    replaced = {key(r) for r in new}
    old = json.loads(args.out.read_text())["runs"] if args.out.exists() else []
    done = [r for r in old if key(r) not in replaced] + new
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({
        "command": "OMP_NUM_THREADS=1 .venv/bin/python tools/ch03_finetune_grid.py",
        "eval_reviews": N_EVAL, "max_len": MAX_LEN, "batch": BATCH, "seeds": list(SEEDS),
        "runs": sorted(done, key=lambda r: (r["labels"], r["steps"], -r["lr"], r["seed"],
                                            INITS.index(r["init"])))}, indent=1) + "\n")
    print(f"{len(done)} runs in {args.out} ({time.perf_counter() - started:.0f} s for this part)")


if __name__ == "__main__":
    main()
