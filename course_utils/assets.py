"""Online/offline decisions and loading of pretrained models and datasets.

The Hugging Face libraries read ``HF_HUB_OFFLINE`` when they are *imported*; without it
an unreachable Hub costs 23-46 s of retries per call (measured, see STACK_NOTES). So the
course decides once, with a short TCP probe, before anything imports ``transformers`` or
``datasets``, and sets the offline variables itself. ``load_pretrained`` and
``load_text_dataset`` then try the Hub (or a local path) and fall back to the course's
own small models and bundled data with a one-line notice -- never a stack trace.
"""

from __future__ import annotations

import http.client
import os
import sys
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Generic, TypeVar
from urllib.parse import urlparse

T = TypeVar("T")

DEFAULT_ENDPOINT = "https://huggingface.co"
PROBE_TIMEOUT_S = 2.0
PROBE_PATH = "/openai-community/gpt2/resolve/main/config.json"
HUB_HEADER = "X-Repo-Commit"  # set by the Hub (and its mirrors) on every resolve answer
#: Environment variables set when the Hub is unreachable (or HF_HUB_OFFLINE=1 was given).
OFFLINE_ENV = {
    "HF_HUB_OFFLINE": "1",
    "HF_DATASETS_OFFLINE": "1",
    "HF_EVALUATE_OFFLINE": "1",
    "HF_UPDATE_DOWNLOAD_COUNTS": "0",
    "TRANSFORMERS_OFFLINE": "1",
}
#: Quiet defaults for notebooks (progress bars of downloads, load reports).
QUIET_ENV = {"TRANSFORMERS_VERBOSITY": "error", "HF_HUB_DISABLE_PROGRESS_BARS": "1",
             "HF_DATASETS_DISABLE_PROGRESS_BARS": "1", "TOKENIZERS_PARALLELISM": "false"}
_CACHE_VAR = "COURSE_HUB_ONLINE"  # inherited by subprocesses (torchrun, kernels)
#: A Hugging Face cache written by ``course_utils._maintain.hub_fixtures``: when set, the
#: course behaves as online, and the HF libraries read that cache offline (smoke tests).
FIXTURES_VAR = "COURSE_HUB_FIXTURES"
_TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class HubStatus:
    """Result of the Hub probe: whether it is usable and why."""

    online: bool
    reason: str
    seconds: float

    def __str__(self) -> str:
        state = "online" if self.online else "offline"
        return f"hub: {state} ({self.reason})"


_status: HubStatus | None = None


def _env_flag(name: str) -> bool | None:
    value = os.environ.get(name)
    if value is None or value.strip() == "":
        return None
    return value.strip().lower() in _TRUE


