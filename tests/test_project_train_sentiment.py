"""The chapter 11 training script: config, data order, exact resume after a kill, DDP."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from course_utils.checkpoint import load_checkpoint
from course_utils.distributed import launch
from course_utils.project import data as pdata
from course_utils.project import train_sentiment as ts

pytestmark = pytest.mark.usefixtures("one_thread")

TINY = ["--model", "scratch", "--d-model", "16", "--layers", "1", "--heads", "2", "--max-len", "24",
        "--batch-size", "8", "--lr", "3e-3", "--warmup", "2", "--eval-every", "4", "--ckpt-every", "4",
        "--log-every", "2", "--no-progress"]


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    corpus = pdata.prepare_corpus("reviews", n_examples=120, seed=0)
    return pdata.write_splits(corpus, tmp_path_factory.mktemp("ch11") / "data")


def _cmd(data_dir, out, *extra):
    return [sys.executable, "-m", "course_utils.project.train_sentiment", "--data-dir", str(data_dir),
            "--out-dir", str(out), *TINY, *extra]


def test_parser_rejects_bad_values(capsys):
    with pytest.raises(SystemExit):
        ts.parse_config(["--data-dir", "d", "--out-dir", "o", "--steps", "0"])
    with pytest.raises(SystemExit):
        ts.parse_config(["--data-dir", "d", "--out-dir", "o", "--steps", "5", "--warmup", "9"])
    assert "--warmup" in capsys.readouterr().err


def test_batch_indices_is_a_function_of_the_step():
    a = ts.batch_indices(3, 50, 8, seed=1)
    assert torch.equal(a, ts.batch_indices(3, 50, 8, seed=1))
    epoch0 = torch.cat([ts.batch_indices(i, 50, 8, seed=1) for i in range(6)])
    assert len(set(epoch0.tolist())) == 48  # one epoch: no repeats, the last 2 rows dropped
    assert not torch.equal(ts.batch_indices(0, 50, 8, seed=1), ts.batch_indices(6, 50, 8, seed=1))
    with pytest.raises(ValueError):
        ts.batch_indices(0, 4, 8, seed=0)


def test_run_writes_checkpoints_tensorboard_and_metrics(data_dir, tmp_path):
    metrics = ts.main(["--data-dir", str(data_dir), "--out-dir", str(tmp_path), *TINY, "--steps", "8"])
    assert {"last.pt", "best.pt", "metrics.json", "tb"} <= {p.name for p in tmp_path.iterdir()}
    state = load_checkpoint(tmp_path / "last.pt")
    assert state["step"] == 8 and state["config"]["steps"] == 8
    assert len(state["optimizer"]["param_groups"]) == 2  # decay / no-decay groups
    assert state["optimizer"]["param_groups"][1]["weight_decay"] == 0.0
    assert json.loads((tmp_path / "metrics.json").read_text())["steps"] == metrics["steps"] == 8
    # CPU time per step (the compute a run used, whatever shares the machine) next to wall time
    assert 0 < metrics["cpu_ms_per_step"] <= 1.5 * torch.get_num_threads() * metrics["ms_per_step"]
    model, _, cfg = ts.load_trained(tmp_path / "best.pt")
    assert cfg.d_model == 16 and not model.training


def test_resume_refuses_other_settings(data_dir, tmp_path):
    ts.main(["--data-dir", str(data_dir), "--out-dir", str(tmp_path), *TINY, "--steps", "4"])
    with pytest.raises(SystemExit, match="lr"):
        ts.main(["--data-dir", str(data_dir), "--out-dir", str(tmp_path), *TINY, "--steps", "4",
                 "--lr", "1e-2", "--resume"])


def test_killed_and_resumed_run_equals_the_uninterrupted_run(data_dir, tmp_path):
    """SIGKILL after the step-4 checkpoint, resume: bitwise the same weights and losses."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    extra = ["--steps", "10", "--accum", "2", "--batch-size", "4"]
    clean = tmp_path / "clean"
    subprocess.run(_cmd(data_dir, clean, *extra), check=True, capture_output=True, env=env, timeout=300)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cmd(data_dir, killed, *extra), stdout=subprocess.PIPE,
                            stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        for line in proc.stdout:
            if line.startswith("checkpoint step 4 "):
                proc.kill()
                break
    finally:
        proc.kill()
        proc.wait(timeout=60)
        proc.stdout.close()
    assert proc.returncode != 0
    assert load_checkpoint(killed / "last.pt")["step"] in (4, 8)
    out = subprocess.run(_cmd(data_dir, killed, *extra, "--resume"), check=True, capture_output=True,
                         text=True, env=env, timeout=300).stdout
    assert "resumed from" in out
    a, b = load_checkpoint(clean / "last.pt"), load_checkpoint(killed / "last.pt")
    for name in a["model"]:
        assert torch.equal(a["model"][name], b["model"][name]), name
    assert a["history"] == b["history"]
    ma, mb = (json.loads((d / "metrics.json").read_text()) for d in (clean, killed))
    assert ma["final_val_loss"] == mb["final_val_loss"]


