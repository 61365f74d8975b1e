"""course_utils.distributed: ports, backend choice, torchrun launching (real 2-process gloo runs
that finish in seconds, busy port, timeout, failure), ring all-reduce, the simulated group."""

import os
import socket
import textwrap
import time

import pytest
import torch

from course_utils.distributed import (TRANSIENT_ABORT, LaunchError, LaunchResult, ThreadGroup,
                                      free_port, launch,
                                      pick_backend, port_is_free, ring_all_reduce,
                                      ring_bytes_per_rank, run_in_threads, torchrun_command)

pytestmark = pytest.mark.usefixtures("one_thread")


def test_free_port_is_free_and_a_listening_port_is_not():
    port = free_port()
    assert 1024 <= port <= 65535 and port_is_free(port)
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        assert not port_is_free(sock.getsockname()[1])
    with pytest.raises(ValueError):
        port_is_free(70000)


def test_pick_backend_on_this_machine():
    assert pick_backend() == ("nccl" if torch.cuda.is_available() else "gloo")


def test_pick_backend_needs_one_gpu_per_process(monkeypatch):
    """NCCL cannot put two ranks on one GPU: a 1-GPU machine runs a 2-process job on gloo."""
    import torch.distributed as dist
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(dist, "is_nccl_available", lambda: True)
    assert pick_backend() == "nccl" and pick_backend(1) == "nccl"
    assert pick_backend(2) == "gloo" and pick_backend(4) == "gloo"
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 4)
    assert pick_backend(4) == "nccl"
    with pytest.raises(ValueError):
        pick_backend(0)


def test_torchrun_command():
    cmd = torchrun_command("train.py", 2, ["--x", 3])
    assert cmd[1:4] == ["-m", "torch.distributed.run", "--nproc_per_node=2"]
    assert "--standalone" in cmd and cmd[-3:] == ["train.py", "--x", "3"]
    fixed = torchrun_command("train.py", 4, port=29511)
    assert "--standalone" not in fixed and "--master_port=29511" in fixed
    assert "--master_addr=127.0.0.1" in fixed


def test_lines_splits_records_that_landed_on_one_line():
    stdout = "noise\nRESULT {\"a\": 1}RESULT {\"a\": 2}\n[1]:RESULT 3\n"
    result = LaunchResult([], 0, stdout, "", 0.0)
    assert result.lines("RESULT ") == ['RESULT {"a": 1}', 'RESULT {"a": 2}', "RESULT 3"]


RING_SCRIPT = textwrap.dedent('''
    import json
    import torch
    import torch.distributed as dist
    from course_utils.distributed import emit, init_from_env, ring_all_reduce

    rank, world, device = init_from_env(timeout_s=30)
    x = torch.randn(1001, generator=torch.Generator().manual_seed(rank)).to(device)
    reference = x.clone()
    dist.all_reduce(reference)
    ring_all_reduce(x)
    pieces = [torch.empty(2, device=device) for _ in range(world)]
    dist.all_gather(pieces, torch.full((2,), float(rank), device=device))
    emit("RESULT " + json.dumps({"rank": rank, "world": world,
                                 "diff": (x - reference).abs().max().item(),
                                 "gather": torch.cat(pieces).tolist()}))
    dist.barrier()
    dist.destroy_process_group()
''')


def _results(run):
    import json
    return sorted((json.loads(line[len("RESULT "):]) for line in run.lines("RESULT ")),
                  key=lambda r: r["rank"])


def test_two_process_gloo_ring_all_reduce_equals_all_reduce(tmp_path):
    script = tmp_path / "ring.py"
    script.write_text(RING_SCRIPT)
    start = time.perf_counter()
    run = launch(script, nproc=2, timeout_s=90)
    results = _results(run)
    assert [r["rank"] for r in results] == [0, 1] and results[0]["world"] == 2
    assert all(r["diff"] < 1e-5 for r in results)
    assert all(r["gather"] == [0.0, 0.0, 1.0, 1.0] for r in results)
    assert time.perf_counter() - start < 90


def test_launch_on_a_fixed_free_port(tmp_path):
    script = tmp_path / "ring.py"
    script.write_text(RING_SCRIPT)
    run = launch(script, nproc=2, port=free_port(), timeout_s=90)
    assert len(_results(run)) == 2


