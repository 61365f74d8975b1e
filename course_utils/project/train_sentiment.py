"""Train a sentiment classifier -- the training script of chapter 11.

    python -m course_utils.project.train_sentiment --data-dir runs/ch11/data \\
        --model scratch --steps 300 --out-dir runs/ch11/scratch
    torchrun --standalone --nproc_per_node=2 course_utils/project/train_sentiment.py ...

What a practitioner's script does, each in a few lines below:

* configuration on the command line (``--help``), saved in every checkpoint;
* a model: ``scratch`` (a course ``Bert`` + classifier head, random init),
  ``course-encoder`` (the course's MLM-pretrained encoder, fine-tuned) or a Hub id such as
  ``bert-base-uncased`` / ``distilbert/distilbert-base-uncased``
  (``AutoModelForSequenceClassification``);
* AdamW with parameter groups (no decay on biases, norms, embeddings), warmup + decay,
  gradient clipping, gradient accumulation (``DDP.no_sync`` on all but the last
  micro-batch), autocast where it helps (CUDA: bf16, or fp16 + GradScaler; CPU: fp32,
  because bf16 on a CPU without native support is slower);
* TensorBoard scalars (loss, accuracy, learning rate, gradient norm);
* periodic ``last.pt`` and ``best.pt`` (best validation accuracy) checkpoints, written
  atomically with every RNG state, so ``--resume`` continues *exactly* where a killed run
  stopped (the data order is a function of the step, the dropout RNG is restored);
* DDP: under ``torchrun`` every process takes its share of each batch; rank 0 alone
  writes checkpoints, logs and metrics;
* a tqdm progress bar (``--no-progress`` for log lines only);
* the data tokenized once: token ids cached beside it (``encoded_split``, as ``datasets.map``
  caches), so the next run, a resume or each DDP process starts in a second, not several.

The script reads ``train.parquet`` and ``validation.parquet`` from ``--data-dir``
(``course_utils.project.data.write_splits``). It never sees the test split.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import re
import sys
import time
from pathlib import Path
from typing import Any, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from course_utils.checkpoint import (capture_rng_state, load_checkpoint, restore_rng_state,
                                     save_checkpoint)

__all__ = ["build_parser", "as_options", "parse_config", "SentimentClassifier", "load_tokenizer",
           "tokenizer_name", "build_model", "encode", "encoded_split", "batch_indices", "load_trained", "train", "main",
           "TRAJECTORY_KEYS"]

COURSE_ENCODER = "course-encoder"
SCRATCH = "scratch"
#: settings that change the sequence of updates: a resumed run must match them
TRAJECTORY_KEYS = ("model", "tokenizer", "max_len", "batch_size", "accum", "lr", "min_lr",
                   "warmup", "schedule", "weight_decay", "clip", "seed", "d_model", "layers",
                   "heads", "dropout", "pooling", "amp", "steps")


def build_parser() -> argparse.ArgumentParser:
    """The command line; ``--help`` lists every option with its default."""
    p = argparse.ArgumentParser(
        prog="train_sentiment", description="Train a binary sentiment classifier (chapter 11).",
        formatter_class=argparse.ArgumentDefaultsHelpFormatter)
    p.add_argument("--data-dir", required=True, help="folder with train/validation.parquet")
    p.add_argument("--out-dir", required=True, help="checkpoints, TensorBoard logs, metrics")
    p.add_argument("--model", default=SCRATCH,
                   help=f"'{SCRATCH}', '{COURSE_ENCODER}' or a Hub id (bert-base-uncased)")
    p.add_argument("--tokenizer", default=None,
                   help=f"tokenizer for '{SCRATCH}' (default: the course encoder's)")
    p.add_argument("--max-len", type=int, default=64, help="tokens per review (keeps the end)")
    p.add_argument("--steps", type=int, default=300, help="optimizer steps")
    p.add_argument("--batch-size", type=int, default=32, help="reviews per micro-batch (global)")
    p.add_argument("--accum", type=int, default=1, help="micro-batches per optimizer step")
    p.add_argument("--lr", type=float, default=1e-3, help="peak learning rate")
    p.add_argument("--min-lr", type=float, default=0.0, help="final learning rate")
    p.add_argument("--warmup", type=int, default=30, help="linear warmup steps")
    p.add_argument("--schedule", default="warmup_linear", choices=("warmup_linear", "warmup_cosine"))
    p.add_argument("--weight-decay", type=float, default=0.01)
    p.add_argument("--clip", type=float, default=1.0, help="max global gradient norm")
    p.add_argument("--amp", default="auto", choices=("auto", "fp32", "bf16", "fp16"),
                   help="autocast: auto = bf16 (or fp16 + GradScaler) on CUDA, fp32 on a CPU")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--d-model", type=int, default=64, help=f"'{SCRATCH}' only: width")
    p.add_argument("--layers", type=int, default=2, help=f"'{SCRATCH}' only: blocks")
    p.add_argument("--heads", type=int, default=4, help=f"'{SCRATCH}' only: attention heads")
    p.add_argument("--dropout", type=float, default=0.1, help=f"'{SCRATCH}' only")
    p.add_argument("--pooling", default="mean", choices=("cls", "mean"),
                   help="course models: classify from [CLS] or from the mean of the tokens")
    p.add_argument("--eval-every", type=int, default=50, help="steps between validations")
    p.add_argument("--ckpt-every", type=int, default=50, help="steps between last.pt saves")
    p.add_argument("--log-every", type=int, default=10, help="steps between log lines")
    p.add_argument("--eval-batch", type=int, default=256)
    p.add_argument("--resume", action="store_true", help="continue from out-dir/last.pt")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=True,
                   help="tqdm progress bar on rank 0")
    p.add_argument("--tensorboard", action=argparse.BooleanOptionalAction, default=True)
    return p


def as_options(settings: Mapping[str, object]) -> list[str]:
    """Command-line options for ``settings`` (``{"max_len": 32}`` -> ``["--max-len", "32"]``)."""
    known = {a.dest for a in build_parser()._actions}
    unknown = sorted(set(settings) - known)
    if unknown:
        raise ValueError(f"expected options of the training script, got unknown {unknown}")
    return [x for key, value in settings.items() for x in ("--" + key.replace("_", "-"), str(value))]


def parse_config(argv: Sequence[str] | None = None) -> argparse.Namespace:
    """Parse and validate the command line."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("max_len", "steps", "batch_size", "accum", "eval_every", "ckpt_every",
                 "log_every", "eval_batch", "d_model", "layers", "heads"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be >= 1, got {getattr(args, name)}")
    if args.warmup < 0 or args.warmup > args.steps:
        parser.error(f"--warmup must be in [0, --steps={args.steps}], got {args.warmup}")
    if not 0 <= args.min_lr <= args.lr:
        parser.error(f"--min-lr must be in [0, --lr], got {args.min_lr}")
    return args


