"""A learner's view: JupyterLab in headless Chromium runs a chapter and its widgets respond.

Starts JupyterLab on localhost with the course kernel over a temporary copy of the
notebooks (so autosave never writes outputs into the repository), opens a chapter, runs
*Run All* from the menu, and asserts what a learner sees: rendered plots, checker verdicts,
and a widget whose picture changes when a control is moved. Screenshots go to
build/browser/. Needs Debian's ``chromium`` (installed by .ci/run) and the ``playwright``
Python package (no browser download); skips with a reason otherwise.
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from chromium import launched_browser, require_chromium

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "course-browser-test"
SHOTS = ROOT / "build" / "browser"

require_chromium()  # skips this module without Chromium or playwright


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    work = tmp_path_factory.mktemp("lab")
    shutil.copytree(ROOT / "notebooks", work / "notebooks",
                    ignore=shutil.ignore_patterns("conftest.py", ".ipynb_checkpoints"))
    settings = work / "user-settings"
    for plugin, values in {
        # render every cell (no virtual scrolling), so the test can see all outputs
        "notebook-extension/tracker": {"windowingMode": "none"},
        "apputils-extension/notification": {"checkForUpdates": False, "fetchNews": "false"},
    }.items():
        target = settings / "@jupyterlab" / f"{plugin}.jupyterlab-settings"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(values))
    port = _free_port()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(work / "config"),
               JUPYTER_RUNTIME_DIR=str(work / "runtime"), COURSE_PROFILE="quick",
               HF_HUB_OFFLINE="1", COURSE_RESULTS_DIR=str(work / "results"),
               MPLBACKEND="module://matplotlib_inline.backend_inline")
    log = open(work / "lab.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "jupyter", "lab", "--no-browser", "--allow-root",
         "--ip=127.0.0.1", f"--port={port}", f"--ServerApp.root_dir={work / 'notebooks'}",
         f"--IdentityProvider.token={TOKEN}", "--LabApp.news_url=None",
         "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
         "--LabApp.extension_manager=readonly", f"--LabApp.user_settings_dir={settings}"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"{base}/api/status?token={TOKEN}", timeout=2)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.terminate()
        pytest.fail(f"JupyterLab did not start: {(work / 'lab.log').read_text()[-2000:]}")
    yield base
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()


@pytest.fixture(scope="module")
def browser():
    with launched_browser() as b:
        yield b


def open_and_run_all(browser, base: str, notebook: str, timeout_s: float):
    """Open a notebook, Run All, wait until the last cell has printed its runtime."""
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    external = []
    page.on("request", lambda r: external.append(r.url)
            if not r.url.startswith(("http://127.0.0.1", "data:", "blob:", "about:")) else None)
    workspace = Path(notebook).stem.replace("_", "-") + str(int(time.time() * 1000))
    page.goto(f"{base}/lab/workspaces/{workspace}/tree/{notebook}?reset&token={TOKEN}")
    page.wait_for_selector(".jp-NotebookPanel .jp-Cell", timeout=60_000)
    # the kernel must be up before Run All, or the queued cells are dropped
    page.wait_for_function("document.body.innerText.includes('(transformers-course) | Idle')",
                           timeout=90_000)
    page.click("li.lm-MenuBar-item:has-text('Run')")
    page.click("li[data-command='runmenu:run-all']")
    try:  # the last cell prints "finished in"; off-screen cells are attached but not visible
        page.wait_for_selector("text=finished in", state="attached", timeout=timeout_s * 1000)
    except Exception:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / f"failed_{Path(notebook).stem}.png"))
        raise
    return page, external


def _drawn(widget) -> str:
    """What the widget currently shows: the HTML of its output area(s)."""
    return "".join(o.inner_html() for o in widget.locator(".widget-output").all())


def change_control(page, widget, action: str) -> None:
    """Act on a control like a learner: 'slider:N', 'dropdown:N:label', 'text:N:value'."""
    kind, index, *rest = action.split(":")
    index = int(index)
    if kind == "slider":
        handle = widget.locator(".widget-slider .noUi-handle, .widget-slider .ui-slider-handle")
        handle.nth(index).click()
        for _ in range(4):
            page.keyboard.press("ArrowRight")
    elif kind == "dropdown":
        widget.locator(".widget-dropdown select").nth(index).select_option(label=rest[0])
    elif kind == "text":
        box = widget.locator(".widget-text input, .widget-textarea textarea").nth(index)
        box.fill(rest[0])
        box.press("Enter")
    elif kind == "button":
        widget.locator("button").filter(has_text=rest[0]).nth(index).click()
    else:
        raise ValueError(f"unknown action {action!r}")


def assert_widget_redraws(page, css_class: str, action: str, timeout_s: float = 60) -> None:
    """The widget with ``css_class`` is rendered, and ``action`` changes what it draws."""
    widget = page.locator(f".{css_class}").first
    widget.wait_for(state="attached", timeout=30_000)
    widget.scroll_into_view_if_needed()
    page.wait_for_function(
        """sel => { const w = document.querySelector(sel);
                    return w && w.querySelector('.widget-output img, .widget-output svg, '
                                                + '.widget-output pre'); }""",
        arg=f".{css_class}", timeout=timeout_s * 1000)
    before = _drawn(widget)
    change_control(page, widget, action)
    page.wait_for_function(
        """([sel, old]) => { const w = document.querySelector(sel);
                            const now = [...w.querySelectorAll('.widget-output')]
                                        .map(o => o.innerHTML).join('');
                            return now !== old && !now.includes('Could not draw'); }""",
        arg=[f".{css_class}", before], timeout=timeout_s * 1000)
    assert _drawn(widget) != before
    SHOTS.mkdir(parents=True, exist_ok=True)
    widget.screenshot(path=str(SHOTS / f"{css_class}.png"))


def assert_learner_view(page, stubs: int) -> None:
    """Plots rendered, no tracebacks, every exercise says 'not attempted yet'."""
    outputs = page.locator(".jp-OutputArea-output")
    assert page.locator(".jp-OutputArea-output img").count() >= 2
    assert outputs.filter(has_text="Traceback").count() == 0
    assert outputs.filter(has_text="not attempted yet").count() == stubs


def test_chapter00_runs_in_jupyterlab_and_its_widget_responds(lab, browser):
    page, external = open_and_run_all(browser, lab, "00_setup_and_landscape.ipynb", 240)
    assert_learner_view(page, stubs=4)
    assert page.locator(".jp-OutputArea-output").filter(has_text="[OK] torch").count() == 1
    assert_widget_redraws(page, "course-mask-explorer", "slider:0")
    page.screenshot(path=str(SHOTS / "ch00_lab.png"), full_page=False)
    assert external == [], f"the page requested external URLs: {external[:5]}"
    page.close()


# (student notebook, widget CSS class, action that must change the drawing, exercise stubs)
# One row per kind of widget (each row runs a whole chapter in JupyterLab): chapter 11 reuses
# the attention explorer that chapters 01 and 03 already exercise here.
CHAPTER_WIDGETS: list[tuple[str, str, str, int]] = [
    ("01_seq2seq_attention.ipynb", "course-attention-explorer", "dropdown:1:head 1", 6),
    ("02_gpt_generation.ipynb", "course-decoding-explorer", "slider:0", 7),
    ("03_bert_mlm.ipynb", "course-attention-explorer", "dropdown:1:head 1", 8),
    ("04_vit.ipynb", "course-vit-attention-explorer", "dropdown:1:rollout (all layers)", 6),
    ("06_data_augmentation.ipynb", "course-augment-explorer", "slider:0", 6),
    ("08_contrastive_adversarial.ipynb", "course-adversarial-explorer", "slider:0", 6),
    ("09_optimizers_schedules.ipynb", "course-lr-explorer", "slider:1", 8),
]


@pytest.mark.parametrize("notebook,css_class,action,stubs", CHAPTER_WIDGETS,
                         ids=[c[0][:2] for c in CHAPTER_WIDGETS])
def test_chapter_widget_in_jupyterlab(lab, browser, notebook, css_class, action, stubs):
    if not (ROOT / "notebooks" / notebook).exists():
        pytest.skip(f"{notebook} not written yet")
    page, external = open_and_run_all(browser, lab, notebook, 420)
    assert_learner_view(page, stubs)
    assert_widget_redraws(page, css_class, action)
    page.screenshot(path=str(SHOTS / f"{Path(notebook).stem}_lab.png"), full_page=False)
    assert external == [], f"the page requested external URLs: {external[:5]}"
    page.close()


def test_solution_notebook_shows_passing_checkers(lab, browser):
    page, _ = open_and_run_all(browser, lab, "solutions/00_setup_and_landscape.ipynb", 240)
    outputs = page.locator(".jp-OutputArea-output")
    assert outputs.filter(has_text="all 6 hidden cases pass").count() == 1
    assert outputs.filter(has_text="✅").count() == 4  # exercises 1-4
    assert outputs.filter(has_text="not attempted").count() == 0
    page.close()
