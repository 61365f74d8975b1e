"""course_utils.precision: formats, the scaler update (== torch.amp.GradScaler), memory
accounting (== measured bytes), ZeRO formulas (== the ZeRO paper's numbers), the saved-tensor
meter, pipeline timing."""

import itertools
import time

import pytest
import torch
from torch import nn
from torch.utils.checkpoint import checkpoint

from course_utils.precision import (SavedTensorMeter, format_table, gpipe_bubble, lost_to_fp16,
                                    measured_bubble, pipeline_makespan, run_pipeline,
                                    scaler_update, state_bytes, tensor_bytes,
                                    underflow_fraction, zero_bytes_per_rank)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_format_table_matches_finfo_and_known_constants():
    rows = {r["format"]: r for r in format_table()}
    assert rows["float16"]["smallest normal"] == 2.0 ** -14 == torch.finfo(torch.float16).tiny
    assert rows["float16"]["smallest subnormal"] == 2.0 ** -24
    assert rows["float16"]["max"] == 65504 and rows["float16"]["eps"] == 2.0 ** -10
    assert rows["bfloat16"]["smallest normal"] == torch.finfo(torch.float32).tiny
    assert rows["bfloat16"]["eps"] == 2.0 ** -7
    for name, dtype in (("float16", torch.float16), ("bfloat16", torch.bfloat16),
                        ("float32", torch.float32)):
        sub = torch.tensor(rows[name]["smallest subnormal"], dtype=dtype)
        assert sub > 0 and sub / 2 == 0  # the smallest positive value: half of it rounds to 0
        assert rows[name]["exponent bits"] + rows[name]["mantissa bits"] + 1 == rows[name]["bits"]


def test_underflow_and_overflow_shares():
    values = torch.tensor([1e-9, 1e-6, 1e-3, 1.0, 0.0], dtype=torch.float64)
    assert underflow_fraction(values) == 0.25
    assert underflow_fraction(values, scale=2.0 ** 16) == 0.0
    assert underflow_fraction(values, dtype=torch.bfloat16) == 0.0
    assert lost_to_fp16(values, 1.0) == (0.25, 0.0)
    assert lost_to_fp16(values, 2.0 ** 20) == (0.0, 0.25)
    with pytest.raises(ValueError):
        lost_to_fp16(torch.zeros(3), 1.0)


@pytest.mark.parametrize("seed", [0, 1])
def test_scaler_update_replays_torch_grad_scaler(seed):
    """Feed torch's GradScaler a sequence of clean and inf gradients; ours gives the same scales."""
    gen = torch.Generator().manual_seed(seed)
    flags = (torch.rand(60, generator=gen) < 0.2).tolist()
    param = nn.Parameter(torch.zeros(3))
    opt = torch.optim.SGD([param], lr=0.1)
    scaler = torch.amp.GradScaler("cpu", init_scale=1024.0, growth_interval=4)
    scale, tracker, torch_scales, ours = 1024.0, 0, [], []
    for inf in flags:
        before = param.detach().clone()
        opt.zero_grad(set_to_none=True)
        loss = (param * torch.full((3,), float("inf") if inf else 1.0)).sum()
        scaler.scale(loss).backward()
        scaler.step(opt)
        scaler.update()
        torch_scales.append((scaler.get_scale(), not torch.equal(before, param.detach())))
        scale, tracker, stepped = scaler_update(scale, tracker, inf, growth_interval=4)
        ours.append((scale, stepped))
    assert ours == torch_scales
    assert any(s for s in flags) and not all(flags)


def test_state_bytes_recipes():
    assert state_bytes(10, "mixed", "adam") == {"weights": 20, "gradients": 20,
                                                "master weights": 40, "optimizer states": 80,
                                                "total": 160}
    assert state_bytes(1, "fp32", "adam")["total"] == 16
    assert state_bytes(1, "fp32", "sgd")["total"] == 8
    assert state_bytes(1, "mixed", "momentum")["total"] == 12
    with pytest.raises(ValueError):
        state_bytes(1, "fp8", "adam")


def test_zero_stages_match_the_zero_paper():
    # Rajbhandari et al. 2020, Figure 1: 7.5 B parameters, N = 64, K = 12
    gb = [zero_bytes_per_rank(7_500_000_000, 64, s) / 1e9 for s in range(4)]
    assert [round(g, 1) for g in gb] == [120.0, 31.4, 16.6, 1.9]
    for n, s in itertools.product((1, 3), range(4)):
        if n == 1:
            assert zero_bytes_per_rank(1000, 1, s) == 16000
    assert zero_bytes_per_rank(100, 4, 1, optimizer="sgd") == 4 * 100 + 4 * 100 / 4


