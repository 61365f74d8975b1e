"""The shared training loop: learning, accumulation, clipping, callbacks, checkpoints."""

import math
import os
import random
import re
import stat
import time

import pytest
import torch
from torch import nn
from torch.utils.data import TensorDataset

from course_utils import checkpoint as ckpt_mod
from course_utils.checkpoint import CheckpointError, load_checkpoint
from course_utils.train import (History, TrainConfig, TrainingDiverged, evaluate_loss, make_loader,
                                move_to, train)


def regression_data(n=96, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 4, generator=g)
    y = x @ torch.tensor([[1.0], [-2.0], [0.5], [3.0]]) + 0.1 * torch.randn(n, 1, generator=g)
    return TensorDataset(x, y)


def mse(model, batch):
    x, y = batch
    return nn.functional.mse_loss(model(x), y)


def make_model(seed=0, dropout=0.0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(4, 16), nn.ReLU(), nn.Dropout(dropout), nn.Linear(16, 1))


def test_learns_and_records_history():
    model = make_model()
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    data = regression_data()
    loader = make_loader(data, batch_size=16)
    hist = train(model, opt, loader, mse, TrainConfig(max_steps=60, eval_every=20, progress=False),
                 eval_fn=lambda m: {"loss": evaluate_loss(m, make_loader(data, 32, shuffle=False),
                                                          mse)})
    assert hist.step == list(range(1, 61))
    assert len(hist.train_loss) == len(hist.lr) == len(hist.grad_norm) == 60
    assert hist.eval_step == [20, 40, 60]
    assert hist.eval["loss"][-1] < 0.3 * hist.eval["loss"][0]
    assert hist.seconds > 0 and model.training


def test_gradient_accumulation_equals_the_big_batch():
    data = regression_data(n=32)
    x, y = data.tensors
    big, small = make_model(), make_model()
    opt_big = torch.optim.SGD(big.parameters(), lr=0.05)
    opt_small = torch.optim.SGD(small.parameters(), lr=0.05)
    cfg = dict(max_steps=5, grad_clip=None, progress=False)
    train(big, opt_big, lambda step: (x, y), mse, TrainConfig(**cfg))
    halves = [(x[:16], y[:16]), (x[16:], y[16:])]
    train(small, opt_small, lambda i: halves[i % 2], mse, TrainConfig(accum_steps=2, **cfg))
    for a, b in zip(big.parameters(), small.parameters()):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)


def test_clipping_limits_the_update():
    x, y = torch.randn(8, 4) * 100, torch.randn(8, 1) * 100  # huge gradients
    model = make_model()
    before = [p.detach().clone() for p in model.parameters()]
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    hist = train(model, opt, lambda s: (x, y), mse,
                 TrainConfig(max_steps=1, grad_clip=0.5, progress=False))
    update = torch.sqrt(sum(((p - b) ** 2).sum() for p, b in zip(model.parameters(), before)))
    assert hist.grad_norm[0] > 10  # the recorded norm is the one before clipping
    assert update.item() == pytest.approx(0.5, rel=1e-4)


def test_scheduler_lr_is_recorded_per_step():
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 1.0 / (s + 1))
    data = regression_data()
    hist = train(model, opt, make_loader(data, 16), mse,
                 TrainConfig(max_steps=4, progress=False), scheduler=sched)
    assert hist.lr == pytest.approx([1.0, 0.5, 1 / 3, 0.25])


def test_callbacks_see_steps_and_can_stop():
    events = []

    def cb(event, state):
        events.append((event, state.step))
        if event == "step" and state.step == 3:
            state.stop = True

    model = make_model()
    hist = train(model, torch.optim.SGD(model.parameters(), lr=0.1), make_loader(regression_data(), 16),
                 mse, TrainConfig(max_steps=10, progress=False), callbacks=[cb])
    assert hist.step == [1, 2, 3]
    assert events == [("step", 1), ("step", 2), ("step", 3), ("end", 3)]


def _run(tmp_path, stop_at=None, resume=False, max_steps=23):
    """Shuffled DataLoader + dropout: every RNG stream matters for exact resumption."""
    model = make_model(seed=1, dropout=0.3)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=5, gamma=0.5)
    loader = make_loader(regression_data(n=40), batch_size=16, seed=3)  # 3 batches/epoch

    def stopper(event, state):
        if stop_at is not None and event == "step" and state.step == stop_at:
            state.stop = True

    torch.manual_seed(99)  # the dropout stream
    hist = train(model, opt, loader, mse,
                 TrainConfig(max_steps=max_steps, accum_steps=2, checkpoint_dir=str(tmp_path),
                             resume=resume, progress=False, seed=3),
                 scheduler=sched, callbacks=[stopper])
    return model, hist


