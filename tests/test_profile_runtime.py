"""Profiles, device choice, precision choice, seeding and the environment check."""

import dataclasses
import random

import numpy as np
import pytest
import torch

from course_utils import profile as profile_mod
from course_utils import runtime
from course_utils.chapters import all_chapters, get_chapter
from course_utils.profile import current_profile, get_profile, profile_table


def test_profile_from_env(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "full")
    p = current_profile()
    assert (p.name, p.reason) == ("full", "COURSE_PROFILE")
    monkeypatch.setenv("COURSE_PROFILE", "quick")
    assert current_profile().name == "quick"


def test_auto_profile_follows_cuda(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "auto")
    monkeypatch.setattr(profile_mod, "_cuda_available", lambda: False)
    assert current_profile().name == "quick"
    monkeypatch.setattr(profile_mod, "_cuda_available", lambda: True)
    assert current_profile().name == "full"
    monkeypatch.delenv("COURSE_PROFILE")
    assert current_profile().reason == "auto: CUDA available"


def test_bad_profile_name(monkeypatch):
    monkeypatch.setenv("COURSE_PROFILE", "fast")
    with pytest.raises(ValueError, match=r"COURSE_PROFILE must be one of .*'quick'.*got 'fast'"):
        current_profile()


def test_profile_is_frozen_and_quick_is_smaller():
    quick, full = get_profile("quick"), get_profile("full")
    with pytest.raises(dataclasses.FrozenInstanceError):
        quick.torch_threads = 2
    with pytest.raises(TypeError):
        get_chapter("00").sizes["quick"] = None  # read-only mapping
    assert quick.data_fraction < full.data_fraction
    for chapter in (c.number for c in all_chapters() if c.sizes):
        q, f = quick.sizes(chapter), full.sizes(chapter)
        assert type(q) is type(f)
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(q, dataclasses.fields(q)[0].name, None)


def test_unknown_chapter_sizes_names_known_ones():
    with pytest.raises(KeyError, match=r"unknown chapter '77'.*chapters are \['00'"):
        get_profile("quick").sizes("77")
    # a chapter that is only planned (a row without sizes) says so -- all twelve are written
    # now, so plant one
    from course_utils.chapters import ChapterSpec
    planned = ChapterSpec("12", "12_planned", "Planned")
    with pytest.raises(KeyError, match=r"chapter '12' defines no sizes for profile 'quick'"):
        planned.sizes_for("quick")


def test_profile_table_rows():
    rows = {r["setting"]: r for r in profile_table()}
    assert rows["torch_threads"]["quick"] == get_profile("quick").torch_threads == 1
    assert set(rows) == {"data_fraction", "use_hub_models", "torch_threads"}


def test_get_device_default_and_override(monkeypatch):
    monkeypatch.delenv("COURSE_DEVICE", raising=False)
    assert runtime.get_device().type == runtime.available_devices()[0]
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    assert runtime.get_device() == torch.device("cpu")
    assert runtime.get_device("cpu") == torch.device("cpu")


def test_get_device_errors(monkeypatch):
    with pytest.raises(ValueError, match=r"device must be one of \['cuda', 'mps', 'cpu'\].*got 'tpu'"):
        runtime.get_device("tpu")
    monkeypatch.setattr(runtime, "available_devices", lambda: ["cpu"])
    with pytest.raises(RuntimeError, match=r"'cuda:1' was requested but is not available here"):
        runtime.get_device("cuda:1")


def test_precision_choices(monkeypatch):
    monkeypatch.setattr(runtime, "cpu_has_fast_bf16", lambda: False)
    p = runtime.choose_precision("cpu")
    assert p.dtype is None and not p.enabled and not p.use_grad_scaler
    monkeypatch.setattr(runtime, "cpu_has_fast_bf16", lambda: True)
    assert runtime.choose_precision("cpu").dtype == torch.bfloat16
    assert runtime.choose_precision("cpu", "fp32").dtype is None
    with pytest.raises(RuntimeError, match="fp16 autocast on CPU"):
        runtime.choose_precision("cpu", "fp16")
    with pytest.raises(ValueError, match=r"want must be .*got 'int8'"):
        runtime.choose_precision("cpu", "int8")


def test_precision_cuda_branch_without_a_gpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: False)
    p = runtime.choose_precision(torch.device("cuda"))
    assert p.dtype == torch.float16 and p.use_grad_scaler
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda: True)
    p = runtime.choose_precision(torch.device("cuda"))
    assert p.dtype == torch.bfloat16 and not p.use_grad_scaler


def test_autocast_context_is_noop_when_disabled():
    p = runtime.choose_precision("cpu", "fp32")
    with p.autocast():
        out = torch.ones(2, 2) @ torch.ones(2, 2)
    assert out.dtype == torch.float32


def test_set_seed_reproduces_all_generators():
    runtime.set_seed(123)
    a = (random.random(), np.random.rand(), torch.rand(1).item())
    runtime.set_seed(123)
    b = (random.random(), np.random.rand(), torch.rand(1).item())
    assert a == b
    with pytest.raises(ValueError, match="seed must be >= 0, got -1"):
        runtime.set_seed(-1)
    with pytest.raises(TypeError, match="seed must be int, got float"):
        runtime.set_seed(1.5)


def test_environment_check_reports_ok_and_fixes():
    checks = runtime.check_environment()
    names = {c.name for c in checks}
    assert {"python", "torch", "transformers", "device"} <= names
    assert all(c.ok for c in checks if c.name in ("python", "torch")), [c.line() for c in checks]
    bad = runtime.Check("torch", False, "2.0 (tested 2.13.0)", "run make setup")
    assert bad.line() == "[FAIL] torch: 2.0 (tested 2.13.0)\n       -> run make setup"
    assert runtime.check_environment(min_python=(9, 0))[0].ok is False


def test_environment_report_fields():
    report = runtime.environment_report()
    assert report["torch"].startswith("2.13.0")
    assert report["cpu_count"] >= 1 and "cudnn_version" in report


def test_start_chapter_applies_the_profile_thread_count(monkeypatch, results_tmp):
    from course_utils.chapter import start_chapter

    monkeypatch.setenv("COURSE_PROFILE", "quick")
    monkeypatch.setenv("COURSE_DEVICE", "cpu")
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(2)
        ch = start_chapter("00", show_versions=False)
        assert ch.profile.torch_threads == 1
        assert torch.get_num_threads() == 1
        assert get_profile("full").torch_threads is None  # the GPU profile leaves torch alone
    finally:
        torch.set_num_threads(before)


def test_banner_names_the_chapter_sizes_not_unused_defaults():
    quick = get_profile("quick", reason="test")
    assert quick.describe("03") == ("profile: quick (test) · sizes: Ch03Sizes "
                                    "(course_utils/chapters/ch03.py)")
    assert quick.describe() == "profile: quick (test)"
    assert "%" not in quick.describe("01")  # no "data 25%" that chapter 01 does not use