def test_memory_calculator_matches_measured_adam_state():
    model = nn.Sequential(nn.Linear(32, 64), nn.ReLU(), nn.Linear(64, 8))
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    model(torch.randn(4, 32)).sum().backward()
    opt.step()
    n = sum(p.numel() for p in model.parameters())
    states = [t for s in opt.state.values() for k, t in s.items() if k != "step"]
    measured = (tensor_bytes(model.parameters()) + tensor_bytes(p.grad for p in model.parameters())
                + tensor_bytes(states))
    assert measured == state_bytes(n, "fp32", "adam")["total"]


def test_tensor_bytes_counts_shared_storage_once():
    a = torch.zeros(100)
    assert tensor_bytes([a, a[:10], a.view(10, 10)]) == 400
    assert tensor_bytes([a, torch.zeros(10, dtype=torch.float16)]) == 420


def test_saved_tensor_meter_and_checkpointing():
    torch.manual_seed(0)
    blocks = nn.ModuleList([nn.Sequential(nn.Linear(16, 64), nn.GELU(), nn.Linear(64, 16))
                            for _ in range(3)])
    x = torch.randn(8, 16, requires_grad=True)

    def run(ck):
        h = x
        for b in blocks:
            h = checkpoint(b, h, use_reentrant=False) if ck else b(h)
        return h.sum()
    with SavedTensorMeter(exclude=blocks.parameters()) as plain:
        run(False)
    with SavedTensorMeter(exclude=blocks.parameters()) as ckpt:
        out = run(True)
    # plain: x, 64-wide pre-GELU and post-GELU per block, 16-wide inputs; checkpointed: inputs only
    assert plain.bytes > 3 * ckpt.bytes > 0
    assert ckpt.bytes <= 3 * 8 * 16 * 4
    out.backward()
    assert x.grad is not None


def _makespan_by_simulation(times, m):
    finish = [0.0] * len(times)
    for _ in range(m):
        ready = 0.0
        for s, t in enumerate(times):
            finish[s] = max(finish[s], ready) + t
            ready = finish[s]
    return finish[-1]


@pytest.mark.parametrize("times, m", [([1.0], 5), ([1.0, 1.0], 4), ([2.0, 1.0, 3.0], 7),
                                      ([0.5, 0.1, 0.1, 0.9], 1), ([1.0, 2.0], 10)])
def test_pipeline_makespan(times, m):
    assert pipeline_makespan(times, m) == pytest.approx(_makespan_by_simulation(times, m))
    if len(set(times)) == 1:
        p, t = len(times), times[0]
        assert pipeline_makespan(times, m) == (m + p - 1) * t
        assert gpipe_bubble(p, m) == pytest.approx(1 - m * p * t / (p * (m + p - 1) * t))


def test_run_pipeline_outputs_and_bubble():
    stages = [lambda x: x + 1, lambda x: x * 2, lambda x: x - 3]
    batches = [torch.full((2,), float(i)) for i in range(6)]
    outs, events = run_pipeline(stages, batches, slot_s=0.01)
    assert [o.tolist() for o in outs] == [[(i + 1) * 2 - 3] * 2 for i in range(6)]
    assert len(events) == 18
    assert abs(measured_bubble(events, 3) - gpipe_bubble(3, 6)) < 0.1
    for s in range(3):  # each stage processes micro-batches in order, one at a time
        mine = sorted((e for e in events if e.stage == s), key=lambda e: e.start)
        assert [e.micro for e in mine] == list(range(6))
        assert all(a.end <= b.start + 1e-9 for a, b in zip(mine, mine[1:]))


def test_run_pipeline_reports_a_failing_stage_at_once():
    stages = [torch.nn.Linear(4, 4), torch.nn.Linear(5, 5)]  # shapes do not chain
    start = time.perf_counter()
    with pytest.raises(RuntimeError, match="pipeline stage failed"):
        run_pipeline(stages, list(torch.randn(6, 4).chunk(3)), slot_s=0.001)
    assert time.perf_counter() - start < 5


def test_zero_bytes_per_rank_is_a_float():
    assert all(isinstance(zero_bytes_per_rank(1000, 2, s), float) for s in range(4))