# --- model and tokenizer ---------------------------------------------------------------
class SentimentClassifier(nn.Module):
    """One interface for course and Hugging Face models: ``(input_ids, mask) -> logits``."""

    def __init__(self, inner: nn.Module, hf: bool) -> None:
        super().__init__()
        self.inner, self.hf = inner, hf

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        if self.hf:
            return self.inner(input_ids=input_ids, attention_mask=attention_mask).logits
        return self.inner(input_ids, None, attention_mask)[0]


def load_tokenizer(name: str) -> Any:
    """A fast tokenizer that truncates on the *left*: a review's verdict is at its end."""
    from course_utils.models.bert import COURSE_ENCODER_DIR

    if name == COURSE_ENCODER:
        from course_utils.tokenization import load_wordpiece

        if (COURSE_ENCODER_DIR / "tokenizer.json").is_file():
            from transformers import AutoTokenizer

            tokenizer = AutoTokenizer.from_pretrained(str(COURSE_ENCODER_DIR))
        else:  # the encoder's vocabulary file, as load_course_encoder's fallback does
            from course_utils.data import data_dir

            tokenizer = load_wordpiece(data_dir() / "reviews" / "wordpiece-4000.txt")
    else:
        from transformers import AutoTokenizer

        from course_utils.assets import load_pretrained

        tokenizer = load_pretrained(name, AutoTokenizer.from_pretrained).value
    tokenizer.truncation_side = "left"
    return tokenizer


def tokenizer_name(cfg: argparse.Namespace) -> str:
    """The tokenizer of a run: the pretrained model's own, or ``--tokenizer`` for scratch."""
    return (cfg.tokenizer or COURSE_ENCODER) if cfg.model == SCRATCH else cfg.model


