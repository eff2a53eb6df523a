"""Every file the collection writes is written whole or not at all.

:func:`atomic_path` writes to a temporary file beside the destination and renames it into
place only once complete, so a crash or Ctrl-C never leaves a half-written figure, result or
notebook.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

__all__ = ["atomic_path"]


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path that replaces ``path`` when the block succeeds.

    Parameters
    ----------
    path : str or pathlib.Path
        Final destination. Its directory is created if needed.

    Yields
    ------
    pathlib.Path
        A fresh temporary file in the same directory (so the rename is atomic). It is
        removed if the block raises.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(
        prefix=f".{path.stem}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(fd)
    tmp = Path(tmp)
    try:
        yield tmp
        # mkstemp makes the file private; give it the permissions of any new file.
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o666 & ~umask)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
