"""The README's main command: `make lab` starts JupyterLab for every user, root included.

The test runs the Makefile's ``lab`` target itself, headless (``LAB_ARGS`` adds
``--no-browser`` and a private port/token), waits until the server answers on loopback,
then stops it -- all bounded in time. On this machine (and in Docker) the tests run as
root, which is exactly the case that used to exit at once with "Running as root is not
recommended".
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "course-make-lab-test"
START_TIMEOUT_S = 90


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(shutil.which("make") is None or os.name != "posix",
                    reason="needs make and a POSIX shell")
def test_make_lab_starts_a_server_that_answers(tmp_path):
    venv = Path(sys.prefix)
    if not (venv / "bin" / "jupyter").exists():
        pytest.skip(f"no jupyter in {venv}")
    port = _free_port()
    lab_args = (f"--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0 "
                f"--IdentityProvider.token={TOKEN} --LabApp.news_url=None "
                "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate")
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_RUNTIME_DIR=str(tmp_path / "runtime"), JUPYTER_PLATFORM_DIRS="1")
    log_path = tmp_path / "lab.log"
    # -o: the venv is this test run's; never re-run the (minutes-long) setup from a test
    command = ["make", "--no-print-directory", "-C", str(ROOT), "lab", f"VENV={venv}",
               "-o", str(venv / ".course-installed"), f"LAB_ARGS={lab_args}"]
    with open(log_path, "w") as log:
        proc = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)  # its own group: make + jupyter
        try:
            deadline = time.time() + START_TIMEOUT_S
            answered = None
            while time.time() < deadline and proc.poll() is None:
                try:
                    with urllib.request.urlopen(
                            f"http://127.0.0.1:{port}/api/status?token={TOKEN}",
                            timeout=2) as response:
                        answered = response.status
                    break
                except OSError:
                    time.sleep(0.5)
            output = log_path.read_text()
            assert proc.poll() is None, f"make lab exited with {proc.returncode}:\n{output[-3000:]}"
            assert answered == 200, f"no answer within {START_TIMEOUT_S} s:\n{output[-3000:]}"
            if os.geteuid() == 0:
                assert "--allow-root" in output  # make echoes the command it runs
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # the group this test started
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait(timeout=10)
