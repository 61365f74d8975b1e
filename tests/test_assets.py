"""Hub probe, offline environment, and loaders with fallbacks (local fixtures only)."""

import http.server
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
import types

import pytest

from course_utils import assets


@pytest.fixture
def fresh_status(monkeypatch):
    monkeypatch.setattr(assets, "_status", None)
    monkeypatch.delenv("COURSE_HUB_ONLINE", raising=False)


def test_probe_is_bounded_when_packets_are_dropped(monkeypatch):
    def black_hole(*args, **kwargs):
        time.sleep(30)  # a firewall that silently drops packets

    monkeypatch.setattr(socket, "create_connection", black_hole)
    monkeypatch.setattr(socket, "getaddrinfo", black_hole)
    start = time.perf_counter()
    assert assets.probe_hub("https://huggingface.co", timeout=1.0) is False
    assert time.perf_counter() - start < 2.0


def test_probe_unroutable_address_returns_false_within_the_timeout():
    start = time.perf_counter()
    assert assets.probe_hub("http://10.255.255.1:81", timeout=2.0) is False
    assert time.perf_counter() - start < 5.0


class _FakeHub(http.server.BaseHTTPRequestHandler):
    status = 200
    genuine = True  # the Hub sets X-Repo-Commit; a captive portal does not

    def do_HEAD(self):  # noqa: N802 (http.server API)
        self.send_response(self.status if self.path == assets.PROBE_PATH else 404)
        if self.genuine:
            self.send_header(assets.HUB_HEADER, "607a30d783dfa663caf39e06633721c8d4cfcd7e")
        if 300 <= self.status < 400:
            self.send_header("Location", self.path)  # a redirect loop, like a portal's
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("status,genuine,online", [
    (200, True, True), (302, True, True), (404, True, False), (503, True, False),
    (302, False, False),  # captive portal: a redirect loop without the Hub's header
    (200, False, False),  # captive portal: a login page
])
def test_probe_needs_an_http_answer_from_the_hub(monkeypatch, status, genuine, online):
    monkeypatch.setattr(_FakeHub, "status", status)
    monkeypatch.setattr(_FakeHub, "genuine", genuine)
    server = http.server.HTTPServer(("127.0.0.1", 0), _FakeHub)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        assert assets.probe_hub(f"http://127.0.0.1:{server.server_port}", timeout=2.0) is online
    finally:
        server.shutdown()
        server.server_close()


def test_probe_false_when_nothing_listens():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    assert assets.probe_hub(f"http://127.0.0.1:{port}", timeout=2.0) is False


def test_probe_rejects_bad_arguments():
    with pytest.raises(ValueError, match="timeout must be > 0 seconds, got 0"):
        assets.probe_hub("https://huggingface.co", timeout=0)
    with pytest.raises(ValueError, match="endpoint must be a URL"):
        assets.probe_hub("not a url")


