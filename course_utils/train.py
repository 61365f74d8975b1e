"""The one training loop every chapter uses.

``train(model, optimizer, train_data, loss_fn, config)`` runs ``config.max_steps``
optimizer steps with a tqdm progress bar, periodic evaluation, a history of train/eval
numbers, gradient clipping, gradient accumulation, optional autocast + GradScaler, an
optional LR scheduler, callbacks, optional TensorBoard logging and atomic checkpoints
from which a run resumes *exactly* (same final weights as an uninterrupted run).

``train_data`` is either a re-iterable of batches (e.g. a ``DataLoader``; shuffling is
re-seeded per epoch so positions can be replayed) or a function ``step -> batch``.
``loss_fn(model, batch)`` returns the loss, or ``(loss, {metric: value})``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, RandomSampler
from tqdm.auto import tqdm

from course_utils.checkpoint import (capture_rng_state, load_checkpoint, restore_rng_state,
                                     save_checkpoint)
from course_utils.runtime import choose_precision
from course_utils.validation import check_float, check_int, check_type

Batch = Any
LossFn = Callable[[nn.Module, Batch], "torch.Tensor | tuple[torch.Tensor, dict[str, float]]"]
EvalFn = Callable[[nn.Module], dict[str, float]]
Callback = Callable[[str, "TrainState"], None]
CHECKPOINT_NAME = "last.pt"


@dataclass
class TrainConfig:
    """Knobs of one training run (sizes come from the profile, not from literals)."""

    max_steps: int  # optimizer steps (each consumes accum_steps batches)
    accum_steps: int = 1  # gradient accumulation: batches per optimizer step
    grad_clip: float | None = 1.0  # max global grad norm (None = no clipping)
    eval_every: int = 0  # run eval_fn every N steps (0 = only at the end)
    precision: str = "fp32"  # fp32 | auto | bf16 | fp16 (see runtime.choose_precision)
    seed: int = 0  # seeds the data order (epoch e uses seed + e)
    checkpoint_dir: str | None = None  # where last.pt is written
    checkpoint_every: int = 0  # also checkpoint every N steps (0 = only at the end/stop)
    resume: bool = False  # continue from checkpoint_dir/last.pt if it exists
    tensorboard_dir: str | None = None  # write TensorBoard scalars here
    nonfinite: str = "raise"  # NaN/inf loss or grad norm: "raise" TrainingDiverged, or "stop"
    progress: bool = False  # show a tqdm progress bar (for long runs; notebooks print curves)
    desc: str = "train"  # progress bar label

    def __post_init__(self) -> None:
        check_int("max_steps", self.max_steps, min_value=1)
        check_int("accum_steps", self.accum_steps, min_value=1)
        if self.grad_clip is not None:
            check_float("grad_clip", self.grad_clip, min_value=0.0, min_inclusive=False)
        check_int("eval_every", self.eval_every, min_value=0)
        check_int("checkpoint_every", self.checkpoint_every, min_value=0)
        check_int("seed", self.seed, min_value=0)
        if self.nonfinite not in ("raise", "stop"):
            raise ValueError(f"nonfinite must be 'raise' or 'stop' (end training quietly, e.g. "
                             f"in an LR range test), got {self.nonfinite!r}")
        if self.precision not in ("fp32", "auto", "bf16", "fp16"):
            raise ValueError(f"precision must be 'fp32', 'auto', 'bf16' or 'fp16', "
                             f"got {self.precision!r}")
        if (self.resume or self.checkpoint_every) and not self.checkpoint_dir:
            raise ValueError("resume/checkpoint_every need checkpoint_dir to be set")


@dataclass
class History:
    """Per-step training numbers and periodic evaluation results."""

    step: list[int] = field(default_factory=list)
    train_loss: list[float] = field(default_factory=list)
    lr: list[float] = field(default_factory=list)
    grad_norm: list[float] = field(default_factory=list)
    metrics: dict[str, list[float]] = field(default_factory=dict)  # from loss_fn, per step
    eval_step: list[int] = field(default_factory=list)
    eval: dict[str, list[float]] = field(default_factory=dict)
    seconds: float = 0.0
    stop_reason: str = ""  # why training ended early (e.g. a NaN loss with nonfinite="stop")

    def to_dict(self) -> dict[str, Any]:
        """Plain-data form (JSON- and checkpoint-safe)."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> "History":
        """Inverse of ``to_dict``."""
        return cls(**data)

    def last(self, name: str) -> float:
        """Latest value of an eval metric (or ``train_loss``)."""
        if name == "train_loss":
            if not self.train_loss:
                raise KeyError("no training step recorded yet")
            return self.train_loss[-1]
        if name not in self.eval or not self.eval[name]:
            raise KeyError(f"no eval metric {name!r}; recorded: {sorted(self.eval)}")
        return self.eval[name][-1]