def build_model(cfg: argparse.Namespace, tokenizer: Any) -> SentimentClassifier:
    """The classifier named by ``cfg.model`` (see the module docstring)."""
    from course_utils.models.bert import Bert, BertClassifier, BertConfig

    if cfg.model == SCRATCH:
        config = BertConfig(vocab_size=len(tokenizer), hidden_size=cfg.d_model,
                            num_hidden_layers=cfg.layers, num_attention_heads=cfg.heads,
                            max_position_embeddings=cfg.max_len, hidden_dropout=cfg.dropout,
                            attention_dropout=cfg.dropout,
                            pad_token_id=tokenizer.pad_token_id or 0)
        return SentimentClassifier(BertClassifier(Bert(config), 2, pooling=cfg.pooling), hf=False)
    if cfg.model == COURSE_ENCODER:
        from course_utils.models.bert import load_course_encoder

        encoder = load_course_encoder()
        return SentimentClassifier(BertClassifier(encoder.model.bert, 2, pooling=cfg.pooling),
                                   hf=False)
    from transformers import AutoModelForSequenceClassification

    from course_utils.assets import load_pretrained

    inner = load_pretrained(cfg.model, AutoModelForSequenceClassification.from_pretrained,
                            num_labels=2).value
    return SentimentClassifier(inner, hf=True)


