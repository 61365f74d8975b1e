"""Number formats, loss scaling, memory accounting and pipeline timing (chapter 07).

* ``format_table()`` -- fp32 / fp16 / bf16 from ``torch.finfo``: bits, eps, max, smallest
  normal and smallest subnormal.
* ``underflow_fraction(values, scale, dtype)`` -- share of non-zero values that become 0 when
  ``values * scale`` is stored in a low-precision format.
* ``scaler_update(...)`` -- one ``GradScaler.update`` step written out (back off on inf,
  grow after ``growth_interval`` clean steps), equal to torch's.
* ``state_bytes(n_params, precision, optimizer)`` -- bytes of weights, gradients, master
  copy and optimizer states; ``zero_bytes_per_rank`` -- the same under ZeRO stage 0-3.
* ``tensor_bytes(tensors)`` -- measured bytes of distinct storages;
  ``SavedTensorMeter`` -- bytes autograd saves for backward (activations).
* ``pipeline_makespan`` / ``gpipe_bubble`` -- pipeline timing; ``run_pipeline`` runs stages
  in threads with a fixed time slot per micro-batch and returns the measured timeline.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import torch

from course_utils.validation import check_choice, check_int

__all__ = ["format_table", "underflow_fraction", "scaler_update", "OPTIMIZER_STATES",
           "state_bytes", "zero_bytes_per_rank", "tensor_bytes", "SavedTensorMeter",
           "pipeline_makespan", "gpipe_bubble", "PipelineEvent", "run_pipeline",
           "measured_bubble", "lost_to_fp16"]

FORMATS = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def format_table() -> list[dict]:
    """One row per format: bits (sign/exponent/mantissa), eps, max, smallest normal/subnormal."""
    layout = {"float32": (1, 8, 23), "float16": (1, 5, 10), "bfloat16": (1, 8, 7)}
    rows = []
    for name, dtype in FORMATS.items():
        info = torch.finfo(dtype)
        sign, exponent, mantissa = layout[name]
        rows.append({"format": name, "bits": info.bits, "exponent bits": exponent,
                     "mantissa bits": mantissa, "eps": info.eps, "max": info.max,
                     "smallest normal": info.tiny,
                     "smallest subnormal": info.smallest_normal * 2.0 ** -mantissa})
    return rows


def underflow_fraction(values: torch.Tensor, scale: float = 1.0,
                       dtype: torch.dtype = torch.float16) -> float:
    """Share of the non-zero ``values`` that are 0 after ``(values * scale).to(dtype)``."""
    nonzero = values != 0
    if not bool(nonzero.any()):
        raise ValueError("values has no non-zero entry")
    stored = (values.double() * scale).to(dtype)
    return float(((stored == 0) & nonzero).sum() / nonzero.sum())


def scaler_update(scale: float, growth_tracker: int, found_inf: bool, *,
                  growth_factor: float = 2.0, backoff_factor: float = 0.5,
                  growth_interval: int = 2000) -> tuple[float, int, bool]:
    """One ``GradScaler`` step: returns ``(new_scale, new_growth_tracker, optimizer_stepped)``.

    inf/NaN in the gradients: skip the optimizer step, multiply the scale by
    ``backoff_factor`` and restart the count of clean steps. Otherwise step, count the clean
    step, and after ``growth_interval`` clean steps in a row multiply the scale by
    ``growth_factor`` and restart the count.
    """
    if found_inf:
        return scale * backoff_factor, 0, False
    clean = growth_tracker + 1
    if clean == growth_interval:
        return scale * growth_factor, 0, True
    return scale, clean, True


#: fp32 tensors of optimizer state per parameter (SGD: none; momentum: 1; Adam: m and v)
OPTIMIZER_STATES = {"sgd": 0, "momentum": 1, "adam": 2}


def state_bytes(n_params: int, precision: str = "mixed", optimizer: str = "adam") -> dict:
    """Bytes of the training state of ``n_params`` parameters (activations excluded).

    ``precision="fp32"``: fp32 weights and gradients. ``"mixed"``: 16-bit weights and
    gradients (fp16 or bf16) plus an fp32 master copy of the weights. Optimizer states are
    fp32 in both. Mixed-precision Adam: 2 + 2 + 4 + 4 + 4 = 16 bytes per parameter.
    """
    check_int("n_params", n_params, min_value=0)
    check_choice("precision", precision, ("fp32", "mixed"))
    check_choice("optimizer", optimizer, tuple(OPTIMIZER_STATES))
    low = 2 if precision == "mixed" else 4
    parts = {"weights": low * n_params, "gradients": low * n_params,
             "master weights": 4 * n_params if precision == "mixed" else 0,
             "optimizer states": 4 * OPTIMIZER_STATES[optimizer] * n_params}
    parts["total"] = sum(parts.values())
    return parts


def zero_bytes_per_rank(n_params: int, world_size: int, stage: int,
                        optimizer: str = "adam") -> float:
    """Bytes of mixed-precision training state on each of ``world_size`` data-parallel ranks.

    Stage 0 (plain DDP): everything replicated, (2 + 2 + K)Ψ with K = 4 (master) + 4 per
    optimizer state. Stage 1 shards the optimizer states and master weights: 4Ψ + KΨ/N.
    Stage 2 also shards gradients: 2Ψ + (2 + K)Ψ/N. Stage 3 also the 16-bit weights:
    (4 + K)Ψ/N.
    """
    check_int("n_params", n_params, min_value=0)
    check_int("world_size", world_size, min_value=1)
    check_choice("stage", stage, (0, 1, 2, 3))
    k = 4 + 4 * OPTIMIZER_STATES[check_choice("optimizer", optimizer, tuple(OPTIMIZER_STATES))]
    psi, n = n_params, world_size
    return float({0: (4 + k) * psi, 1: 4 * psi + k * psi / n, 2: 2 * psi + (2 + k) * psi / n,
                  3: (4 + k) * psi / n}[stage])


def tensor_bytes(tensors: Iterable[torch.Tensor]) -> int:
    """Measured bytes of the distinct storages behind ``tensors`` (shared ones counted once)."""
    seen: dict[int, int] = {}
    for t in tensors:
        storage = t.untyped_storage()
        seen[storage.data_ptr()] = storage.nbytes()
    return sum(seen.values())


class SavedTensorMeter:
    """Bytes autograd saves for backward inside the ``with`` block (distinct storages).

    ``exclude`` (e.g. the model's parameters) are not counted: they exist anyway. Uses
    ``torch.autograd.graph.saved_tensors_hooks``, so it sees exactly what backward will read.
    """

    def __init__(self, exclude: Iterable[torch.Tensor] = ()) -> None:
        self._exclude = {t.untyped_storage().data_ptr() for t in exclude}
        self._seen: dict[int, int] = {}
        self._hooks = torch.autograd.graph.saved_tensors_hooks(self._pack, lambda t: t)

    def _pack(self, t: torch.Tensor) -> torch.Tensor:
        storage = t.untyped_storage()
        ptr = storage.data_ptr()
        if ptr not in self._exclude:
            self._seen[ptr] = storage.nbytes()
        return t

    @property
    def bytes(self) -> int:
        """Distinct saved bytes so far."""
        return sum(self._seen.values())

    def __enter__(self) -> "SavedTensorMeter":
        self._hooks.__enter__()
        return self

    def __exit__(self, *exc: object) -> None:
        self._hooks.__exit__(*exc)


def pipeline_makespan(stage_times: Sequence[float], n_micro: int) -> float:
    """Forward time of ``n_micro`` equal micro-batches through stages of the given times.

    Micro-batch j enters stage s when stage s-1 has finished it and stage s has finished
    micro-batch j-1; the total is ``sum(stage_times) + (n_micro - 1) * max(stage_times)``.
    """
    check_int("n_micro", n_micro, min_value=1)
    if not stage_times or min(stage_times) < 0:
        raise ValueError(f"stage_times must be non-empty and >= 0, got {stage_times}")
    return float(sum(stage_times) + (n_micro - 1) * max(stage_times))


def gpipe_bubble(n_stages: int, n_micro: int) -> float:
    """Idle share of a GPipe schedule with equal stages: (p - 1) / (m + p - 1)."""
    check_int("n_stages", n_stages, min_value=1)
    check_int("n_micro", n_micro, min_value=1)
    return (n_stages - 1) / (n_micro + n_stages - 1)


@dataclass(frozen=True)
class PipelineEvent:
    stage: int
    micro: int
    start: float  # seconds from the pipeline's start
    end: float


def run_pipeline(stages: Sequence[Callable[[torch.Tensor], torch.Tensor]],
                 micro_batches: Sequence[torch.Tensor], slot_s: float
                 ) -> tuple[list[torch.Tensor], list[PipelineEvent]]:
    """Run ``stages`` as a pipeline, one thread per stage ("device"), queues between them.

    Each stage computes its real output and then waits until ``slot_s`` has passed since it
    started that micro-batch, standing in for a device kernel of fixed duration (the wait
    releases the GIL like a GPU does, so stages overlap as on separate devices).
    Returns the outputs in order and every (stage, micro-batch, start, end) event.
    """
    if slot_s <= 0:
        raise ValueError(f"slot_s must be > 0, got {slot_s}")
    p = len(stages)
    queues: list[queue.Queue] = [queue.Queue() for _ in range(p + 1)]
    events: list[PipelineEvent] = []
    lock = threading.Lock()
    t0 = time.perf_counter()

    def worker(s: int) -> None:
        for _ in range(len(micro_batches)):
            j, x = queues[s].get()
            if isinstance(x, BaseException):  # an earlier stage failed: pass it on
                queues[s + 1].put((j, x))
                continue
            start = time.perf_counter()
            try:
                with torch.no_grad():
                    y = stages[s](x)
            except Exception as err:  # noqa: BLE001 -- re-raised by the caller below
                queues[s + 1].put((j, err))
                continue
            remaining = slot_s - (time.perf_counter() - start)
            if remaining > 0:
                time.sleep(remaining)
            end = time.perf_counter()
            with lock:
                events.append(PipelineEvent(s, j, start - t0, end - t0))
            queues[s + 1].put((j, y))

    threads = [threading.Thread(target=worker, args=(s,), daemon=True) for s in range(p)]
    for t in threads:
        t.start()
    for j, x in enumerate(micro_batches):
        queues[0].put((j, x))
    outputs = [None] * len(micro_batches)
    for _ in micro_batches:
        j, y = queues[p].get(timeout=60)
        outputs[j] = y
    for t in threads:
        t.join(timeout=10)
    failed = next((y for y in outputs if isinstance(y, BaseException)), None)
    if failed is not None:
        raise RuntimeError(f"a pipeline stage failed: {type(failed).__name__}: "
                           f"{failed}") from failed
    return outputs, sorted(events, key=lambda e: (e.stage, e.micro))  # type: ignore[return-value]


def measured_bubble(events: Sequence[PipelineEvent], n_stages: int) -> float:
    """1 - busy time / (stages x makespan), from a measured timeline."""
    makespan = max(e.end for e in events) - min(e.start for e in events)
    busy = sum(e.end - e.start for e in events)
    return 1.0 - busy / (n_stages * makespan)


def lost_to_fp16(values: torch.Tensor, scale: float) -> tuple[float, float]:
    """(underflow share, overflow share) of the non-zero ``values`` stored as fp16 after
    multiplying by ``scale``: those that become 0, and those that become inf."""
    nonzero = values != 0
    if not bool(nonzero.any()):
        raise ValueError("values has no non-zero entry")
    stored = (values.double() * scale).to(torch.float16)
    n = nonzero.sum()
    return (float(((stored == 0) & nonzero).sum() / n),
            float((torch.isinf(stored) & nonzero).sum() / n))