def test_interrupt_and_resume_gives_identical_weights(tmp_path):
    reference, ref_hist = _run(tmp_path / "a")
    _, first = _run(tmp_path / "b", stop_at=7)
    assert first.step[-1] == 7 and load_checkpoint(tmp_path / "b" / "last.pt")["step"] == 7
    torch.manual_seed(12345)  # a different global RNG state must not matter after resume
    resumed, hist = _run(tmp_path / "b", resume=True)
    assert hist.step == list(range(1, 24))
    assert hist.train_loss == ref_hist.train_loss
    for a, b in zip(reference.state_dict().values(), resumed.state_dict().values()):
        assert torch.equal(a, b)


def test_resume_without_restoring_rng_would_differ(tmp_path, monkeypatch):
    """Guard the guard: if RNG states were not restored, the resumed run would diverge."""
    reference, _ = _run(tmp_path / "a")
    _run(tmp_path / "b", stop_at=7)
    monkeypatch.setattr("course_utils.train.restore_rng_state", lambda state: None)
    torch.manual_seed(12345)
    resumed, _ = _run(tmp_path / "b", resume=True)
    assert not all(torch.equal(a, b) for a, b in zip(reference.state_dict().values(),
                                                     resumed.state_dict().values()))


def test_checkpoint_write_is_atomic(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    ckpt_mod.save_checkpoint(path, {"step": 1})

    def broken_save(obj, fh):
        fh.write(b"partial")
        raise RuntimeError("disk full")

    monkeypatch.setattr(ckpt_mod.torch, "save", broken_save)
    with pytest.raises(RuntimeError, match="disk full"):
        ckpt_mod.save_checkpoint(path, {"step": 2})
    monkeypatch.undo()
    assert load_checkpoint(path)["step"] == 1
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]  # no temp file left behind


def test_checkpoint_loading_is_weights_only(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"step": 1, "obj": History()}, path)  # a pickled arbitrary object
    with pytest.raises(CheckpointError, match="weights-only loading refuses") as err:
        load_checkpoint(path)
    assert "weights_only=False" not in str(err.value)  # never advise unsafe loading
    with pytest.raises(FileNotFoundError, match="no checkpoint at"):
        load_checkpoint(tmp_path / "missing.pt")


def test_tensorboard_logging(tmp_path):
    model = make_model()
    train(model, torch.optim.SGD(model.parameters(), lr=0.1), make_loader(regression_data(), 16),
          mse, TrainConfig(max_steps=3, tensorboard_dir=str(tmp_path), progress=False))
    assert list(tmp_path.glob("events.out.tfevents.*"))


def test_loss_fn_may_return_metrics():
    model = make_model()

    def loss_with_metric(m, batch):
        loss = mse(m, batch)
        return loss, {"rmse": math.sqrt(float(loss.detach()))}

    hist = train(model, torch.optim.SGD(model.parameters(), lr=0.1),
                 make_loader(regression_data(), 16), loss_with_metric,
                 TrainConfig(max_steps=3, progress=False))
    assert len(hist.metrics["rmse"]) == 3


@pytest.mark.parametrize("kwargs,msg", [
    ({"max_steps": 0}, "max_steps must be >= 1, got 0"),
    ({"max_steps": 5, "accum_steps": 0}, "accum_steps must be >= 1, got 0"),
    ({"max_steps": 5, "grad_clip": -1.0}, "grad_clip must be > 0.0, got -1.0"),
    ({"max_steps": 5, "precision": "int8"}, "precision must be 'fp32', 'auto', 'bf16' or 'fp16'"),
    ({"max_steps": 5, "resume": True}, "resume/checkpoint_every need checkpoint_dir"),
    ({"max_steps": 2.5}, "max_steps must be int, got float"),
    ({"max_steps": 5, "grad_clip": math.nan}, "grad_clip must be a number, got nan"),
])
def test_config_validation(kwargs, msg):
    with pytest.raises((ValueError, TypeError), match=msg.replace("(", r"\(")):
        TrainConfig(**kwargs)