@dataclass
class TrainState:
    """What callbacks see; set ``stop = True`` to end training after this step."""

    step: int
    model: nn.Module
    optimizer: torch.optim.Optimizer
    history: History
    config: TrainConfig
    last_loss: float = math.nan
    stop: bool = False


def move_to(batch: Batch, device: torch.device | str) -> Batch:
    """Move every tensor in a (nested) batch to ``device``."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, dict):
        return {k: move_to(v, device) for k, v in batch.items()}
    if isinstance(batch, (list, tuple)):
        moved = [move_to(v, device) for v in batch]
        return type(batch)(moved) if not hasattr(batch, "_fields") else type(batch)(*moved)
    return batch


def make_loader(dataset: Dataset, batch_size: int, shuffle: bool = True, seed: int = 0,
                drop_last: bool = False, collate_fn: Callable | None = None) -> DataLoader:
    """A DataLoader with its own seeded generator (needed for exact resumption)."""
    check_int("batch_size", batch_size, min_value=1)
    try:
        size = len(dataset)  # type: ignore[arg-type]
    except TypeError:  # an IterableDataset has no length
        size = None
    if size == 0:
        raise ValueError(f"the dataset is empty ({type(dataset).__name__} with 0 examples): "
                         "there is nothing to load -- check the split, the filter or the "
                         "fraction that built it")
    if size is not None and drop_last and size < batch_size:
        raise ValueError(f"drop_last=True with {size} examples and batch_size={batch_size} "
                         "gives no batch at all: lower batch_size or set drop_last=False")
    generator = torch.Generator().manual_seed(seed)
    return DataLoader(dataset, batch_size=batch_size, shuffle=shuffle, drop_last=drop_last,
                      generator=generator, collate_fn=collate_fn)


class _BatchStream:
    """Yields batches and knows its position (epoch, index) so it can be replayed."""

    def __init__(self, data: Iterable[Batch] | Callable[[int], Batch], seed: int) -> None:
        self.data, self.seed = data, seed
        self.epoch, self.index, self.calls, self.total = 0, 0, 0, 0
        self._iter: Iterator[Batch] | None = None
        if isinstance(data, DataLoader):
            if data.generator is None:  # else iter() draws its base seed from the global RNG
                data.generator = torch.Generator()
            if isinstance(data.sampler, RandomSampler) and data.sampler.generator is None:
                data.sampler.generator = data.generator

    def _start_epoch(self) -> None:
        if isinstance(self.data, DataLoader):
            self.data.generator.manual_seed(self.seed + self.epoch)
        self._iter = iter(self.data)

    def next(self) -> Batch:
        """The next batch (a new epoch starts when the iterable is exhausted)."""
        if callable(self.data) and not isinstance(self.data, Iterable):
            batch = self.data(self.calls)
            self.calls += 1
            return batch
        for _ in range(2):
            if self._iter is None:
                self._start_epoch()
            try:
                batch = next(self._iter)
                self.index += 1
                self.total += 1
                return batch
            except StopIteration:
                self.epoch, self.index, self._iter = self.epoch + 1, 0, None
        if self.total > 0 and isinstance(self.data, Iterator):
            raise ValueError(
                f"train_data is a one-shot iterator ({type(self.data).__name__}) and ran out "
                f"after {self.total} batches; training needs more. Pass something that can be "
                "iterated again -- a list of batches, a DataLoader -- or a function "
                "step -> batch.")
        raise ValueError("train_data yielded no batches (is the dataset empty, or "
                         "drop_last=True with fewer examples than batch_size?)")

    def state(self) -> dict[str, int]:
        """Position in the stream."""
        return {"epoch": self.epoch, "index": self.index, "calls": self.calls}

    def restore(self, state: dict[str, int]) -> None:
        """Replay to a saved position (skips the batches already consumed)."""
        self.epoch, self.calls, self.index, self._iter = state["epoch"], state["calls"], 0, None
        if not (callable(self.data) and not isinstance(self.data, Iterable)):
            self._start_epoch()
            for _ in range(state["index"]):
                next(self._iter)
                self.index += 1


def _split_loss(output: Any) -> tuple[torch.Tensor, dict[str, float]]:
    if isinstance(output, tuple):
        loss, extra = output
    else:
        loss, extra = output, {}
    if not isinstance(loss, torch.Tensor) or loss.ndim != 0:
        raise TypeError("loss_fn must return a scalar tensor (or (scalar, dict)), got "
                        f"{type(loss).__name__} {getattr(loss, 'shape', '')}")
    return loss, {k: float(v) for k, v in extra.items()}


@torch.no_grad()
def evaluate_loss(model: nn.Module, batches: Iterable[Batch], loss_fn: LossFn,
                  device: torch.device | str = "cpu", max_batches: int | None = None
                  ) -> float:
    """Mean of ``loss_fn`` over (up to ``max_batches``) batches, in eval mode."""
    was_training = model.training
    model.eval()
    total, count = 0.0, 0
    for i, batch in enumerate(batches):
        if max_batches is not None and i >= max_batches:
            break
        loss, _ = _split_loss(loss_fn(model, move_to(batch, device)))
        total, count = total + float(loss), count + 1
    model.train(was_training)
    if count == 0:
        raise ValueError("evaluate_loss got no batches")
    return total / count


def _group_lrs(groups: Sequence[dict[str, Any]]) -> list[float]:
    """Each parameter group's starting LR (``initial_lr`` once a scheduler has set it)."""
    return [float(g.get("initial_lr", g.get("lr", math.nan))) for g in groups]


