"""Atomic checkpoints and RNG-state capture for exact resumption.

A checkpoint holds the model, optimizer, scheduler and GradScaler state, the step, the
position in the data stream and every RNG state. It is written to a temporary file and
renamed, so a crash never leaves a half-written file (temporary files that a killed
process left behind are swept on the next save); the file gets the user's umask
permissions, like any other file they create.

File format: one header line ``COURSE-CHECKPOINT 1 <payload bytes> <sha256>`` and then the
``torch.save`` payload. Loading verifies the length (a truncated copy) and the SHA-256 (a
flipped bit) before ``torch.load(weights_only=True)`` reads it (no arbitrary pickles).
Every problem is reported as ``CheckpointError: PATH (N bytes) is not a course
checkpoint: why``. Plain ``torch.save`` files of older course versions still load.
"""

from __future__ import annotations

import hashlib
import io
import os
import random
import re
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch


def capture_rng_state() -> dict[str, Any]:
    """Python, NumPy, torch CPU (and CUDA) RNG states as weights_only-loadable values."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state()
    state: dict[str, Any] = {
        "python": [version, list(internal), gauss],
        "numpy": [name, torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos),
                  int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["cuda"] = torch.cuda.get_rng_state_all()
    return state


def restore_rng_state(state: dict[str, Any]) -> None:
    """Inverse of ``capture_rng_state``."""
    version, internal, gauss = state["python"]
    random.setstate((version, tuple(internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((name, keys.numpy().astype(np.uint32), pos, has_gauss, cached))
    torch.set_rng_state(state["torch"])
    if "cuda" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state["cuda"])


MAGIC = b"COURSE-CHECKPOINT"
FORMAT_VERSION = 1
_HEADER_RE = re.compile(rb"^COURSE-CHECKPOINT (\d+) (\d+) ([0-9a-f]{64})\n")
STALE_TEMP_S = 600.0  # a temporary file older than this was left by a killed writer


class CheckpointError(ValueError):
    """A file that is not a readable course checkpoint (empty, truncated, corrupted, foreign)."""


def _umask_mode(mode: int = 0o666) -> int:
    """``mode`` filtered by the process umask (what ``open()`` would have given)."""
    current = os.umask(0)
    os.umask(current)
    return mode & ~current


def _sweep_stale_temps(folder: Path, name: str, older_than_s: float = STALE_TEMP_S) -> None:
    now = time.time()
    for tmp in folder.glob(f".{name}.*.tmp"):
        try:
            if now - tmp.stat().st_mtime > older_than_s:
                tmp.unlink()
        except OSError:  # another process removed or renamed it meanwhile
            pass


def save_checkpoint(path: str | os.PathLike, payload: dict[str, Any]) -> Path:
    """Write ``payload`` atomically (temp file in the same folder, then ``os.replace``)."""
    path = Path(path)
    if not isinstance(payload, dict):
        raise TypeError(f"payload must be a dict, got {type(payload).__name__}")
    path.parent.mkdir(parents=True, exist_ok=True)
    _sweep_stale_temps(path.parent, path.name)
    buffer = io.BytesIO()
    torch.save(payload, buffer)  # serialise first: a failure leaves no file at all
    data = buffer.getvalue()
    header = b"%s %d %d %s\n" % (MAGIC, FORMAT_VERSION, len(data),
                                 hashlib.sha256(data).hexdigest().encode())
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(header)
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, _umask_mode())  # mkstemp creates 0600
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def load_checkpoint(path: str | os.PathLike, map_location: str | torch.device = "cpu"
                    ) -> dict[str, Any]:
    """Read a checkpoint safely: header, length and SHA-256 verified, ``weights_only=True``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no checkpoint at {path} (expected a file written by "
                                "save_checkpoint / train(..., checkpoint_dir=...))")
    raw = path.read_bytes()

    def refuse(why: str) -> CheckpointError:
        return CheckpointError(f"{path} ({len(raw)} bytes) is not a course checkpoint: {why}. "
                               "Delete it (or choose another checkpoint_dir) and train again.")

    if not raw:
        raise refuse("the file is empty")
    if raw.startswith(MAGIC):
        match = _HEADER_RE.match(raw[:200])
        if match is None:
            raise refuse("its header line is damaged")
        version, length, digest = int(match[1]), int(match[2]), match[3].decode()
        if version != FORMAT_VERSION:
            raise refuse(f"it has format version {version}; this course reads version "
                         f"{FORMAT_VERSION}")
        data = raw[match.end():]
        if len(data) != length:
            raise refuse(f"it is truncated or extended: the header promises {length} payload "
                         f"bytes, the file holds {len(data)}")
        if hashlib.sha256(data).hexdigest() != digest:
            raise refuse("its contents do not match the SHA-256 checksum saved with it (the "
                         "file is corrupted)")
    elif raw.startswith(b"PK\x03\x04"):  # a plain torch.save file (older course versions)
        data = raw
    else:
        raise refuse(f"it starts with {raw[:16]!r}, not with the {MAGIC.decode()} header "
                     "(a different kind of file?)")
    try:
        state = torch.load(io.BytesIO(data), map_location=map_location, weights_only=True)
    except Exception as err:
        if "weights only" in str(err).lower() or "weights_only" in str(err):
            why = ("it holds pickled Python objects besides tensors and plain data, which "
                   "weights-only loading refuses (a course checkpoint never contains any; do "
                   "not load files you do not trust)")
        else:
            why = f"torch could not read it ({type(err).__name__}: {str(err)[:200]})"
        raise refuse(why) from None
    if not isinstance(state, dict):
        raise refuse(f"it holds a {type(state).__name__}, not a dict of training state")
    return state
