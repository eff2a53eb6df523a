"""The notebooks as a reader meets them: Run All in JupyterLab, and GitHub's HTML, in a browser.

JupyterLab runs from ``.venv`` on 127.0.0.1 with a token, over a scratch copy of the
notebooks without their outputs; Playwright drives Debian's ``chromium`` (``make test``
installs it when missing; Playwright downloads no browser of its own). Each notebook is
opened, run with *Run All Cells* from the menu and left to finish, and saved; then the saved
file may hold no error and no cell left unrun, every figure on the page must have loaded, and
every line the committed notebook printed (the watermark aside) must be on the page: the
numbers a reader sees are the committed ones. Figures and results go to the test
session's scratch directory (``conftest.py``); a screenshot of each notebook is kept under the
test's temporary directory. The calibration notebook runs with 60 replicates: its numbers are
then not the committed ones, but it still asserts its own checks at that size (each model
calibrated, the negative control caught, at a family-wise level of 5%), and its five figures
must be written.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import nbformat
import pytest

from pooling import portable
from pooling.paths import NOTEBOOKS_DIR, ROOT, figures_dir

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]_*.ipynb"))
REDUCED = {"05_calibration": ("REPLICATES = 1000", "REPLICATES = 60")}
#: What the reduced calibration must print, and the figures it must write.
CALIBRATION_LINES = ("60 replicates per model", "(negative control): ", " quantities fail (")
CALIBRATION_FIGURES = [
    f"05_calibration_{kind}.png"
    for kind in ("no_pooling", "full_pooling", "hierarchical", "regression", "summary")
]
#: The notebook shown (the other panels of the workspace are hidden).
ACTIVE = ".jp-NotebookPanel:not(.lm-mod-hidden)"
#: Longest wait for one notebook's Run All, in seconds.
RUN_TIMEOUT = 600

pytestmark = pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Chromium is missing: `make test` installs it"
)


def printed_lines(path: Path) -> list[str]:
    """Every line the notebook printed to stdout, but the watermark's (machine-specific)."""
    nb = nbformat.read(path, as_version=4)
    lines = []
    for cell in nb.cells:
        if cell.cell_type != "code" or "watermark" in cell.source:
            continue
        for output in cell.get("outputs", []):
            if output.get("output_type") == "stream" and output.get("name") == "stdout":
                lines += [line.strip() for line in output["text"].splitlines() if line.strip()]
    return lines


def image_count(path: Path, kinds=("image/png", "image/svg+xml")) -> int:
    """Figures among the notebook's outputs (JupyterLab shows an SVG as an image too)."""
    nb = nbformat.read(path, as_version=4)
    return sum(
        any(kind in output.get("data", {}) for kind in kinds)
        for cell in nb.cells
        for output in cell.get("outputs", [])
    )


