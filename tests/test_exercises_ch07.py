"""Chapter 07 checkers: solutions pass, plausible wrong ones fail with a message, stubs are ⏳."""

import pytest
import torch
from torch import nn

from course_utils.checking import FAILED, NOT_ATTEMPTED, PASSED, ExerciseNotSolved
from course_utils.exercises import ch07

pytestmark = pytest.mark.usefixtures("one_thread")


@pytest.fixture(autouse=True)
def _lenient(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "0")


def stub(*args, **kwargs):
    raise NotImplementedError


# --- Exercise 1: ZeRO bytes per rank -------------------------------------------------------
def zero_bytes(n_params, world_size, stage):
    weights, grads, fp32_state = 2 * n_params, 2 * n_params, 12 * n_params
    if stage >= 1:
        fp32_state /= world_size
    if stage >= 2:
        grads /= world_size
    if stage >= 3:
        weights /= world_size
    return weights + grads + fp32_state


def zero_bytes_no_master(n_params, world_size, stage):  # forgets the fp32 master copy (12 -> 8)
    return zero_bytes(n_params, world_size, stage) - 4 * n_params / (world_size if stage else 1)


def zero_bytes_stage1_shards_grads(n_params, world_size, stage):  # stage 1 == stage 2
    return zero_bytes(n_params, world_size, 2 if stage == 1 else stage)


def zero_bytes_master_replicated(n_params, world_size, stage):  # shards m and v, not the master
    return zero_bytes(n_params, world_size, stage) + (4 * n_params * (1 - 1 / world_size)
                                                      if stage >= 1 else 0)


def zero_bytes_fp32_adam(n_params, world_size, stage):  # 4 + 4 + 8: the fp32 recipe
    weights, grads, states = 4 * n_params, 4 * n_params, 8 * n_params
    return (weights / (world_size if stage >= 3 else 1) + grads / (world_size if stage >= 2 else 1)
            + states / (world_size if stage >= 1 else 1))


def zero_bytes_stage3_unsharded_weights(n_params, world_size, stage):
    return zero_bytes(n_params, world_size, stage) + (2 * n_params * (1 - 1 / world_size)
                                                      if stage == 3 else 0)


# --- Exercise 2: GradScaler update -----------------------------------------------------------
def scaler_update(scale, growth_tracker, found_inf, growth_interval=2000):
    if found_inf:
        return scale * 0.5, 0, False
    growth_tracker += 1
    if growth_tracker == growth_interval:
        return scale * 2.0, 0, True
    return scale, growth_tracker, True


def scaler_keeps_tracker(scale, growth_tracker, found_inf, growth_interval=2000):
    if found_inf:
        return scale * 0.5, growth_tracker, False
    return scaler_update(scale, growth_tracker, found_inf, growth_interval)


def scaler_off_by_one(scale, growth_tracker, found_inf, growth_interval=2000):
    if found_inf:
        return scale * 0.5, 0, False
    if growth_tracker == growth_interval:
        return scale * 2.0, 0, True
    return scale, growth_tracker + 1, True


def scaler_steps_on_inf(scale, growth_tracker, found_inf, growth_interval=2000):
    new_scale, tracker, _ = scaler_update(scale, growth_tracker, found_inf, growth_interval)
    return new_scale, tracker, True


# --- Exercise 3: all-gather from all-reduce ------------------------------------------------
def all_gather(shard, comm):
    rank, world = comm.get_rank(), comm.get_world_size()
    buf = torch.zeros((world * shard.shape[0],) + tuple(shard.shape[1:]), dtype=shard.dtype)
    buf[rank * shard.shape[0]:(rank + 1) * shard.shape[0]] = shard
    comm.all_reduce(buf)
    return buf


def all_gather_ones(shard, comm):  # fills the other slots with ones, not zeros
    rank, world = comm.get_rank(), comm.get_world_size()
    buf = torch.ones((world * shard.shape[0],) + tuple(shard.shape[1:]), dtype=shard.dtype)
    buf[rank * shard.shape[0]:(rank + 1) * shard.shape[0]] = shard
    comm.all_reduce(buf)
    return buf


def all_gather_sum(shard, comm):  # all-reduces the shard itself: a sum, not a gather
    comm.all_reduce(shard)
    return shard.repeat(comm.get_world_size(), *[1] * (shard.ndim - 1))


def all_gather_slot0(shard, comm):  # every rank writes into slot 0
    world = comm.get_world_size()
    buf = torch.zeros((world * shard.shape[0],) + tuple(shard.shape[1:]), dtype=shard.dtype)
    buf[:shard.shape[0]] = shard
    comm.all_reduce(buf)
    return buf


