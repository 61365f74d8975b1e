"""Chapter 04's experiments over seeds: what makes a ViT shift-robust, and how data-hungry is it?

Three ViTs get the chapter's training run (``course_utils.image_classification.fit``, the
quick profile's sizes), one factor changed at a time:

* ``ViT``: learned position table, the mild digits augmentation;
* ``ViT sin-cos``: fixed 2-D sin-cos positions instead of the learned table;
* ``ViT + shift aug.``: learned table, trained on images shifted by 0..P pixels each way
  (instead of the mild rotation/shift/zoom of the other two).

For each seed (which also draws the train/validation/test split) the script records test
accuracy, the validation curve, test accuracy on images shifted by k = 0..P pixels (mean of
the four directions) and, for learned tables, the rank correlation of position similarity
with grid distance. The data-size sweep trains the ViT and the CNN again on a class-balanced
share of the training images (``data_fractions``, ``sweep_steps``); with the CNN on all of them
it fills the notebook's "same recipe, less data" table. The notebook trains the plain and the
shift-augmented ViT and the CNN itself and must reproduce this file's rows for its seed
(target ``position_arms_reproduction_max_diff``); the sin-cos arm, the sweep and the other
seeds it reads from here. Deterministic on one core::

    OMP_NUM_THREADS=1 .venv/bin/python tools/ch04_position_arms.py               # ~7 min
    OMP_NUM_THREADS=1 .venv/bin/python tools/ch04_position_arms.py --seeds 0 --out /tmp/a.json &
    OMP_NUM_THREADS=1 .venv/bin/python tools/ch04_position_arms.py --seeds 1 2 --out /tmp/b.json
    .venv/bin/python tools/ch04_position_arms.py --merge /tmp/a.json /tmp/b.json
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
REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

import torch  # noqa: E402

from course_utils.chapters import get_chapter  # noqa: E402
from course_utils.data import load_digits_splits  # noqa: E402
from course_utils.image_classification import (AUGMENT, end_train_acc, fit,  # noqa: E402
                                               fit_config, make_cnn, position_similarity,
                                               shift_accuracy, shift_augment, vit_config)
from course_utils.models.vit import ViT  # noqa: E402

OUT = REPO / "results" / "dev" / "ch04_position_arms.json"
ARMS = {"ViT": ("learned", False), "ViT sin-cos": ("sincos2d", False),
        "ViT + shift aug.": ("learned", True)}
SEEDS = (0, 1, 2)
#: The sizes the runs depend on; the notebook checks that its own sizes still match.
SIZE_KEYS = ("dataset", "train_fraction", "d_model", "n_layers", "n_heads", "d_ff", "batch_size",
             "train_steps", "lr", "weight_decay", "warmup_steps", "label_smoothing", "eval_every",
             "max_shift", "cnn_width", "data_fractions", "sweep_steps")


def run_arm(arm: str, seed: int, sizes) -> dict:
    """Train one arm at one seed; its scores, curve and shift accuracies."""
    position, shifted = ARMS[arm]
    data = load_digits_splits(seed)
    torch.manual_seed(seed)
    model = ViT(vit_config(data, sizes, position=position))
    augment = shift_augment(data) if shifted else AUGMENT[data.name]
    result = fit(model, data, sizes.train_steps, fit_config(sizes), augment, seed, "cpu", arm)
    x_te, y_te = data.split("test")
    shifts = range(max(sizes.max_shift, data.patch_size) + 1)
    grid = data.image_size // data.patch_size
    rho = (position_similarity(model.position_embeddings[0, 1:], grid)[1]
           if position == "learned" else None)
    return {"arm": arm, "seed": seed, "test_acc": result.test_acc,
            "eval_step": list(result.history.eval_step),
            "val_acc": list(result.history.eval["val_acc"]),
            "shift_acc": {str(k): shift_accuracy(model, x_te, y_te, k, data) for k in shifts},
            "patch_size": data.patch_size, "pos_rank_corr": rho,
            "train_acc_end": end_train_acc(result.history), "seconds": round(result.seconds, 1)}


def run_sweep(seed: int, sizes) -> list[dict]:
    """The CNN on all training images, then the ViT and the CNN on each smaller share."""
    data = load_digits_splits(seed)
    rows = []
    for fraction in (1.0, *sizes.data_fractions):
        part = data if fraction == 1.0 else data.subset(fraction, seed=seed)
        steps = sizes.train_steps if fraction == 1.0 else sizes.sweep_steps
        for model_name in (("CNN",) if fraction == 1.0 else ("ViT", "CNN")):
            torch.manual_seed(seed)
            model = (make_cnn(sizes.cnn_width, data.channels, len(data.classes), data.image_size)
                     if model_name == "CNN" else ViT(vit_config(data, sizes)))
            result = fit(model, part, steps, fit_config(sizes), AUGMENT[data.name], seed, "cpu",
                         f"{model_name} {fraction:.0%}")
            x_te, y_te = data.split("test")
            rows.append({"model": model_name, "seed": seed, "fraction": fraction,
                         "train_images": len(part.train), "steps": steps,
                         "train_acc_end": end_train_acc(result.history),
                         "test_acc": result.test_acc,
                         "shift_acc": {str(k): shift_accuracy(model, x_te, y_te, k, data)
                                       for k in range(max(sizes.max_shift, data.patch_size) + 1)}
                         if fraction == 1.0 else None})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=list(SEEDS))
    parser.add_argument("--out", type=Path, default=OUT)
    parser.add_argument("--merge", type=Path, nargs="+", help="combine shard files into --out")
    args = parser.parse_args()
    torch.set_num_threads(1)
    sizes = get_chapter("04").sizes_for("quick")
    header = {"command": "OMP_NUM_THREADS=1 .venv/bin/python tools/ch04_position_arms.py",
              "torch": torch.__version__,
              "sizes": json.loads(json.dumps({k: v for k, v in asdict(sizes).items()
                                              if k in SIZE_KEYS}))}  # tuples as JSON lists
    if args.merge:
        shards = [json.loads(path.read_text()) for path in args.merge]
        for path, shard in zip(args.merge, shards):
            theirs = {k: v for k, v in shard.items() if k not in ("runs", "sweep")}
            if theirs != header:
                raise SystemExit(f"{path} was written with other sizes or torch: {theirs} != {header}")
        runs = [r for shard in shards for r in shard["runs"]]
        sweep = [r for shard in shards for r in shard["sweep"]]
    else:
        runs, sweep, started = [], [], time.perf_counter()
        for seed in args.seeds:
            for arm in ARMS:
                runs.append(run_arm(arm, seed, sizes))
                r = runs[-1]
                print(f"seed {seed} {arm:>17}: test {r['test_acc']:.3f} · shifted "
                      + " ".join(f"{k}px {v:.3f}" for k, v in r["shift_acc"].items())
                      + f" · {r['seconds']:.0f} s ({time.perf_counter() - started:.0f} s so far)",
                      flush=True)
            sweep += run_sweep(seed, sizes)
            print(f"seed {seed} sweep: " + " · ".join(
                f"{r['model']} {r['train_images']} images {r['test_acc']:.3f}" for r in sweep
                if r["seed"] == seed) + f" ({time.perf_counter() - started:.0f} s so far)", flush=True)
    runs.sort(key=lambda r: (r["seed"], list(ARMS).index(r["arm"])))
    sweep.sort(key=lambda r: (r["seed"], -r["fraction"], r["model"]))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps({**header, "runs": runs, "sweep": sweep}, indent=1) + "\n")
    print(f"wrote {len(runs)} runs and {len(sweep)} sweep runs to {args.out}")


if __name__ == "__main__":
    main()
