"""Checkers for chapter 07 (mixed precision and multi-GPU training)."""

from __future__ import annotations

import copy
from collections.abc import Callable

import torch
from torch import nn

from course_utils.checking import Case, CheckResult, run_check
from course_utils.distributed import ThreadGroup, run_in_threads
from course_utils.precision import (lost_to_fp16, pipeline_makespan, scaler_update,
                                    zero_bytes_per_rank)


def check_zero_bytes(fn: Callable[[int, int, int], float]) -> CheckResult:
    """Exercise 1: bytes per rank of mixed-precision Adam under ZeRO stage 0-3."""
    settings = [(1_000_000, 1, 0), (1_000_000, 4, 0), (7_500_000_000, 64, 1),
                (7_500_000_000, 64, 2), (7_500_000_000, 64, 3), (1_000, 2, 1), (1_000, 2, 2),
                (1_000, 2, 3), (350_000_000, 8, 3), (350_000_000, 1, 2)]
    def case(n: int, world: int, stage: int) -> Case:
        expected = zero_bytes_per_rank(n, world, stage)

        def check(got):
            if isinstance(got, bool) or not isinstance(got, (int, float)):
                return False, f"{expected:,.0f} (a number of bytes)"
            if abs(float(got) - expected) <= 0.5 + 1e-9 * expected:
                return True, ""
            # per parameter, the learner sees which group of bytes is off
            return False, (f"{expected:,.0f} bytes = {expected / n:.6g} B per parameter; "
                           f"yours is {float(got) / n:.6g} B per parameter")
        return Case(args=(n, world, stage),
                    label=f"n_params={n:,}, world_size={world}, stage={stage}", check=check)

    return run_check("Exercise 1 · zero_bytes", fn, [case(*s) for s in settings],
                     hint="count bytes per parameter first: 16-bit weights (2) and gradients "
                          "(2), then the fp32 state the optimizer needs (master copy, m, v). "
                          "Each stage divides one more group by the number of ranks.")


def check_scaler_update(fn: Callable[..., tuple[float, int, bool]]) -> CheckResult:
    """Exercise 2: GradScaler.update: back off on inf, grow after growth_interval clean steps."""
    settings = [(65536.0, 0, True, 2000), (65536.0, 5, True, 2000), (65536.0, 0, False, 2000),
                (65536.0, 1998, False, 2000), (65536.0, 1999, False, 2000),
                (1024.0, 2, False, 3), (1024.0, 3, True, 3), (8.0, 0, False, 1),
                (2.0 ** 24, 7, True, 8)]
    cases = [Case(args=(s, t, f), kwargs={"growth_interval": g},
                  label=f"scale={s:g}, growth_tracker={t}, found_inf={f}, growth_interval={g}")
             for s, t, f, g in settings]

    def reference(scale, tracker, found_inf, growth_interval):
        return scaler_update(scale, tracker, found_inf, growth_interval=growth_interval)

    return run_check("Exercise 2 · scaler_update", fn, cases, reference=reference,
                     comparator=lambda got, exp: isinstance(got, tuple) and len(got) == 3
                     and float(got[0]) == exp[0] and int(got[1]) == exp[1]
                     and bool(got[2]) == exp[2],
                     hint="an inf means the gradients are garbage: what must happen to the "
                          "step, the scale, and the count of clean steps? Without inf, count "
                          "this clean step first, then compare the count with the interval.")


def _shards(world: int, shape: tuple[int, ...], seed: int) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(seed)
    return [torch.randn(*shape, generator=gen) for _ in range(world)]