def all_gather_one_call_per_slot(shard, comm):  # right values, but N all-reduces
    rank, world = comm.get_rank(), comm.get_world_size()
    slots = []
    for r in range(world):
        slot = shard.clone() if r == rank else torch.zeros_like(shard)
        comm.all_reduce(slot)
        slots.append(slot)
    return torch.cat(slots)


def all_gather_mean(shard, comm):  # treats all_reduce as a mean: divides by the world size
    return all_gather(shard, comm) / comm.get_world_size()


# --- Exercise 4: pipeline makespan ---------------------------------------------------------
def makespan(stage_times, n_micro):
    return sum(stage_times) + (n_micro - 1) * max(stage_times)


def makespan_mean(stage_times, n_micro):  # the equal-stage formula with the mean time
    return (n_micro + len(stage_times) - 1) * sum(stage_times) / len(stage_times)


def makespan_last(stage_times, n_micro):  # the last stage sets the pace
    return sum(stage_times) + (n_micro - 1) * stage_times[-1]


def makespan_serial(stage_times, n_micro):  # no overlap at all
    return n_micro * sum(stage_times)


def makespan_sim_ignores_busy_stage(stage_times, n_micro):  # a stage never waits for itself
    finish = [0.0] * len(stage_times)
    for _ in range(n_micro):
        ready = 0.0
        for s, t in enumerate(stage_times):
            finish[s] = ready + t
            ready = finish[s]
    return finish[-1]


def makespan_sim_ignores_input(stage_times, n_micro):  # a stage never waits for its input
    finish = [0.0] * len(stage_times)
    for _ in range(n_micro):
        for s, t in enumerate(stage_times):
            finish[s] += t
    return finish[-1]


# --- Exercise 5: accumulation with one synchronisation ---------------------------------------
def _accumulate(model, micro_batches, comm, divide_k=True, divide_world=True, sync_each=False):
    k, world = len(micro_batches), comm.get_world_size()
    for p in model.parameters():
        p.grad = None
    for i, (x, y) in enumerate(micro_batches):
        loss = nn.functional.mse_loss(model(x), y)
        (loss / k if divide_k else loss).backward()
        if sync_each or i == k - 1:
            for p in model.parameters():
                comm.all_reduce(p.grad)
                if divide_world:
                    p.grad /= world
        if sync_each and i < k - 1:
            pass


def accumulate(model, micro_batches, comm):
    _accumulate(model, micro_batches, comm)


def accumulate_no_k(model, micro_batches, comm):
    _accumulate(model, micro_batches, comm, divide_k=False)


def accumulate_no_world(model, micro_batches, comm):
    _accumulate(model, micro_batches, comm, divide_world=False)


def accumulate_sync_every_micro(model, micro_batches, comm):  # right gradient, K x the traffic
    k, world = len(micro_batches), comm.get_world_size()
    total = None
    for x, y in micro_batches:
        for p in model.parameters():
            p.grad = None
        (nn.functional.mse_loss(model(x), y) / k).backward()
        for p in model.parameters():
            comm.all_reduce(p.grad)
            p.grad /= world
        grads = [p.grad.clone() for p in model.parameters()]
        total = grads if total is None else [a + b for a, b in zip(total, grads)]
    for p, g in zip(model.parameters(), total):
        p.grad = g


CHECKERS = [
    (ch07.check_zero_bytes, zero_bytes,
     [zero_bytes_no_master, zero_bytes_stage1_shards_grads, zero_bytes_stage3_unsharded_weights,
      zero_bytes_master_replicated, zero_bytes_fp32_adam]),
    (ch07.check_scaler_update, scaler_update,
     [scaler_keeps_tracker, scaler_off_by_one, scaler_steps_on_inf]),
    (ch07.check_all_gather_via_all_reduce, all_gather,
     [all_gather_ones, all_gather_sum, all_gather_slot0, all_gather_one_call_per_slot,
      all_gather_mean]),
    (ch07.check_pipeline_makespan, makespan, [makespan_mean, makespan_last, makespan_serial,
                                              makespan_sim_ignores_busy_stage,
                                              makespan_sim_ignores_input]),
    (ch07.check_accumulate_no_sync, accumulate,
     [accumulate_no_k, accumulate_no_world, accumulate_sync_every_micro]),
]