def test_status_honours_hf_hub_offline(fresh_status, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(assets, "probe_hub", lambda *a, **k: pytest.fail("must not probe"))
    status = assets.hub_status()
    assert not status.online and "HF_HUB_OFFLINE" in status.reason
    assert assets.hub_status() is status  # cached


def test_status_is_cached_across_processes_via_env(fresh_status, monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    calls = []
    monkeypatch.setattr(assets, "probe_hub", lambda *a, **k: calls.append(1) or False)
    for key in assets.OFFLINE_ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setitem(sys.modules, "transformers", types.ModuleType("transformers"))
    with pytest.warns(UserWarning, match="transformers.* imported before course_utils decided"):
        assert assets.configure_hub_env().online is False
    assert os.environ["HF_HUB_OFFLINE"] == "1" and os.environ["COURSE_HUB_ONLINE"] == "0"
    monkeypatch.setattr(assets, "_status", None)  # a child process starts without the cache
    assert assets.hub_status().reason == "HF_HUB_OFFLINE=1 is set"
    assert calls == [1]


def test_import_sets_offline_before_transformers_in_a_fresh_process(tmp_path):
    """The whole point: no HF_HUB_OFFLINE given, Hub unreachable -> fast failure, no retries."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("HF_", "TRANSFORMERS_", "COURSE_HUB"))}
    env.update(HF_ENDPOINT="http://10.255.255.1:81", HF_HOME=str(tmp_path / "hf"))
    code = textwrap.dedent("""
        import os, time
        t0 = time.perf_counter()
        import course_utils
        probe = time.perf_counter() - t0
        assert os.environ["HF_HUB_OFFLINE"] == "1", os.environ.get("HF_HUB_OFFLINE")
        from transformers import AutoConfig
        t1 = time.perf_counter()
        try:
            AutoConfig.from_pretrained("openai-community/gpt2")
            raise SystemExit("loaded from the Hub?!")
        except OSError:
            pass
        print(f"{probe:.2f} {time.perf_counter() - t1:.2f}")
    """)
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    probe_s, load_s = map(float, out.stdout.split()[-2:])
    assert probe_s < 5.0, f"import+probe took {probe_s} s"
    assert load_s < 5.0, f"from_pretrained took {load_s} s to fail (retries?)"


@pytest.fixture(scope="module")
def tiny_gpt2_dir(tmp_path_factory):
    from transformers import GPT2Config, GPT2LMHeadModel

    path = tmp_path_factory.mktemp("tiny-gpt2")
    config = GPT2Config(n_layer=1, n_head=2, n_embd=16, vocab_size=50, n_positions=32,
                        bos_token_id=0, eos_token_id=0)
    GPT2LMHeadModel(config).save_pretrained(path)
    return path


def test_load_pretrained_from_a_local_folder(tiny_gpt2_dir):
    from transformers import AutoModelForCausalLM

    loaded = assets.load_pretrained(tiny_gpt2_dir, AutoModelForCausalLM.from_pretrained,
                                    fallback=lambda: pytest.fail("must not fall back"))
    assert loaded.source == "local"
    assert loaded.value.config.n_embd == 16


def test_load_pretrained_falls_back_offline_with_one_line(capsys):
    from transformers import AutoModelForCausalLM, GPT2Config, GPT2LMHeadModel

    start = time.perf_counter()
    loaded = assets.load_pretrained(
        "openai-community/gpt2", AutoModelForCausalLM.from_pretrained,
        fallback=lambda: GPT2LMHeadModel(GPT2Config(n_layer=1, n_embd=8, n_head=2,
                                                     vocab_size=20, bos_token_id=0,
                                                     eos_token_id=0)),
        fallback_note="a tiny GPT-2")
    assert time.perf_counter() - start < 5.0
    assert loaded.source == "fallback" and loaded.value.config.n_embd == 8
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines == ["[assets] openai-community/gpt2: offline -> using a tiny GPT-2 instead."]


def test_load_pretrained_without_fallback_raises():
    from transformers import AutoConfig

    with pytest.raises(OSError):
        assets.load_pretrained("openai-community/gpt2", AutoConfig.from_pretrained)


def test_load_pretrained_bad_arguments(tiny_gpt2_dir):
    with pytest.raises(TypeError, match="loader must be callable"):
        assets.load_pretrained("gpt2", "AutoModel")
    with pytest.raises(TypeError, match="fallback must be a zero-argument callable"):
        assets.load_pretrained("gpt2", print, fallback=42)
    with pytest.raises(ValueError, match="trust_remote_code=True is not allowed"):
        assets.load_pretrained("gpt2", print, trust_remote_code=True)


@pytest.fixture
def parquet_files(tmp_path):
    import pandas as pd

    paths = {}
    for split, n in (("train", 6), ("test", 3)):
        path = tmp_path / f"{split}.parquet"
        pd.DataFrame({"text": [f"review {i}" for i in range(n)],
                      "label": [i % 2 for i in range(n)]}).to_parquet(path)
        paths[split] = str(path)
    return paths


def test_load_text_dataset_from_parquet(parquet_files):
    loaded = assets.load_text_dataset("parquet", data_files=parquet_files)
    assert loaded.source == "local"
    assert loaded.value["train"].num_rows == 6 and loaded.value["test"].num_rows == 3


def test_load_text_dataset_falls_back_offline(capsys):
    from datasets import Dataset

    start = time.perf_counter()
    loaded = assets.load_text_dataset("stanfordnlp/imdb",
                                      fallback=lambda: Dataset.from_dict({"text": ["x"]}),
                                      fallback_note="the bundled reviews corpus")
    assert time.perf_counter() - start < 5.0
    assert loaded.source == "fallback" and loaded.value.num_rows == 1
    assert "offline -> using the bundled reviews corpus" in capsys.readouterr().out


def test_load_text_dataset_bad_arguments():
    with pytest.raises(TypeError, match="name must be a non-empty dataset id"):
        assets.load_text_dataset("")
    with pytest.raises(ValueError, match="trust_remote_code=True is not allowed"):
        assets.load_text_dataset("imdb", trust_remote_code=True)


def _network_failures():
    import requests

    failures = [requests.exceptions.TooManyRedirects("Exceeded 30 redirects."),
                ConnectionResetError("reset by peer"), TimeoutError("read timed out")]
    for name in ("httpx", "httpx2"):
        try:
            module = __import__(name)
        except ImportError:
            continue
        failures.append(module.TooManyRedirects("Exceeded maximum allowed redirects."))
        failures.append(module.ConnectError("portal"))
    return failures


@pytest.mark.parametrize("error", _network_failures(), ids=lambda e: type(e).__module__ + "." +
                         type(e).__name__)
def test_every_network_failure_falls_back_with_the_notice(capsys, error):
    def loader(name, **kwargs):
        raise error

    loaded = assets.load_pretrained("openai-community/gpt2", loader, fallback=lambda: "tiny",
                                    fallback_note="a tiny model")
    assert loaded.source == "fallback" and loaded.value == "tiny"
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("[assets] openai-community/gpt2: ")
    assert lines[0].endswith("-> using a tiny model instead.")


def test_a_bug_in_the_loader_call_is_not_hidden_by_the_fallback():
    def loader(name, **kwargs):
        raise TypeError("unexpected keyword argument 'n_layers'")

    with pytest.raises(TypeError, match="n_layers"):
        assets.load_pretrained("openai-community/gpt2", loader, fallback=lambda: "tiny")


def test_fixture_hub_counts_as_online_but_reads_only_the_cache(fresh_status, monkeypatch,
                                                              tmp_path):
    monkeypatch.setenv(assets.FIXTURES_VAR, str(tmp_path))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")  # set by the Makefile too: must not win here
    monkeypatch.setattr(assets, "probe_hub", lambda *a, **k: pytest.fail("must not probe"))
    for key in assets.OFFLINE_ENV:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.delenv("HF_HOME", raising=False)
    status = assets.configure_hub_env()
    assert status.online and "fixture Hub" in status.reason and str(tmp_path) in status.reason
    assert os.environ["HF_HOME"] == str(tmp_path.resolve())
    assert all(os.environ[k] == v for k, v in assets.OFFLINE_ENV.items())  # no network calls
    assert assets.is_online()
