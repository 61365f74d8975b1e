"""Device, precision, seeding and the environment report.

Device order: CUDA -> Apple MPS -> CPU, overridable with ``COURSE_DEVICE``. Precision:
bf16 autocast on GPUs that support it, fp16 + GradScaler on older CUDA GPUs, plain fp32 on
CPU and MPS (bf16 autocast on an AVX2 CPU was measured 8-46x *slower*, see chapter 07).
"""

from __future__ import annotations

import os
import platform
import random
import sys
from dataclasses import dataclass
from importlib import metadata

import numpy as np
import torch

from course_utils.validation import check_int, check_type

DEVICE_ORDER = ("cuda", "mps", "cpu")
#: Packages shown by the version report and checked by ``check_environment``.
CORE_PACKAGES = ("torch", "transformers", "datasets", "tokenizers", "peft", "numpy",
                 "scikit-learn", "matplotlib", "ipywidgets", "jupyterlab", "nbval")


def _mps_available() -> bool:
    backend = getattr(torch.backends, "mps", None)
    return bool(backend is not None and backend.is_available())


def available_devices() -> list[str]:
    """Device types usable on this machine, best first."""
    found = []
    if torch.cuda.is_available():
        found.append("cuda")
    if _mps_available():
        found.append("mps")
    found.append("cpu")
    return found


def get_device(prefer: str | None = None) -> torch.device:
    """Pick a device: ``prefer`` or ``COURSE_DEVICE`` if given, else cuda -> mps -> cpu."""
    choice = prefer if prefer is not None else os.environ.get("COURSE_DEVICE", "").strip()
    if not choice or choice == "auto":
        return torch.device(available_devices()[0])
    check_type("device", choice, str)
    kind = choice.split(":")[0]
    if kind not in DEVICE_ORDER:
        raise ValueError(f"device must be one of {list(DEVICE_ORDER)} (optionally 'cuda:N') "
                         f"or 'auto', got {choice!r}")
    if kind not in available_devices():
        raise RuntimeError(f"device {choice!r} was requested but is not available here; "
                           f"available: {available_devices()}")
    return torch.device(choice)


@dataclass(frozen=True)
class Precision:
    """How to run mixed precision on a device: autocast dtype (None = fp32) and scaler."""

    device_type: str
    dtype: torch.dtype | None
    use_grad_scaler: bool
    reason: str

    @property
    def enabled(self) -> bool:
        """True when autocast should be switched on."""
        return self.dtype is not None

    def autocast(self) -> torch.autocast:
        """A ``torch.autocast`` context for this choice (a no-op when disabled)."""
        return torch.autocast(self.device_type, dtype=self.dtype or torch.float32,
                              enabled=self.enabled)


def cpu_has_fast_bf16() -> bool:
    """True if the CPU has native bf16 math (AVX512-BF16 or AMX); AVX2 emulates it slowly."""
    capability = str(torch.backends.cpu.get_cpu_capability()).lower()
    if "amx" in capability:
        return True
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            flags = fh.read()
    except OSError:
        return False
    return "avx512_bf16" in flags or "amx_bf16" in flags


def choose_precision(device: torch.device | str, want: str = "auto") -> Precision:
    """Choose the autocast dtype for ``device``: ``want`` is auto, fp32, bf16 or fp16."""
    device = torch.device(device)
    if want not in ("auto", "fp32", "bf16", "fp16"):
        raise ValueError(f"want must be 'auto', 'fp32', 'bf16' or 'fp16', got {want!r}")
    kind = device.type
    if want == "fp32":
        return Precision(kind, None, False, "fp32 requested")
    if kind == "cuda":
        bf16_ok = torch.cuda.is_bf16_supported()
        if want == "fp16" or (want == "auto" and not bf16_ok):
            return Precision(kind, torch.float16, True, "CUDA fp16 autocast + GradScaler")
        if want == "bf16" and not bf16_ok:
            raise RuntimeError("bf16 was requested but this GPU does not support it; use fp16")
        return Precision(kind, torch.bfloat16, False, "CUDA bf16 autocast (no scaler needed)")
    if kind == "cpu":
        if want == "bf16" or (want == "auto" and cpu_has_fast_bf16()):
            return Precision(kind, torch.bfloat16, False, "CPU bf16 autocast")
        if want == "fp16":
            raise RuntimeError("fp16 autocast on CPU is not supported here; use bf16 or fp32")
        return Precision(kind, None, False, "CPU without native bf16: fp32 is fastest")
    # MPS: autocast support is young; fp32 unless asked explicitly.
    if want in ("fp16", "bf16"):
        dtype = torch.float16 if want == "fp16" else torch.bfloat16
        return Precision(kind, dtype, False, f"MPS {want} autocast (requested)")
    return Precision(kind, None, False, "MPS: fp32 (autocast on MPS is still immature)")


def set_seed(seed: int, deterministic: bool = False) -> None:
    """Seed Python, NumPy and torch (all devices); optionally force deterministic kernels."""
    check_int("seed", seed, min_value=0, max_value=2**32 - 1)
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # also seeds CUDA and MPS generators
    if deterministic:
        torch.use_deterministic_algorithms(True, warn_only=True)
        if torch.backends.cudnn.is_available():
            torch.backends.cudnn.benchmark = False


def package_version(name: str) -> str | None:
    """Installed version of a distribution, or None if it is missing."""
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def environment_report() -> dict[str, object]:
    """Versions, devices and CPU facts as a plain dict (printed by the setup cell)."""
    report: dict[str, object] = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "cpu_capability": str(torch.backends.cpu.get_cpu_capability()),
        "cuda_available": torch.cuda.is_available(),
        "cuda_version": torch.version.cuda,
        "cudnn_version": torch.backends.cudnn.version() if torch.cuda.is_available() else None,
        "gpus": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())],
        "mps_available": _mps_available(),
    }
    report.update({pkg: package_version(pkg) for pkg in CORE_PACKAGES})
    return report


@dataclass(frozen=True)
class Check:
    """One line of the environment check: name, verdict, detail and what to do on FAIL."""

    name: str
    ok: bool
    detail: str
    fix: str = ""

    def line(self) -> str:
        """Formatted ``[OK]``/``[FAIL]`` line."""
        text = f"[{'OK' if self.ok else 'FAIL'}] {self.name}: {self.detail}"
        return text if self.ok or not self.fix else f"{text}\n       -> {self.fix}"


def _pins() -> dict[str, str]:
    """Exact versions pinned by the course's pyproject (read from installed metadata)."""
    pins: dict[str, str] = {}
    for requirement in metadata.requires("course_utils") or []:
        if ";" in requirement:  # extras such as dev tools
            continue
        name, _, version = requirement.partition("==")
        if version:
            pins[name.strip().lower()] = version.strip()
    return pins


def check_environment(min_python: tuple[int, int] = (3, 10)) -> list[Check]:
    """Compare this environment with the course's pins; return one Check per item."""
    checks = [Check("python", sys.version_info[:2] >= min_python, sys.version.split()[0],
                    f"install Python >= {min_python[0]}.{min_python[1]}")]
    for name, pinned in sorted(_pins().items()):
        have = package_version(name)
        if have is None:
            checks.append(Check(name, False, "not installed", "run `make setup` (or `make lab`)"))
            continue
        base = have.split("+")[0]
        checks.append(Check(name, base == pinned, f"{have} (tested {pinned})",
                            f"`make setup` reinstalls the tested version ({name}=={pinned})"))
    device = get_device()
    checks.append(Check("device", True, f"{device} (available: {', '.join(available_devices())})"))
    return checks