def check_all_gather_via_all_reduce(fn: Callable[..., torch.Tensor]) -> CheckResult:
    """Exercise 3: all-gather built from one all-reduce (sum) in a simulated process group."""
    settings = [(2, (3,), 0), (3, (4,), 1), (4, (2, 5), 2), (5, (1,), 3)]

    def run(world: int, shape: tuple[int, ...], seed: int):
        shards = _shards(world, shape, seed)
        group = ThreadGroup(world, timeout_s=5.0)
        outs = run_in_threads(lambda comm: fn(shards[comm.get_rank()].clone(), comm), world,
                              group=group)
        return shards, outs, group

    def case(world, shape, seed):
        def check(result):
            shards, outs, group = result
            expected = torch.cat(shards, 0)
            for r, out in enumerate(outs):
                if not isinstance(out, torch.Tensor) or out.shape != expected.shape:
                    return False, (f"rank {r}: a tensor of shape {tuple(expected.shape)}; got "
                                   f"{getattr(out, 'shape', type(out).__name__)}")
                diff = (out - expected).abs().max().item()
                if diff > 1e-6:
                    bad = int((out - expected).abs().flatten().argmax())
                    return False, (f"rank {r}: torch.cat(all shards) (max |diff| {diff:.3g}, "
                                   f"first bad element at flat index {bad})")
            if group.calls["send"] != [0] * world:
                return False, "only all_reduce calls (no send/recv)"
            if group.calls["all_reduce"] != [1] * world:
                return False, (f"exactly one all_reduce call per rank (the right values, but "
                               f"the all_reduce calls per rank were {group.calls['all_reduce']}:"
                               f" each one is a round of communication)")
            return True, ""
        return Case(args=(world, shape, seed), label=f"world_size={world}, shard shape={shape}",
                    check=check)

    return run_check("Exercise 3 · all_gather_via_all_reduce", run,
                     [case(*s) for s in settings],
                     hint="all_reduce adds what every rank contributes. What should each rank "
                          "put in the slots that belong to the *other* ranks so that the sum "
                          "leaves every shard intact?")


def check_pipeline_makespan(fn: Callable[[list[float], int], float]) -> CheckResult:
    """Exercise 4: forward time of m micro-batches through a pipeline of unequal stages."""
    settings = [([1.0, 1.0], 1), ([1.0, 1.0], 4), ([1.0, 1.0, 1.0, 1.0], 8), ([1.0, 3.0], 4),
                ([3.0, 1.0], 4), ([2.0, 1.0, 5.0], 10), ([0.5], 6), ([1.0, 2.0, 1.0], 1)]
    cases = [Case(args=(t, m), label=f"stage_times={t}, n_micro={m}") for t, m in settings]
    return run_check("Exercise 4 · pipeline_makespan", fn, cases, reference=pipeline_makespan,
                     hint="draw the schedule for stage_times=[1, 3] and 3 micro-batches: "
                          "when does each micro-batch enter stage 2, and which stage does "
                          "everything else wait for?")


class _Regressor(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)