def test_train_rejects_bad_arguments():
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    cfg = TrainConfig(max_steps=1, progress=False)
    with pytest.raises(TypeError, match="model must be Module"):
        train("model", opt, [], mse, cfg)
    with pytest.raises(TypeError, match="train_data must be an iterable of batches"):
        train(model, opt, 42, mse, cfg)
    with pytest.raises(TypeError, match="loss_fn must return a scalar tensor"):
        train(model, opt, lambda s: (torch.ones(2, 4), torch.ones(2, 1)),
              lambda m, b: m(b[0]), cfg)
    with pytest.raises(ValueError, match="train_data yielded no batches"):
        train(model, opt, [], mse, cfg)


def test_move_to_handles_nested_batches():
    batch = {"x": torch.ones(1), "pair": (torch.zeros(1), 3), "items": [torch.ones(1)]}
    moved = move_to(batch, "cpu")
    assert moved["pair"][1] == 3 and isinstance(moved["items"], list)


def test_progress_bar_redraws_are_rate_limited(monkeypatch):
    """A bar that redraws every step floods a notebook's output channel; ours is throttled."""
    import course_utils.train as tr

    draws = []

    class CountingBar(tr.tqdm):
        def refresh(self, *args, **kwargs):
            draws.append(1)
            return super().refresh(*args, **kwargs)

    monkeypatch.setattr(tr, "tqdm", CountingBar)
    model = torch.nn.Linear(2, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    data = lambda step: (torch.randn(4, 2), torch.randn(4, 1))  # noqa: E731
    loss_fn = lambda m, b: torch.nn.functional.mse_loss(m(b[0]), b[1])  # noqa: E731
    tr.train(model, opt, data, loss_fn, tr.TrainConfig(max_steps=300, progress=True))
    assert len(draws) < 30, f"{len(draws)} redraws for 300 fast steps"


# --- issue 13: divergence, resume mismatches, damaged checkpoints, empty data ------------------
@pytest.mark.parametrize("where", ["loss", "gradient"])
def test_non_finite_loss_or_gradient_stops_training_naming_the_step(where):
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    steps = []

    def loss_fn(m, batch):
        steps.append(1)
        loss = mse(m, batch)
        if len(steps) == 3 and where == "loss":
            return loss * math.nan
        if len(steps) == 3:  # a finite loss whose gradient overflows
            m[0].weight.register_hook(lambda grad: torch.full_like(grad, math.inf))
        return loss

    with pytest.raises(TrainingDiverged, match=f"step 3: the {where}") as err:
        train(model, opt, make_loader(regression_data(), 16), loss_fn,
              TrainConfig(max_steps=10, progress=False, grad_clip=None))
    assert err.value.history.step == [1, 2]  # the steps before, for plotting
    assert "nan" in str(err.value) or "inf" in str(err.value)


def _resume_run(tmp_path, max_steps=6, lr=0.1, stop_at=None, resume=False, **config):
    model = make_model(seed=1)
    opt = torch.optim.SGD(model.parameters(), lr=lr)

    def stopper(event, state):
        if stop_at is not None and event == "step" and state.step == stop_at:
            state.stop = True

    return train(model, opt, make_loader(regression_data(n=40), 8, seed=0), mse,
                 TrainConfig(max_steps=max_steps, checkpoint_dir=str(tmp_path), resume=resume,
                             progress=False, **config), callbacks=[stopper])


@pytest.mark.parametrize("change, message", [
    ({"seed": 1}, "seed: checkpoint 0, now 1"),
    ({"accum_steps": 2}, "accum_steps: checkpoint 1, now 2"),
    ({"lr": 0.5}, "learning rate: checkpoint [0.1], now [0.5]"),
    ({"max_steps": 3}, "it is at step 4, beyond max_steps=3"),
])
def test_resume_refuses_a_checkpoint_of_another_run(tmp_path, change, message):
    _resume_run(tmp_path, stop_at=4)
    with pytest.raises(ValueError, match=re.escape(message)):
        _resume_run(tmp_path, resume=True, **change)
    assert _resume_run(tmp_path, resume=True).step == list(range(1, 7))  # same run: fine


def test_resume_keeps_working_with_a_plateau_scheduler(tmp_path):
    def run(resume, stop_at=None):
        model = make_model(seed=1)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0, factor=0.5)

        def stopper(event, state):
            if stop_at is not None and event == "step" and state.step == stop_at:
                state.stop = True

        return train(model, opt, make_loader(regression_data(n=40), 8), mse,
                     TrainConfig(max_steps=8, checkpoint_dir=str(tmp_path), resume=resume,
                                 progress=False), scheduler=sched, callbacks=[stopper])

    run(False, stop_at=5)
    assert run(True).step[-1] == 8  # the reduced LR in the checkpoint is not a "different LR"