def encode(tokenizer: Any, texts: Sequence[str], max_len: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``(input_ids, attention_mask)``, each (N, max_len), padded on the right."""
    enc = tokenizer(list(texts), truncation=True, max_length=max_len, padding="max_length",
                    return_tensors="pt")
    return enc["input_ids"], enc["attention_mask"]


def encoded_split(data_dir: str | os.PathLike, split: str, tokenizer: Any, tokenizer_id: str,
                  max_len: int) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(input_ids, attention_mask, labels)`` of a split; the ids are cached beside the data.

    Tokenizing ~18k reviews takes seconds in every process that starts; like ``datasets.map``,
    the result is kept in ``<data-dir>/.cache`` under a name made of the tokenizer, a hash of
    its vocabulary, its truncation side, ``max_len`` and the parquet file's size and
    modification time, so a changed file or setting is encoded afresh. An unwritable folder
    only skips the cache; an unreadable cache file is encoded again.
    """
    import hashlib

    from course_utils.project.data import read_split

    source = Path(data_dir) / f"{split}.parquet"
    stat = source.stat()
    vocab = hashlib.sha1(json.dumps(sorted(tokenizer.get_vocab().items())).encode()).hexdigest()[:10]
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", tokenizer_id)
    cache = (Path(data_dir) / ".cache"
             / f"{name}-{vocab}-{tokenizer.truncation_side}-L{max_len}-{split}-{stat.st_size}-"
               f"{stat.st_mtime_ns}.pt")
    if cache.is_file():
        try:
            saved = torch.load(cache)
            return saved["input_ids"], saved["attention_mask"], saved["labels"]
        except Exception:  # a damaged cache file is encoded afresh (and overwritten)
            pass
    df = read_split(data_dir, split)
    ids, mask = encode(tokenizer, df["text"].tolist(), max_len)
    labels = torch.tensor(df["label"].to_numpy())
    try:
        cache.parent.mkdir(exist_ok=True)
        tmp = cache.with_suffix(f".{os.getpid()}.tmp")
        torch.save({"input_ids": ids, "attention_mask": mask, "labels": labels}, tmp)
        os.replace(tmp, cache)  # atomic: a second process (DDP) never reads half a file
    except OSError:
        pass
    return ids, mask, labels


def batch_indices(micro_batch: int, n_examples: int, batch_size: int, seed: int) -> torch.Tensor:
    """Rows of global micro-batch number ``micro_batch``: a pure function of its number.

    Epoch ``e`` is a permutation drawn from ``seed + e`` (as ``DistributedSampler.set_epoch``
    does); the incomplete last batch of an epoch is dropped. Because nothing else decides
    the order, a resumed run only needs the step to find its place in the data.
    """
    per_epoch = n_examples // batch_size
    if per_epoch < 1:
        raise ValueError(f"batch_size {batch_size} > {n_examples} training examples")
    epoch, offset = divmod(micro_batch, per_epoch)
    order = torch.randperm(n_examples, generator=torch.Generator().manual_seed(seed + epoch))
    return order[offset * batch_size:(offset + 1) * batch_size]


def _trim(ids: torch.Tensor, mask: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Drop the padding columns that no row of the batch needs (right padding)."""
    width = max(int(mask.sum(1).max()), 1)
    return ids[:, :width], mask[:, :width]


def load_trained(path: str | os.PathLike, map_location: str = "cpu"
                 ) -> tuple[SentimentClassifier, Any, argparse.Namespace]:
    """Rebuild the model of a checkpoint written by this script; returns model, tokenizer, config."""
    state = load_checkpoint(path, map_location=map_location)
    cfg = argparse.Namespace(**state["config"])
    tokenizer = load_tokenizer(tokenizer_name(cfg))
    model = build_model(cfg, tokenizer)
    model.load_state_dict(state["model"])
    return model.eval(), tokenizer, cfg


# --- training -------------------------------------------------------------------------------
def _emit(line: str) -> None:
    sys.stdout.write(line.rstrip("\n") + "\n")  # one write: ranks' lines never interleave
    sys.stdout.flush()


@torch.no_grad()
def _evaluate(model: nn.Module, ids: torch.Tensor, mask: torch.Tensor, labels: torch.Tensor,
              batch: int, rank: int, world: int, device: torch.device, precision: Any
              ) -> dict[str, float]:
    """Validation loss and accuracy; each rank scores its share, the sums are all-reduced."""
    was_training = model.training
    model.eval()
    mine = torch.arange(rank, len(labels), world)
    totals = torch.zeros(3, dtype=torch.float64)  # loss sum, correct, count
    for start in range(0, len(mine), batch):
        rows = mine[start:start + batch]
        x, m = _trim(ids[rows], mask[rows])
        with precision.autocast():
            logits = model(x.to(device), m.to(device)).float()
        y = labels[rows].to(device)
        totals += torch.tensor([F.cross_entropy(logits, y, reduction="sum").item(),
                                (logits.argmax(-1) == y).sum().item(), len(rows)],
                               dtype=torch.float64)
    if world > 1:
        import torch.distributed as dist

        dist.all_reduce(totals)
    model.train(was_training)
    return {"loss": float(totals[0] / totals[2]), "accuracy": float(totals[1] / totals[2])}


def _compatible(saved: dict[str, Any], cfg: argparse.Namespace, path: Path) -> None:
    differs = [f"{k}: checkpoint {saved.get(k)!r}, now {getattr(cfg, k)!r}"
               for k in TRAJECTORY_KEYS if saved.get(k) != getattr(cfg, k)]
    if differs:
        raise SystemExit(f"cannot resume from {path}: it was made with other settings ("
                         + "; ".join(differs) + "). Use the same options, or another --out-dir.")


def train(cfg: argparse.Namespace) -> dict[str, Any]:
    """Run (or resume) one training; returns the final metrics (also in metrics.json)."""
    from tqdm.auto import tqdm

    from course_utils.optim import decay_param_groups
    from course_utils.runtime import choose_precision, get_device
    from course_utils.schedules import as_scheduler, make_schedule

    distributed = "WORLD_SIZE" in os.environ and int(os.environ["WORLD_SIZE"]) > 1
    if distributed:
        from course_utils.distributed import init_from_env

        rank, world, device = init_from_env()
    else:
        rank, world, device = 0, 1, get_device()
    if cfg.batch_size % world:
        raise SystemExit(f"--batch-size {cfg.batch_size} must be divisible by the {world} processes")
    out = Path(cfg.out_dir)
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(cfg.seed + rank)  # weights are then broadcast by DDP; dropout differs per rank

    tokenizer = load_tokenizer(tokenizer_name(cfg))
    x_train, m_train, y_train = encoded_split(cfg.data_dir, "train", tokenizer, tokenizer_name(cfg),
                                              cfg.max_len)
    x_val, m_val, y_val = encoded_split(cfg.data_dir, "validation", tokenizer, tokenizer_name(cfg),
                                        cfg.max_len)

    torch.manual_seed(cfg.seed)  # same initial weights on every rank and every resume
    model = build_model(cfg, tokenizer).to(device)
    torch.manual_seed(cfg.seed + 1000 * rank + 1)  # dropout stream of this rank
    optimizer = torch.optim.AdamW(decay_param_groups(model, cfg.weight_decay), lr=cfg.lr)
    scheduler = as_scheduler(optimizer, make_schedule(cfg.schedule, total_steps=cfg.steps,
                                                      peak_lr=cfg.lr, min_lr=cfg.min_lr,
                                                      warmup_steps=cfg.warmup))
    precision = choose_precision(device, cfg.amp if device.type == "cuda" or cfg.amp != "auto"
                                 else "fp32")  # auto on a CPU: fp32 (autocast rarely helps there)
    scaler = torch.amp.GradScaler(device.type) if precision.use_grad_scaler else None
    net: nn.Module = model
    if distributed:
        from torch.nn.parallel import DistributedDataParallel

        net = DistributedDataParallel(model, device_ids=[device.index] if device.type == "cuda" else None)

    step, best = 0, {"accuracy": -1.0, "step": 0}
    history: dict[str, list] = {"step": [], "loss": [], "lr": [], "eval_step": [],
                                "val_loss": [], "val_accuracy": []}
    last_path, best_path = out / "last.pt", out / "best.pt"
    if cfg.resume and last_path.exists():
        state = load_checkpoint(last_path, map_location=device)
        _compatible(state["config"], cfg, last_path)
        if state["world_size"] != world:
            raise SystemExit(f"cannot resume {last_path}: saved by {state['world_size']} "
                             f"processes, now {world} (the RNG streams would differ)")
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state["scaler"] is not None:
            scaler.load_state_dict(state["scaler"])
        step, best, history = state["step"], state["best"], state["history"]
        restore_rng_state(state["rng"][rank])
        if rank == 0:
            so_far = (f"best val acc {best['accuracy']:.4f} at step {best['step']}" if best["step"]
                      else "no validation yet")
            _emit(f"resumed from {last_path} at step {step} ({so_far})")

    def checkpoint(path: Path) -> None:
        rngs = [capture_rng_state()]
        if distributed:
            import torch.distributed as dist

            rngs = [None] * world
            dist.all_gather_object(rngs, capture_rng_state())
        if rank == 0:
            save_checkpoint(path, {
                "model": model.state_dict(), "optimizer": optimizer.state_dict(),
                "scheduler": scheduler.state_dict(),
                "scaler": scaler.state_dict() if scaler is not None else None,
                "step": step, "best": dict(best), "history": history, "rng": rngs,
                "config": vars(cfg), "world_size": world})

    writer = None
    if rank == 0 and cfg.tensorboard:
        from torch.utils.tensorboard import SummaryWriter

        # purge_step: a resumed run drops the events a killed run wrote after its checkpoint
        writer = SummaryWriter(str(out / "tb"), purge_step=step + 1 if step else None)
    if rank == 0 and step == 0:
        n_params = sum(p.numel() for p in model.parameters())
        _emit(f"model {cfg.model}: {n_params:,} parameters · {len(y_train)} train / "
              f"{len(y_val)} validation reviews · device {device} · {world} process(es) · "
              f"{precision.reason}")

    per_rank = cfg.batch_size // world
    params = [p for p in model.parameters() if p.requires_grad]
    bar = tqdm(total=cfg.steps, initial=step, desc=f"train {cfg.model}",
               disable=not (cfg.progress and rank == 0), mininterval=1.0)
    started, started_cpu, first_step = time.perf_counter(), time.process_time(), step
    net.train()
    while step < cfg.steps:
        optimizer.zero_grad(set_to_none=True)
        step_loss = torch.zeros((), dtype=torch.float64)
        for micro in range(cfg.accum):
            rows = batch_indices(step * cfg.accum + micro, len(y_train), cfg.batch_size, cfg.seed)
            rows = rows[rank * per_rank:(rank + 1) * per_rank]
            x, m = _trim(x_train[rows], m_train[rows])
            y = y_train[rows].to(device)
            sync_now = micro == cfg.accum - 1
            context = net.no_sync() if distributed and not sync_now else _nullcontext()
            with context:
                with precision.autocast():
                    loss = F.cross_entropy(net(x.to(device), m.to(device)).float(), y)
                scaled = loss / cfg.accum
                (scaler.scale(scaled) if scaler is not None else scaled).backward()
            step_loss += loss.detach().double().cpu() / cfg.accum
        if scaler is not None:
            scaler.unscale_(optimizer)
        grad_norm = float(torch.nn.utils.clip_grad_norm_(params, cfg.clip))
        lr = optimizer.param_groups[0]["lr"]
        if scaler is not None:
            scaler.step(optimizer)
            scaler.update()
        else:
            optimizer.step()
        scheduler.step()
        step += 1
        if distributed:
            import torch.distributed as dist

            dist.all_reduce(step_loss)
            step_loss /= world
        loss_value = float(step_loss)
        if not math.isfinite(loss_value):
            raise SystemExit(f"step {step}: loss is {loss_value}; lower --lr or check the data")
        history["step"].append(step)
        history["loss"].append(loss_value)
        history["lr"].append(lr)
        if writer is not None:
            writer.add_scalar("train/loss", loss_value, step)
            writer.add_scalar("train/lr", lr, step)
            writer.add_scalar("train/grad_norm", grad_norm, step)
        bar.update(1)
        bar.set_postfix(loss=f"{loss_value:.4f}", lr=f"{lr:.2e}", refresh=False)
        if rank == 0 and step % cfg.log_every == 0:
            _emit(f"step {step}/{cfg.steps} loss {loss_value:.4f} lr {lr:.3e} grad_norm {grad_norm:.3f}")
        if step % cfg.eval_every == 0 or step == cfg.steps:
            metrics = _evaluate(net, x_val, m_val, y_val, cfg.eval_batch, rank, world, device,
                                precision)
            history["eval_step"].append(step)
            history["val_loss"].append(metrics["loss"])
            history["val_accuracy"].append(metrics["accuracy"])
            if writer is not None:
                writer.add_scalar("val/loss", metrics["loss"], step)
                writer.add_scalar("val/accuracy", metrics["accuracy"], step)
            if rank == 0:
                _emit(f"eval step {step} val_loss {metrics['loss']:.4f} "
                      f"val_acc {metrics['accuracy']:.4f}")
            if metrics["accuracy"] > best["accuracy"]:
                best = {"accuracy": metrics["accuracy"], "step": step}
                checkpoint(best_path)
                if rank == 0:
                    _emit(f"best checkpoint step {step} -> {best_path}")
        if step % cfg.ckpt_every == 0 or step == cfg.steps:
            checkpoint(last_path)
            if rank == 0:
                _emit(f"checkpoint step {step} -> {last_path}")
    bar.close()
    seconds = time.perf_counter() - started
    cpu_seconds = time.process_time() - started_cpu  # this process's CPU time
    in_sync = True
    if distributed:
        import torch.distributed as dist

        flat = torch.cat([p.detach().flatten().double().cpu() for p in model.parameters()])
        low, high = flat.clone(), flat.clone()
        dist.all_reduce(low, op=dist.ReduceOp.MIN)
        dist.all_reduce(high, op=dist.ReduceOp.MAX)
        in_sync = bool(torch.equal(low, high))
    result = {"final_val_accuracy": history["val_accuracy"][-1],
              "final_val_loss": history["val_loss"][-1], "final_train_loss": history["loss"][-1],
              "best_val_accuracy": best["accuracy"], "best_step": best["step"], "steps": step,
              "steps_this_run": step - first_step, "seconds": seconds,
              "ms_per_step": 1000 * seconds / max(step - first_step, 1),
              "cpu_ms_per_step": 1000 * cpu_seconds / max(step - first_step, 1), "world_size": world,
              "params_in_sync": in_sync, "device": str(device), "precision": precision.reason}
    if rank == 0:
        (out / "metrics.json").write_text(json.dumps(result, indent=1))
        _emit(f"done: {step} steps · final val acc {result['final_val_accuracy']:.4f} · best "
              f"{best['accuracy']:.4f} at step {best['step']} · {result['ms_per_step']:.0f} ms/step"
              f" · params in sync across ranks: {in_sync}")
    if writer is not None:
        writer.close()
    if distributed:
        import torch.distributed as dist

        dist.barrier()
        dist.destroy_process_group()
    return result


class _nullcontext:  # noqa: N801 -- a context manager that does nothing (cheaper than contextlib's)
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: object) -> None:
        return None


def main(argv: Sequence[str] | None = None) -> dict[str, Any]:
    """Entry point: ``python -m course_utils.project.train_sentiment ...``."""
    return train(parse_config(argv))


if __name__ == "__main__":
    main()