def test_busy_port_fails_at_once_instead_of_hanging(tmp_path):
    script = tmp_path / "ring.py"
    script.write_text(RING_SCRIPT)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", 0))
        blocker.listen()
        busy = blocker.getsockname()[1]
        start = time.perf_counter()
        with pytest.raises(LaunchError, match=f"port {busy} .* is busy"):
            launch(script, nproc=2, port=busy, timeout_s=60)
        assert time.perf_counter() - start < 1.0


def test_timeout_kills_the_launcher_and_its_workers(tmp_path):
    marker = tmp_path / "pids"
    script = tmp_path / "hang.py"
    script.write_text(textwrap.dedent(f'''
        import os, time
        with open({str(marker)!r}, "a") as f:
            f.write(str(os.getpid()) + "\\n")
        time.sleep(600)
    '''))
    start = time.perf_counter()
    with pytest.raises(LaunchError, match="did not finish within"):
        launch(script, nproc=2, timeout_s=8)
    assert time.perf_counter() - start < 20
    time.sleep(0.5)
    for pid in map(int, marker.read_text().split()):
        with pytest.raises(ProcessLookupError):  # the worker is gone
            os.kill(pid, 0)


def test_a_failing_worker_raises_with_its_message(tmp_path):
    script = tmp_path / "fail.py"
    script.write_text("raise SystemExit('worker says: something is wrong')\n")
    with pytest.raises(LaunchError, match="something is wrong"):
        launch(script, nproc=2, timeout_s=60)
    with pytest.raises(LaunchError, match="does not exist"):
        launch(tmp_path / "missing.py")


@pytest.mark.parametrize("world", [1, 2, 3, 4, 5, 8])
def test_ring_all_reduce_in_threads(world):
    tensors = [torch.randn(3, 7, generator=torch.Generator().manual_seed(r)) for r in range(world)]
    group = ThreadGroup(world)
    outs = run_in_threads(lambda comm: ring_all_reduce(tensors[comm.get_rank()].clone(), comm),
                          world, group=group)
    for out in outs:
        assert out.shape == (3, 7) and torch.allclose(out, sum(tensors), atol=1e-6)
    if world > 1:  # 21 floats do not split evenly for every N: within one chunk of 2(N-1)/N
        assert abs(group.bytes_sent[0] - ring_bytes_per_rank(84, world)) <= 2 * 4 * (world - 1)
        assert group.calls["send"] == [2 * (world - 1)] * world


def test_ring_bytes_formula():
    assert ring_bytes_per_rank(1000, 1) == 0
    assert ring_bytes_per_rank(1000, 2) == 1000
    assert ring_bytes_per_rank(1000, 4) == 1500


def test_thread_group_all_reduce_and_a_rank_that_never_joins():
    outs = run_in_threads(lambda comm: (lambda t: (comm.all_reduce(t), t)[1])(
        torch.tensor([float(comm.get_rank())])), 3)
    assert [o.item() for o in outs] == [3.0, 3.0, 3.0]

    def rank0_only(comm):
        if comm.get_rank() == 0:
            comm.all_reduce(torch.ones(1))
    start = time.perf_counter()
    with pytest.raises(Exception):
        run_in_threads(rank0_only, 2, timeout_s=1.0)
    assert time.perf_counter() - start < 5

    def recv_forever(comm):
        if comm.get_rank() == 1:
            comm.recv(torch.empty(1), src=0)
    with pytest.raises(TimeoutError, match="never came"):
        run_in_threads(recv_forever, 2, timeout_s=0.5)


def test_launch_retries_only_the_transient_gloo_abort(tmp_path, capsys):
    marker = tmp_path / "aborted-once"
    script = tmp_path / "flaky.py"
    script.write_text(f'''
import os, sys
from pathlib import Path
marker = Path({str(marker)!r})
if os.environ.get("RANK") == "0" and not marker.exists():
    marker.write_text("x")
    sys.stderr.write("{TRANSIENT_ABORT}\\n"); sys.stderr.flush()
    os.abort()
print("ok", os.environ["RANK"], flush=True)
''')
    result = launch(script, nproc=2, timeout_s=60)
    assert sorted(result.lines("ok")) == ["ok 0", "ok 1"]
    assert "running it again" in capsys.readouterr().out
    marker.unlink()
    with pytest.raises(LaunchError, match="terminate called"):
        launch(script, nproc=2, timeout_s=60, retries=0)
    failing = tmp_path / "fails.py"
    failing.write_text("raise SystemExit('a real bug')\n")
    with pytest.raises(LaunchError, match="a real bug"):  # not retried: fails once, fast
        launch(failing, nproc=1, timeout_s=60)