def _saved(tmp_path):
    path = tmp_path / "last.pt"
    ckpt_mod.save_checkpoint(path, {"w": torch.arange(1000, dtype=torch.float32), "step": 7})
    return path


@pytest.mark.parametrize("damage, why", [
    (lambda raw: b"", "the file is empty"),
    (lambda raw: raw[: len(raw) // 2], "truncated"),
    (lambda raw: b"hello, I am a text file\n" * 10, "not with the COURSE-CHECKPOINT header"),
    (lambda raw: raw[:-10] + bytes(b ^ 0xFF for b in raw[-10:]), "SHA-256"),
    (lambda raw: b"PK\x03\x04" + raw[4:200], "torch could not read it"),
])
def test_damaged_checkpoints_are_named_and_explained(tmp_path, damage, why):
    path = _saved(tmp_path)
    path.write_bytes(damage(path.read_bytes()))
    size = path.stat().st_size
    with pytest.raises(CheckpointError, match=re.escape(f"{path} ({size} bytes) is not a "
                                                        "course checkpoint: ")) as err:
        load_checkpoint(path)
    assert why in str(err.value)


def test_every_single_bit_flip_is_detected(tmp_path):
    path = _saved(tmp_path)
    raw = path.read_bytes()
    rng = random.Random(0)
    for _ in range(60):
        flipped = bytearray(raw)
        position = rng.randrange(len(raw))
        flipped[position] ^= 1 << rng.randrange(8)
        path.write_bytes(bytes(flipped))
        with pytest.raises(CheckpointError):
            load_checkpoint(path)


@pytest.mark.skipif(os.name != "posix", reason="POSIX permission bits")
def test_checkpoints_keep_the_umask_and_stale_temp_files_are_swept(tmp_path):
    old = os.umask(0o022)
    try:
        stale = tmp_path / ".last.pt.abc123.tmp"
        stale.write_bytes(b"left by a killed process")
        os.utime(stale, (time.time() - 3600, time.time() - 3600))
        fresh = tmp_path / ".last.pt.def456.tmp"  # maybe another process writing right now
        fresh.write_bytes(b"in progress")
        path = _saved(tmp_path)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644
    assert not stale.exists() and fresh.exists()
    assert load_checkpoint(path)["step"] == 7


def test_legacy_plain_torch_checkpoints_still_load(tmp_path):
    path = tmp_path / "old.pt"
    torch.save({"step": 3}, path)
    assert load_checkpoint(path)["step"] == 3


def test_empty_dataset_and_exhausted_iterator_are_named():
    empty = TensorDataset(torch.ones(0, 4), torch.ones(0, 1))
    with pytest.raises(ValueError, match="the dataset is empty"):
        make_loader(empty, 4)
    with pytest.raises(ValueError, match="drop_last=True with 3 examples and batch_size=4"):
        make_loader(TensorDataset(torch.ones(3, 4), torch.ones(3, 1)), 4, drop_last=True)
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1)
    one_shot = (batch for batch in make_loader(regression_data(n=32), 16))
    with pytest.raises(ValueError, match="one-shot iterator .* ran out after 2 batches"):
        train(model, opt, one_shot, mse, TrainConfig(max_steps=5, progress=False))


def test_nonfinite_stop_ends_quietly_before_the_bad_update():
    model = make_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    calls = []

    def loss_fn(m, batch):
        calls.append(1)
        return mse(m, batch) * (math.inf if len(calls) == 4 else 1.0)

    before = None

    def remember(event, state):
        nonlocal before
        if event == "step":
            before = [p.detach().clone() for p in state.model.parameters()]

    hist = train(model, opt, make_loader(regression_data(), 16), loss_fn,
                 TrainConfig(max_steps=10, progress=False, nonfinite="stop"), callbacks=[remember])
    assert hist.step == [1, 2, 3] and "step 4: the loss is inf" in hist.stop_reason
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # no update
    with pytest.raises(ValueError, match="nonfinite must be 'raise' or 'stop'"):
        TrainConfig(max_steps=1, nonfinite="ignore")
