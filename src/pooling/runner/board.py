"""The progress board: a live line on a terminal, plain lines in a log, for every notebook run.

For each notebook the board shows the code cells done out of the total, the section it is in
(the last ``#`` heading of a markdown cell before the running cell), the time elapsed and,
while a long cell reports its own progress (:func:`pooling.progress.report`, read from a file
named in the kernel's environment), that too::

    03_hierarchical: 14/31 cells, Checks, 23 s | 01_no_pooling: 18/22 cells, Sampling, 31 s

On a terminal this is one line, redrawn twice a second. Elsewhere (a CI log, a pipe) a plain
line is printed whenever a notebook enters a new section, and a long cell's progress at most
every :data:`LOG_EVERY` seconds. Nothing of it reaches the executed notebooks: it is printed
by the runner, not by the kernel.
"""

from __future__ import annotations

import re
import shutil
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

from pooling.progress import PROGRESS_ENV

__all__ = ["LOG_EVERY", "Board"]

#: In a log, a long cell's progress is printed at most this often, in seconds.
LOG_EVERY = 15.0
_HEADING = re.compile(r"^#+\s+(.*)$", re.M)


@dataclass
class _Notebook:
    total: int
    progress_file: Path
    start: float = field(default_factory=time.perf_counter)
    done: int = 0
    section: str = ""
    detail: str = ""
    logged_detail: float = 0.0

    def line(self, stem: str) -> str:
        parts = [f"{self.done}/{self.total} cells", self.section, self.detail,
                 f"{time.perf_counter() - self.start:.0f} s"]  # fmt: skip
        return f"{stem}: {', '.join(part for part in parts if part)}"


class Board:
    """The progress of the notebooks being executed, shown as they run.

    Parameters
    ----------
    stream : file, optional
        Where to show it; default standard output.
    live : bool, optional
        One redrawn line (a terminal) or plain lines (a log); default: whether ``stream`` is
        a terminal.
    """

    def __init__(self, stream=None, live: bool | None = None):
        self.stream = stream or sys.stdout
        self.live = self.stream.isatty() if live is None else live
        self._notebooks: dict[str, _Notebook] = {}
        self._lock = threading.Lock()
        self._scratch = Path(tempfile.mkdtemp(prefix="pooling-progress-"))
        self._stop = threading.Event()
        self._ticker = threading.Thread(target=self._tick, daemon=True)
        self._ticker.start()

    # -- what the runner calls -----------------------------------------------------------
    def start(self, stem: str, nb, parameters: dict) -> tuple[dict, dict]:
        """Register a notebook about to run.

        Parameters
        ----------
        stem : str
            The notebook's name.
        nb : nbformat.NotebookNode
            The notebook as it will be executed (before papermill injects its parameters).
        parameters : dict
            The parameters papermill injects (one more code cell when there are any).

        Returns
        -------
        hooks : dict
            nbclient's ``on_cell_start`` and ``on_cell_executed`` hooks, for papermill.
        env : dict
            The kernel's environment variable naming its progress file.
        """
        total = sum(c.cell_type == "code" and bool(c.source.strip()) for c in nb.cells)
        progress_file = self._scratch / f"{stem}.txt"
        with self._lock:
            self._notebooks[stem] = _Notebook(total + bool(parameters), progress_file)
        self._show(f"{stem}: running")

        def on_cell_start(cell, cell_index, **_):
            if cell.cell_type == "markdown":
                headings = _HEADING.findall(cell.source)
                if headings:
                    self._section(stem, headings[-1].strip())

        def on_cell_executed(cell, cell_index, **_):
            with self._lock:
                entry = self._notebooks[stem]
                entry.done = min(entry.done + 1, entry.total)
                entry.detail = ""
            progress_file.unlink(missing_ok=True)

        hooks = {"on_cell_start": on_cell_start, "on_cell_executed": on_cell_executed}
        return hooks, {PROGRESS_ENV: str(progress_file)}

    def finish(self, stem: str, message: str | None = None) -> None:
        """Take a notebook off the board, printing ``message`` as a line of its own."""
        with self._lock:
            self._notebooks.pop(stem, None)
        if message:
            self._show(message)

    def close(self) -> None:
        """Stop redrawing and clear the live line."""
        self._stop.set()
        self._ticker.join()
        if self.live:
            self._write("\r\x1b[K")
        shutil.rmtree(self._scratch, ignore_errors=True)

    def __enter__(self) -> Board:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # -- showing it ----------------------------------------------------------------------
    def _section(self, stem: str, section: str) -> None:
        with self._lock:
            entry = self._notebooks.get(stem)
            if entry is None or entry.section == section:
                return
            entry.section = section
            line = entry.line(stem)
        if not self.live:
            self._show(line)

    def _tick(self) -> None:
        while not self._stop.wait(0.5):
            lines = []
            with self._lock:
                for stem, entry in self._notebooks.items():
                    entry.detail = _read(entry.progress_file) or entry.detail
                    lines.append(entry.line(stem))
                    if not self.live and entry.detail:
                        now = time.perf_counter()
                        if now - entry.logged_detail >= LOG_EVERY:
                            entry.logged_detail = now
                            self._write(f"{entry.line(stem)}\n")
            if self.live and lines:
                width = shutil.get_terminal_size().columns - 1
                self._write(f"\r\x1b[K{' | '.join(lines)[:width]}")

    def _show(self, line: str) -> None:
        """A line of its own; on a terminal, above the live line."""
        self._write(f"\r\x1b[K{line}\n" if self.live else f"{line}\n")

    def _write(self, text: str) -> None:
        with _WRITE:
            self.stream.write(text)
            self.stream.flush()


_WRITE = threading.Lock()


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""