def _check_resumable(path: Path, state: dict[str, Any], config: TrainConfig,
                     optimizer: torch.optim.Optimizer) -> None:
    """Refuse to resume a checkpoint made by a different run, saying what differs."""
    missing = [k for k in ("model", "optimizer", "step", "stream", "rng", "history")
               if k not in state]
    if missing:
        raise ValueError(f"{path} is not a train() checkpoint: it has no {missing}")
    saved = state.get("config") or {}
    differs = [f"{name}: checkpoint {saved[name]!r}, now {getattr(config, name)!r}"
               for name in ("seed", "accum_steps", "grad_clip")
               if name in saved and saved[name] != getattr(config, name)]
    saved_groups = state["optimizer"].get("param_groups", [])
    before, now = state.get("base_lrs"), _group_lrs(optimizer.param_groups)
    if len(saved_groups) != len(optimizer.param_groups):
        differs.append(f"parameter groups: checkpoint {len(saved_groups)}, now "
                       f"{len(optimizer.param_groups)}")
    elif before is not None and (len(before) != len(now) or any(
            not math.isclose(a, b, rel_tol=1e-9) for a, b in zip(before, now))):
        differs.append(f"learning rate: checkpoint {before}, now {now}")
    if differs:
        raise ValueError(f"cannot resume from {path}: it was made by a different run ("
                         + "; ".join(differs) + "). Resume with the same settings, or start "
                         "afresh with resume=False or another checkpoint_dir.")
    if state["step"] > config.max_steps:
        raise ValueError(f"cannot resume from {path}: it is at step {state['step']}, beyond "
                         f"max_steps={config.max_steps}. Raise max_steps to continue, or "
                         "start afresh with resume=False or another checkpoint_dir.")