def saved_problems(page, saved: Path, timeout: float = 60) -> list[str]:
    """Save the notebook shown and list its errors and the code cells that did not run.

    The page shows an error through the renderer of standard error, as it shows a warning;
    the saved file tells them apart.
    """
    before = saved.stat().st_mtime_ns
    page.keyboard.press("Escape")  # command mode, then the notebook's Save
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + timeout
    while saved.stat().st_mtime_ns == before:
        if time.monotonic() > deadline:
            return [f"JupyterLab did not save {saved.name} within {timeout:.0f} s"]
        time.sleep(0.2)
    time.sleep(0.5)  # let the write finish
    nb = nbformat.read(saved, as_version=4)
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    problems = [
        f"{output['ename']}: {output['evalue']}"
        for cell in code
        for output in cell.get("outputs", [])
        if output.get("output_type") == "error"
    ]
    not_run = sum(cell.execution_count is None for cell in code)
    return problems + ([f"{not_run} code cells did not run"] if not_run else [])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 over a scratch copy of the notebooks.

    Yields ``(url, token, scratch)``: the copies are in ``scratch / "notebooks"``.
    """
    scratch = tmp_path_factory.mktemp("lab")
    (scratch / "notebooks").mkdir()
    for path in NOTEBOOKS:
        # Without the committed outputs: whatever the page shows, this run produced.
        nb = nbformat.read(path, as_version=4)
        old, new = REDUCED.get(path.stem, ("", ""))
        for cell in nb.cells:
            cell.source = cell.source.replace(old, new)
            if cell.cell_type == "code":
                cell.outputs, cell.execution_count = [], None
        nbformat.write(nb, scratch / "notebooks" / path.name)
    # Render every cell (JupyterLab otherwise renders only what is near the viewport).
    settings = scratch / "settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    token, port = secrets.token_hex(16), free_port()
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(scratch / "settings"),
        "JUPYTER_CONFIG_DIR": str(scratch / "config"),
        "JUPYTER_DATA_DIR": str(scratch / "data"),  # so the kernel is .venv's own
        "JUPYTER_RUNTIME_DIR": str(scratch / "runtime"),
    }
    for name in portable.ENV:
        env.pop(name, None)  # the kernel must get them from its kernel spec, as for a reader
    # and no test start-up file: a reader's kernel, which compiles through the disk cache when
    # its kernel spec's start line finds that it fits (pooling.runner.kernelspec)
    env.pop("IPYTHONDIR", None)
    log = (scratch / "server.log").open("w")
    server = subprocess.Popen(
        [str(ROOT / ".venv" / "bin" / "jupyter"), "lab", "--no-browser", "--ip=127.0.0.1",
         f"--port={port}", f"--IdentityProvider.token={token}",
         f"--ServerApp.root_dir={scratch}", "--allow-root"],
        env=env, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(240):
            try:
                urllib.request.urlopen(f"{url}/api/status?token={token}", timeout=2)
                break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail(f"JupyterLab did not start: {(scratch / 'server.log').read_text()}")
        yield url, token, scratch
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def loaded_images(page, selector: str) -> list[bool]:
    return page.evaluate(
        f"() => Array.from(document.querySelectorAll({selector!r}))"
        ".map(img => img.complete && img.naturalWidth > 0)"
    )


def run_all_cells(page, lab, name: str) -> list[str]:
    """Open ``notebooks/name`` in JupyterLab, Run All, and return :func:`saved_problems`."""
    url, token, scratch = lab
    # ?reset: a workspace of its own, not the notebooks opened before
    page.goto(f"{url}/lab/tree/notebooks/{name}?reset&token={token}")
    page.wait_for_selector("#jp-main-statusbar >> text=Idle", timeout=120_000)
    page.click("li.lm-MenuBar-item >> text=Run", timeout=30_000)
    page.click("li.lm-Menu-item >> text=Run All Cells", timeout=30_000)
    # Finished, or stopped at an error (Run All runs no further cell then): a cell has run,
    # and none is waiting or running.
    page.wait_for_function(
        """() => {
            const prompts = Array.from(document.querySelectorAll('ACTIVE .jp-InputArea-prompt'))
                .map(p => p.textContent.trim());
            return prompts.some(t => /^\\[\\d+\\]:$/.test(t))
                && !prompts.some(t => t.includes('*'));
        }""".replace("ACTIVE", ACTIVE),
        timeout=RUN_TIMEOUT * 1000,
    )
    return saved_problems(page, scratch / "notebooks" / name)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_run_all_in_jupyterlab(path, lab, browser, tmp_path):
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    started = time.time()
    try:
        problems = run_all_cells(page, lab, path.name)
        page.screenshot(path=str(tmp_path / f"{path.stem}.png"))
        assert not problems, f"{path.name} in JupyterLab: {problems}"
        images = loaded_images(page, f"{ACTIVE} .jp-OutputArea-output img")
        assert len(images) == image_count(path) and all(images), f"{path.name}: {images}"
        text = page.inner_text(f"{ACTIVE} .jp-Notebook")
        assert "lacks the portable settings" not in text
        if path.stem not in REDUCED:
            missing = [line for line in printed_lines(path) if line not in text]
            assert not missing, f"{path.name} shows other numbers than committed: {missing}"
        else:  # its kernel wrote its figures into the session's directory (conftest.py)
            assert all(line in text for line in CALIBRATION_LINES), text[-2000:]
            written = [figures_dir() / name for name in CALIBRATION_FIGURES]
            assert all(p.is_file() and p.stat().st_mtime >= started for p in written)
    finally:
        page.close()


def test_an_error_in_jupyterlab_fails_the_run(lab, browser):
    """The negative control: a cell that raises is caught, and so are the cells it stops."""
    nb = nbformat.v4.new_notebook()
    # The committed notebooks' kernel: without one, JupyterLab asks which to start.
    nb.metadata.kernelspec = nbformat.read(NOTEBOOKS[0], as_version=4).metadata.kernelspec
    nb.cells = [nbformat.v4.new_code_cell(code) for code in
                ("print('before')", "raise ValueError('planted')", "print('after')")]  # fmt: skip
    nbformat.write(nb, lab[2] / "notebooks" / "planted_error.ipynb")
    page = browser.new_page()
    try:
        problems = run_all_cells(page, lab, "planted_error.ipynb")
    finally:
        page.close()
    assert problems == ["ValueError: planted", "1 code cells did not run"]


def test_github_html_shows_every_image(browser, tmp_path):
    """The committed notebooks as nbconvert renders them, as GitHub shows them."""
    subprocess.run(
        [str(ROOT / ".venv" / "bin" / "jupyter"), "nbconvert", "--to", "html",
         "--output-dir", str(tmp_path), *map(str, NOTEBOOKS)],
        check=True, capture_output=True,
    )  # fmt: skip
    page = browser.new_page()
    try:
        for path in NOTEBOOKS:
            page.goto((tmp_path / f"{path.stem}.html").as_uri())
            page.wait_for_load_state("load")
            images = loaded_images(page, ".jp-OutputArea-output img")
            assert len(images) == image_count(path) and all(images), f"{path.name}: {images}"
    finally:
        page.close()