def probe_hub(endpoint: str | None = None, timeout: float = PROBE_TIMEOUT_S) -> bool:
    """True if the Hub answers an HTTP HEAD for a small public file within ``timeout`` s.

    A bare TCP connect is not enough: proxies and captive portals accept any connection
    and answer with redirects or login pages. So the probe asks for
    ``openai-community/gpt2``'s config and wants a 2xx/3xx answer that carries the Hub's
    ``X-Repo-Commit`` header (what ``huggingface_hub`` itself relies on).
    """
    if timeout <= 0:
        raise ValueError(f"timeout must be > 0 seconds, got {timeout}")
    url = urlparse(endpoint or os.environ.get("HF_ENDPOINT", DEFAULT_ENDPOINT))
    if url.scheme not in ("http", "https") or not url.hostname:
        raise ValueError(f"endpoint must be a URL like 'https://huggingface.co', got {endpoint!r}")
    result: list[bool] = []

    def attempt() -> None:
        # DNS lookups have no timeout of their own, hence the thread + join(timeout).
        conn_cls = http.client.HTTPSConnection if url.scheme == "https" else \
            http.client.HTTPConnection
        try:
            conn = conn_cls(url.hostname, url.port, timeout=timeout)
            conn.request("HEAD", f"{url.path.rstrip('/')}{PROBE_PATH}")
            response = conn.getresponse()
            genuine = response.getheader(HUB_HEADER) is not None
            conn.close()
            result.append(200 <= response.status < 400 and genuine)
        except Exception:  # any failure (DNS, TLS, proxy, protocol) means "not usable"
            result.append(False)

    thread = threading.Thread(target=attempt, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def hub_status(refresh: bool = False) -> HubStatus:
    """Decide (once per process, cached) whether the Hugging Face Hub can be used."""
    global _status
    if _status is not None and not refresh:
        return _status
    start = time.perf_counter()
    offline_flag = _env_flag("HF_HUB_OFFLINE")
    cached = None if refresh else _env_flag(_CACHE_VAR)
    fixtures = os.environ.get(FIXTURES_VAR, "").strip()
    if fixtures:
        status = HubStatus(True, f"fixture Hub in {fixtures}: tiny random models under the "
                                 "real ids, for smoke tests", 0.0)
    elif offline_flag:
        status = HubStatus(False, "HF_HUB_OFFLINE=1 is set", 0.0)
    elif cached is not None:
        status = HubStatus(cached, "decided earlier in this session", 0.0)
    else:
        online = probe_hub()
        reason = "probe reached the Hub" if online else "probe could not reach the Hub"
        status = HubStatus(online, reason, time.perf_counter() - start)
    _status = status
    return status


def configure_hub_env(refresh: bool = False) -> HubStatus:
    """Probe the Hub and, if unusable, set the HF offline variables before HF imports."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)
    status = hub_status(refresh=refresh)
    os.environ[_CACHE_VAR] = "1" if status.online else "0"
    fixtures = os.environ.get(FIXTURES_VAR, "").strip()
    if fixtures:  # "online", but every file comes from the fixture cache
        os.environ["HF_HOME"] = str(Path(fixtures).resolve())
    if not status.online or fixtures:
        os.environ.update(OFFLINE_ENV)
        late = [m for m in ("huggingface_hub", "transformers", "datasets") if m in sys.modules]
        if late:
            _patch_imported_offline_flags()
            warnings.warn(
                f"{', '.join(late)} were imported before course_utils decided to go offline; "
                "import course_utils first (the setup cell does) to avoid slow Hub retries.",
                stacklevel=2,
            )
    return status


def _patch_imported_offline_flags() -> None:
    """Best effort: flip the offline constants of HF modules that are already imported."""
    for module_name in ("huggingface_hub.constants", "datasets.config"):
        module = sys.modules.get(module_name)
        if module is not None and hasattr(module, "HF_HUB_OFFLINE"):
            module.HF_HUB_OFFLINE = True


def is_online() -> bool:
    """True if the Hub was found reachable and offline mode is not forced."""
    return hub_status().online


def _network_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that mean "the network or the Hub failed" (not a bug in the caller's code).

    ``OSError`` covers connection, DNS and timeout errors, ``requests``' errors and
    ``huggingface_hub``'s HTTP and not-cached errors; ``httpx``'s (e.g. ``TooManyRedirects``
    from a captive portal) are not OSErrors and are added when installed.
    """
    errors: list[type[BaseException]] = [OSError, ValueError]
    for module_name in ("httpx", "httpx2"):
        try:
            errors.append(__import__(module_name).HTTPError)
        except (ImportError, AttributeError):
            pass
    try:
        from huggingface_hub import errors as hub_errors

        errors.append(hub_errors.HfHubHTTPError)
    except (ImportError, AttributeError):
        pass
    return tuple(errors)


@dataclass
class Loaded(Generic[T]):
    """What a loader returned and where it came from (``hub``, ``local`` or ``fallback``)."""

    value: T
    source: str
    detail: str


def _is_local_dir(name: str | os.PathLike) -> bool:
    return Path(name).expanduser().is_dir()


def load_pretrained(
    name: str | os.PathLike,
    loader: Callable[..., T],
    fallback: Callable[[], T] | None = None,
    *,
    fallback_note: str = "a small model built from a config",
    **kwargs: Any,
) -> Loaded[T]:
    """Load ``name`` with ``loader`` (e.g. ``AutoModel.from_pretrained``) or fall back.

    ``name`` may be a Hub id (used only when the Hub is reachable or the files are cached)
    or a local folder made with ``save_pretrained``. ``fallback()`` builds a substitute;
    without one, the loader's error is raised. Never ``trust_remote_code``.
    """
    if not callable(loader):
        raise TypeError(f"loader must be callable (e.g. AutoModel.from_pretrained), got {loader!r}")
    if fallback is not None and not callable(fallback):
        raise TypeError(f"fallback must be a zero-argument callable or None, got {fallback!r}")
    if kwargs.get("trust_remote_code"):
        raise ValueError("trust_remote_code=True is not allowed in this course")
    local = _is_local_dir(name)
    try:
        value = loader(str(name), **kwargs)
        return Loaded(value, "local" if local else "hub", str(name))
    except _network_errors() as err:  # offline/not cached/portal -> fall back, one line
        if fallback is None or local:
            raise
        why = "offline" if not is_online() else f"could not load ({type(err).__name__})"
        print(f"[assets] {name}: {why} -> using {fallback_note} instead.")
        return Loaded(fallback(), "fallback", fallback_note)


def load_text_dataset(
    name: str,
    fallback: Callable[[], Any] | None = None,
    *,
    fallback_note: str = "the bundled offline dataset",
    **kwargs: Any,
) -> Loaded[Any]:
    """``datasets.load_dataset(name, **kwargs)`` with a one-line fallback when offline.

    ``name`` can be a Hub id (``"stanfordnlp/imdb"``) or a builder such as ``"parquet"``
    with ``data_files=...``.
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"name must be a non-empty dataset id or builder name, got {name!r}")
    if fallback is not None and not callable(fallback):
        raise TypeError(f"fallback must be a zero-argument callable or None, got {fallback!r}")
    if kwargs.get("trust_remote_code"):
        raise ValueError("trust_remote_code=True is not allowed in this course")
    from datasets import load_dataset  # imported late: env vars must be set first

    is_builder = "data_files" in kwargs or _is_local_dir(name)
    try:
        return Loaded(load_dataset(name, **kwargs), "local" if is_builder else "hub", name)
    except _network_errors() as err:  # ConnectionError is an OSError; httpx's are not
        if fallback is None or is_builder:
            raise
        why = "offline" if not is_online() else f"could not load ({type(err).__name__})"
        print(f"[assets] {name}: {why} -> using {fallback_note} instead.")
        return Loaded(fallback(), "fallback", fallback_note)