def check_accumulate_no_sync(fn: Callable[..., None]) -> CheckResult:
    """Exercise 5: K micro-batches per rank, one all-reduce per parameter == full-batch gradient."""
    settings = [(2, 2, 4, 0), (2, 4, 3, 1), (3, 2, 5, 2), (1, 3, 4, 3), (4, 1, 2, 4)]

    def case(world, accum, batch, seed):
        torch.manual_seed(seed)
        model = _Regressor()
        gen = torch.Generator().manual_seed(seed)
        data = [[(torch.randn(batch, 4, generator=gen), torch.randn(batch, 1, generator=gen))
                 for _ in range(accum)] for _ in range(world)]
        full = copy.deepcopy(model)
        xs = torch.cat([x for rank in data for x, _ in rank])
        ys = torch.cat([y for rank in data for _, y in rank])
        nn.functional.mse_loss(full(xs), ys).backward()
        expected = [p.grad for p in full.parameters()]
        n_params = len(expected)

        def check(result):
            grads, group = result
            for r, rank_grads in enumerate(grads):
                for i, (g, e) in enumerate(zip(rank_grads, expected)):
                    if g is None:
                        return False, f"rank {r}: parameter {i} has a gradient (got None)"
                    diff = (g - e).abs().max().item()
                    if diff > 1e-5:
                        ratio = (g.norm() / e.norm()).item()
                        return False, (f"rank {r}, parameter {i}: the gradient of the mean "
                                       f"loss over all {world * accum * batch} samples "
                                       f"(max |diff| {diff:.3g}; |got|/|expected| = "
                                       f"{ratio:.3g})")
            calls = group.calls["all_reduce"]
            if any(c != n_params for c in calls):
                return False, (f"{n_params} all_reduce calls per rank (one per parameter, "
                               f"after the last micro-batch); got {calls}")
            return True, ""

        def run():
            group = ThreadGroup(world, timeout_s=5.0)

            def rank_fn(comm):
                replica = copy.deepcopy(model)
                fn(replica, data[comm.get_rank()], comm)
                return [p.grad for p in replica.parameters()]

            return run_in_threads(rank_fn, world, group=group), group

        return Case(args=(run,), label=f"world_size={world}, {accum} micro-batches of {batch} "
                                       f"per rank", check=check)

    return run_check("Exercise 5 · accumulate_no_sync", lambda run: run(),
                     [case(*s) for s in settings],
                     hint="DDP's gradient is the mean over every sample of every rank and "
                          "micro-batch. Which divisions make a sum of per-micro-batch means "
                          "into that mean, and when is the one synchronisation needed?")


def check_loss_scale_sweep(fn: Callable[[torch.Tensor, float], tuple[float, float]],
                           grads: torch.Tensor, scales: list[float]) -> CheckResult:
    """Exercise 6 (experiment): underflow falls and overflow rises as the loss scale grows.

    Runs ``fn(grads, scale)`` for every scale of the learner's sweep, checks each measurement
    against float16's behaviour and the direction of the effect, and prints the table.
    """
    def check(result):
        if not isinstance(result, dict) or len(result) < 4:
            return False, "a sweep over >= 4 scales"
        scales_sorted = sorted(result)
        if scales_sorted[0] > 1 or scales_sorted[-1] < 2 ** 24:
            return False, f"scales from 1 (or less) to 2**24 (or more); got {scales_sorted}"
        for s in scales_sorted:
            want = lost_to_fp16(grads, s)
            got = result[s]
            if not (isinstance(got, (tuple, list)) and len(got) == 2) or \
                    any(abs(float(a) - b) > 1e-9 for a, b in zip(got, want)):
                return False, (f"scale {s:g}: (underflow, overflow) = ({want[0]:.4f}, "
                               f"{want[1]:.4f}) measured on these gradients in float16; got "
                               f"{got}")
        under = [float(result[s][0]) for s in scales_sorted]
        over = [float(result[s][1]) for s in scales_sorted]
        if under[-1] >= under[0] or over[-1] <= over[0]:
            return False, "underflow to fall and overflow to rise from the smallest scale to " \
                          "the largest (choose a wider range)"
        if not any(u + o <= 0.01 for u, o in zip(under, over)):
            return False, "at least one scale in the sweep that loses <= 1 % of the values"
        return True, ""

    def sweep(values, chosen):
        return {float(s): tuple(fn(values.clone(), s)) for s in chosen}

    result = run_check("Exercise 6 · loss-scale sweep", sweep,
                       [Case(args=(grads, list(scales)), label="your sweep on the notebook's "
                             "gradients", check=check)],
                       hint="multiply in float64 (or float32), then cast to torch.float16; "
                            "count values that became exactly 0 and values that became inf, "
                            "each divided by the number of non-zero gradients.")
    if result.ok:
        for s in sorted(scales):
            u, o = lost_to_fp16(grads, s)
            print(f"   scale 2^{torch.log2(torch.tensor(float(s))).item():5.1f}: "
                  f"underflow {u:7.2%}  overflow {o:7.2%}")
    return result