def test_two_processes_under_torchrun_match_one_process(data_dir, tmp_path):
    """2 ranks x half batch == 1 process x full batch (no dropout): same weights, in sync."""
    extra = ["--steps", "4", "--dropout", "0", "--tensorboard"]
    one = tmp_path / "one"
    ts.main(["--data-dir", str(data_dir), "--out-dir", str(one), *TINY, *extra])
    two = tmp_path / "two"
    run = launch(Path(ts.__file__), nproc=2, timeout_s=240,
                 args=["--data-dir", str(data_dir), "--out-dir", str(two), *TINY, *extra])
    assert run.lines("done")
    metrics = json.loads((two / "metrics.json").read_text())
    assert metrics["world_size"] == 2 and metrics["params_in_sync"]
    a, b = load_checkpoint(one / "last.pt"), load_checkpoint(two / "last.pt")
    for name in a["model"]:
        assert torch.allclose(a["model"][name], b["model"][name], atol=1e-5), name
    assert len(b["rng"]) == 2  # one RNG state per rank


def test_encoded_split_caches_the_ids_and_notices_a_changed_file(tmp_path):
    corpus = pdata.prepare_corpus("reviews", n_examples=60, seed=1)
    data = pdata.write_splits(corpus, tmp_path / "data")
    tok = ts.load_tokenizer("course-encoder")
    df = pdata.read_split(data, "validation")
    texts, labels = df["text"].tolist(), torch.tensor(df["label"].to_numpy())
    fresh = ts.encoded_split(data, "validation", tok, "course-encoder", 16)
    ids, mask = ts.encode(tok, texts, 16)
    assert torch.equal(fresh[0], ids) and torch.equal(fresh[1], mask) and torch.equal(fresh[2], labels)
    cached = list((data / ".cache").glob("*validation*.pt"))
    assert len(cached) == 1 and "-L16-" in cached[0].name and "-left-" in cached[0].name
    # the second call reads the cache: poison it to prove ids, mask and labels come from there
    torch.save({"input_ids": ids + 1, "attention_mask": 1 - mask, "labels": 1 - labels}, cached[0])
    hit = ts.encoded_split(data, "validation", tok, "course-encoder", 16)
    assert torch.equal(hit[0], ids + 1) and torch.equal(hit[1], 1 - mask) and torch.equal(hit[2], 1 - labels)
    # a damaged file is encoded again instead of crashing
    cached[0].write_bytes(b"not a torch file")
    assert torch.equal(ts.encoded_split(data, "validation", tok, "course-encoder", 16)[0], ids)
    # another max_len, truncation side or vocabulary is encoded afresh
    assert torch.equal(ts.encoded_split(data, "validation", tok, "course-encoder", 12)[0],
                       ts.encode(tok, texts, 12)[0])
    tok.truncation_side = "right"
    assert torch.equal(ts.encoded_split(data, "validation", tok, "course-encoder", 12)[0],
                       ts.encode(tok, texts, 12)[0])
    tok.truncation_side = "left"
    tok.add_tokens(["zzzunseen"])
    ts.encoded_split(data, "validation", tok, "course-encoder", 16)
    assert len(list((data / ".cache").glob("*validation*.pt"))) == 4
    # a rewritten file (same rows, another order) is encoded afresh
    tok = ts.load_tokenizer("course-encoder")
    swapped = df.copy()
    swapped["text"] = swapped["text"].iloc[::-1].to_numpy()  # texts reordered: a new modification time
    swapped.to_parquet(data / "validation.parquet")
    again = ts.encoded_split(data, "validation", tok, "course-encoder", 16)
    assert torch.equal(again[0], ts.encode(tok, texts[::-1], 16)[0])
