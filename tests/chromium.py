"""The headless Chromium both browser tests use (JupyterLab, slide decks): where it is,
and one ``browser`` context that skips the calling module when it cannot run."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

CHROMIUM = (os.environ.get("COURSE_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser"))
ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


def require_chromium() -> Any:
    """Skip the calling test module without Chromium or playwright; return ``sync_api``."""
    if CHROMIUM is None:
        pytest.skip("Chromium not installed (apt-get install chromium); .ci/run installs it",
                    allow_module_level=True)
    return pytest.importorskip("playwright.sync_api", reason="playwright package missing")


@contextmanager
def launched_browser() -> Iterator[Any]:
    """A headless Chromium (Debian's, never a downloaded one), closed on exit."""
    sync_api = require_chromium()
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()
