"""Chapter 07, teach-then-import: the notebook's ring all-reduce, sampler batches and exercise
solutions == course_utils'; the DDP helpers reproduce DataLoader + DistributedSampler."""

import pytest
import torch
from torch.utils.data import DataLoader, DistributedSampler, TensorDataset

from course_utils._maintain.testing import solution_notebook
from course_utils.distributed import ThreadGroup, ring_all_reduce, run_in_threads
from course_utils.precision import (lost_to_fp16, pipeline_makespan, scaler_update,
                                    zero_bytes_per_rank)

pytestmark = pytest.mark.usefixtures("one_thread")

NOTEBOOK = solution_notebook("07_mixed_precision_multi_gpu.ipynb")
NAMES = ["ring_all_reduce", "make_data", "make_model", "rank_batches", "zero_bytes",
         "my_scaler_update", "all_gather_via_all_reduce", "pipeline_makespan",
         "accumulate_no_sync", "lost_to_fp16"]


@pytest.mark.parametrize("world", [2, 3, 4, 6])
def test_notebook_ring_equals_course_utils_ring(nb, world):
    tensors = [torch.randn(5, 9, generator=torch.Generator().manual_seed(r)) for r in range(world)]
    ours_group, ref_group = ThreadGroup(world), ThreadGroup(world)
    ours = run_in_threads(lambda c: nb.ring_all_reduce(tensors[c.get_rank()].clone(), c), world,
                          group=ours_group)
    ref = run_in_threads(lambda c: ring_all_reduce(tensors[c.get_rank()].clone(), c), world,
                         group=ref_group)
    for a, b in zip(ours, ref):
        assert torch.equal(a, b) and torch.allclose(a, sum(tensors), atol=1e-5)
    assert ours_group.bytes_sent == ref_group.bytes_sent


def test_rank_batches_equal_a_distributed_dataloader(nb):
    n, world, batch = 40, 2, 4
    X, y = nb.make_data(n, 3, seed=0)
    dataset = TensorDataset(torch.arange(n))
    for epoch in (0, 1):
        for rank in range(world):
            sampler = DistributedSampler(dataset, num_replicas=world, rank=rank, shuffle=True,
                                         seed=7, drop_last=True)
            sampler.set_epoch(epoch)
            loader = DataLoader(dataset, batch_size=batch, sampler=sampler, drop_last=True)
            got = [b[0].tolist() for b in loader]
            assert got == nb.rank_batches(n, world, rank, batch, epoch, seed=7)
    assert nb.rank_batches(n, 2, 0, 4, 0, 7) != nb.rank_batches(n, 2, 0, 4, 1, 7)  # set_epoch
    assert X.shape == (n, 3) and y.shape == (n, 1)


def test_make_model_is_seeded(nb):
    a, b = nb.make_model(4, 8, seed=3), nb.make_model(4, 8, seed=3)
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_notebook_exercise_solutions_equal_course_utils(nb):
    for n, world, stage in [(10**9, 8, s) for s in range(4)] + [(12345, 3, 2)]:
        assert nb.zero_bytes(n, world, stage) == pytest.approx(zero_bytes_per_rank(n, world, stage))
    for args in [(1024.0, 3, False, 4), (1024.0, 2, True, 4), (8.0, 0, False, 1)]:
        assert nb.my_scaler_update(*args[:3], growth_interval=args[3]) == \
            scaler_update(*args[:3], growth_interval=args[3])
    for times, m in [([1.0, 3.0, 2.0], 5), ([1.0], 3)]:
        assert nb.pipeline_makespan(times, m) == pytest.approx(pipeline_makespan(times, m))
    grads = 10 ** torch.empty(1000, dtype=torch.float64).uniform_(-12, -1)
    for scale in (1.0, 2.0 ** 16, 2.0 ** 30):
        assert nb.lost_to_fp16(grads, scale) == pytest.approx(lost_to_fp16(grads, scale))
    shards = [torch.randn(2, 3) for _ in range(3)]
    outs = run_in_threads(lambda c: nb.all_gather_via_all_reduce(shards[c.get_rank()], c), 3)
    assert all(torch.allclose(o, torch.cat(shards)) for o in outs)