class TrainingDiverged(FloatingPointError):
    """The loss or the gradient norm became NaN or infinite; ``history`` holds the steps so far."""

    def __init__(self, message: str, history: "History") -> None:
        super().__init__(message)
        self.history = history


def train(
    model: nn.Module,
    optimizer: torch.optim.Optimizer,
    train_data: Iterable[Batch] | Callable[[int], Batch],
    loss_fn: LossFn,
    config: TrainConfig,
    *,
    scheduler: Any | None = None,
    eval_fn: EvalFn | None = None,
    callbacks: Sequence[Callback] = (),
    device: torch.device | str | None = None,
) -> History:
    """Train ``model`` for ``config.max_steps`` optimizer steps; return the History."""
    check_type("model", model, nn.Module)
    check_type("optimizer", optimizer, torch.optim.Optimizer)
    check_type("config", config, TrainConfig)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable (model, batch) -> loss, got {loss_fn!r}")
    if not (isinstance(train_data, Iterable) or callable(train_data)):
        raise TypeError("train_data must be an iterable of batches (e.g. a DataLoader) or a "
                        f"function step -> batch, got {type(train_data).__name__}")
    device = torch.device(device) if device is not None else next(model.parameters()).device
    model.to(device)
    precision = choose_precision(device, config.precision)
    scaler = torch.amp.GradScaler(device.type) if precision.use_grad_scaler else None
    stream = _BatchStream(train_data, config.seed)
    history, step = History(), 0
    base_lrs = _group_lrs(optimizer.param_groups)  # before a checkpoint's state replaces them
    ckpt_path = Path(config.checkpoint_dir) / CHECKPOINT_NAME if config.checkpoint_dir else None

    if config.resume and ckpt_path is not None and ckpt_path.exists():
        state = load_checkpoint(ckpt_path, map_location=device)
        _check_resumable(ckpt_path, state, config, optimizer)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
        if scheduler is not None and state.get("scheduler") is not None:
            scheduler.load_state_dict(state["scheduler"])
        if scaler is not None and state.get("scaler") is not None:
            scaler.load_state_dict(state["scaler"])
        history, step = History.from_dict(state["history"]), state["step"]
        stream.restore(state["stream"])
        restore_rng_state(state["rng"])

    def checkpoint() -> None:
        if ckpt_path is None:
            return
        save_checkpoint(ckpt_path, {
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict() if scheduler is not None else None,
            "scaler": scaler.state_dict() if scaler is not None else None,
            "step": step, "stream": stream.state(), "rng": capture_rng_state(),
            "history": history.to_dict(), "config": asdict(config), "base_lrs": base_lrs,
        })

    writer = None
    if config.tensorboard_dir:
        from torch.utils.tensorboard import SummaryWriter

        writer = SummaryWriter(config.tensorboard_dir)

    def run_eval() -> None:
        if eval_fn is None:
            return
        was_training = model.training
        model.eval()
        with torch.no_grad(), precision.autocast():
            results = eval_fn(model)
        model.train(was_training)
        history.eval_step.append(step)
        for name, value in results.items():
            history.eval.setdefault(name, []).append(float(value))
            if writer is not None:
                writer.add_scalar(f"eval/{name}", float(value), step)
        state = TrainState(step, model, optimizer, history, config)
        for cb in callbacks:
            cb("eval", state)

    params = [p for p in model.parameters() if p.requires_grad]
    bar = tqdm(total=config.max_steps, initial=step, desc=config.desc,
               disable=not config.progress, leave=False, mininterval=0.5)
    started = time.perf_counter() - history.seconds
    model.train()
    stop = False
    try:
        while step < config.max_steps and not stop:
            optimizer.zero_grad(set_to_none=True)
            step_loss, step_metrics, diverged = 0.0, {}, ""
            for micro in range(config.accum_steps):
                batch = move_to(stream.next(), device)
                with precision.autocast():
                    loss, extra = _split_loss(loss_fn(model, batch))
                value = float(loss.detach())
                if not math.isfinite(value):
                    diverged = (f"step {step + 1}: the loss is {value} (micro-batch "
                                f"{micro + 1} of {config.accum_steps})")
                    break
                scaled = loss / config.accum_steps
                (scaler.scale(scaled) if scaler is not None else scaled).backward()
                step_loss += value / config.accum_steps
                for k, v in extra.items():
                    step_metrics[k] = step_metrics.get(k, 0.0) + v / config.accum_steps
            if not diverged:
                if scaler is not None:
                    scaler.unscale_(optimizer)
                max_norm = config.grad_clip if config.grad_clip is not None else math.inf
                grad_norm = float(torch.nn.utils.clip_grad_norm_(params, max_norm))
                if scaler is None and not math.isfinite(grad_norm):  # AMP skips these itself
                    diverged = f"step {step + 1}: the gradient norm is {grad_norm} " \
                               f"(loss {step_loss:.4g})"
            if diverged:
                history.stop_reason = f"{diverged}; training stopped before the update"
                if config.nonfinite == "stop":
                    optimizer.zero_grad(set_to_none=True)
                    break
                raise TrainingDiverged(
                    f"{history.stop_reason}. Typical causes: a learning rate too high, log(0), "
                    "sqrt(0) or a division by zero in the loss, or bad values in the batch. "
                    "history has the steps so far (TrainConfig(nonfinite='stop') ends "
                    "quietly instead, e.g. in an LR range test).", history)
            lr = float(optimizer.param_groups[0]["lr"])
            if scaler is not None:
                scaler.step(optimizer)
                scaler.update()
            else:
                optimizer.step()
            if scheduler is not None:
                if isinstance(scheduler, torch.optim.lr_scheduler.ReduceLROnPlateau):
                    scheduler.step(step_loss)
                else:
                    scheduler.step()
            step += 1
            history.step.append(step)
            history.train_loss.append(step_loss)
            history.lr.append(lr)
            history.grad_norm.append(grad_norm)
            for k, v in step_metrics.items():
                history.metrics.setdefault(k, []).append(v)
            if writer is not None:
                writer.add_scalar("train/loss", step_loss, step)
                writer.add_scalar("train/lr", lr, step)
                writer.add_scalar("train/grad_norm", grad_norm, step)
            bar.update(1)
            # refresh=False: the bar redraws at most every mininterval seconds. Redrawing on
            # every step floods a notebook's output channel (a tqdm widget message per step),
            # which made nbval time out waiting for output in a 750-step run.
            bar.set_postfix(loss=f"{step_loss:.4f}", lr=f"{lr:.2e}", refresh=False)
            if config.eval_every and step % config.eval_every == 0 and step < config.max_steps:
                run_eval()
            state = TrainState(step, model, optimizer, history, config, last_loss=step_loss)
            for cb in callbacks:
                cb("step", state)
            stop = state.stop
            history.seconds = time.perf_counter() - started
            if config.checkpoint_every and step % config.checkpoint_every == 0:
                checkpoint()
        if step >= config.max_steps and (not history.eval_step or history.eval_step[-1] != step):
            run_eval()
        history.seconds = time.perf_counter() - started
        checkpoint()
        end_state = TrainState(step, model, optimizer, history, config)
        for cb in callbacks:
            cb("end", end_state)
    finally:
        bar.close()
        if writer is not None:
            writer.close()
    return history