@pytest.mark.parametrize("checker, good, bads", CHECKERS, ids=[c[0].__name__ for c in CHECKERS])
def test_checker_verdicts(checker, good, bads, capsys):
    assert checker(good).status == PASSED
    for bad in bads:
        result = checker(bad)
        assert result.status == FAILED, bad.__name__
        assert "expected" in result.message and "got" in result.message
        assert "Hint:" in capsys.readouterr().out
    assert checker(stub).status == NOT_ATTEMPTED
    assert "not attempted yet" in capsys.readouterr().out


# --- Exercise 6: the experiment -------------------------------------------------------------
GRADS = torch.exp(torch.empty(4000).uniform_(-26, -2, generator=torch.Generator().manual_seed(0)))
SCALES = [1.0, 2.0 ** 8, 2.0 ** 16, 2.0 ** 24]


def lost(values, scale):
    stored = (values.double() * scale).to(torch.float16)
    nonzero = values != 0
    return (((stored == 0) & nonzero).float().mean().item(),
            (torch.isinf(stored) & nonzero).float().mean().item())


def lost_bf16(values, scale):  # measures in bfloat16: nothing underflows
    stored = (values.double() * scale).to(torch.bfloat16)
    return ((stored == 0).float().mean().item(), torch.isinf(stored).float().mean().item())


def lost_swapped(values, scale):
    u, o = lost(values, scale)
    return o, u


def lost_scale_in_fp16(values, scale):  # casts first, then scales: underflow already happened
    stored = values.to(torch.float16) * scale
    return ((stored == 0).float().mean().item(), torch.isinf(stored).float().mean().item())


def test_experiment_checker(capsys):
    assert ch07.check_loss_scale_sweep(lost, GRADS, SCALES).status == PASSED
    assert "scale 2^ 16.0" in capsys.readouterr().out
    for bad in (lost_bf16, lost_swapped, lost_scale_in_fp16):
        assert ch07.check_loss_scale_sweep(bad, GRADS, SCALES).status == FAILED, bad.__name__
    narrow = ch07.check_loss_scale_sweep(lost, GRADS, [1.0, 2.0, 4.0, 8.0])
    assert narrow.status == FAILED and "2**24" in narrow.message
    assert ch07.check_loss_scale_sweep(stub, GRADS, SCALES).status == NOT_ATTEMPTED


def test_crashing_solution_is_reported_not_raised():
    result = ch07.check_all_gather_via_all_reduce(lambda shard, comm: shard.view(-1, 7))
    assert result.status == FAILED and "raised RuntimeError" in result.message


def test_rank_that_skips_the_collective_fails_without_hanging():
    def only_rank0(shard, comm):
        if comm.get_rank() == 0:
            comm.all_reduce(shard)
        return shard
    result = ch07.check_all_gather_via_all_reduce(only_rank0)
    assert result.status == FAILED


def test_strict_mode_raises(monkeypatch):
    monkeypatch.setenv("COURSE_EXPECT_SOLVED", "1")
    with pytest.raises(ExerciseNotSolved):
        ch07.check_pipeline_makespan(stub)


def test_zero_bytes_message_names_bytes_per_parameter():
    result = ch07.check_zero_bytes(zero_bytes_master_replicated)
    assert result.status == FAILED and "B per parameter" in result.message
    result = ch07.check_zero_bytes(lambda n, w, s: zero_bytes(n, w, s) / 1e9)  # GB, not bytes
    assert result.status == FAILED and "expected an int" not in result.message
    assert ch07.check_zero_bytes(lambda n, w, s: int(zero_bytes(n, w, s))).status == PASSED


def test_one_all_reduce_message_says_why():
    result = ch07.check_all_gather_via_all_reduce(all_gather_one_call_per_slot)
    assert "exactly one all_reduce call per rank" in result.message


def test_accumulation_variants_that_are_right_pass():
    def loss_over_k_times_world(model, micro_batches, comm):  # divide up front, plain sum
        k, world = len(micro_batches), comm.get_world_size()
        for x, y in micro_batches:
            (nn.functional.mse_loss(model(x), y) / (k * world)).backward()
        for p in model.parameters():
            comm.all_reduce(p.grad)
    assert ch07.check_accumulate_no_sync(loss_over_k_times_world).status == PASSED


def test_accumulation_zeroing_inside_the_loop_fails():
    def zero_each_time(model, micro_batches, comm):  # keeps only the last micro-batch
        for x, y in micro_batches:
            model.zero_grad()
            nn.functional.mse_loss(model(x), y).backward()
        for p in model.parameters():
            comm.all_reduce(p.grad)
            p.grad /= comm.get_world_size()
    assert ch07.check_accumulate_no_sync(zero_each_time).status == FAILED
