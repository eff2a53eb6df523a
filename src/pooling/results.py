"""Results that one notebook saves and another reads: ``<results dir>/<stem>.nc``.

Fits are saved as ``xarray.DataTree`` (what ``pm.sample`` returns), tables as
``xarray.Dataset``; the comparison notebook reads them instead of refitting. The table an
analyst takes away is a CSV (:func:`save_csv`).
"""

from __future__ import annotations

from pathlib import Path

from pooling.files import atomic_path
from pooling.paths import results_dir

__all__ = ["load_idata", "load_table", "result_path", "save_csv", "save_idata"]


def result_path(stem: str) -> Path:
    """Where the result of notebook ``stem`` lives: ``<results dir>/<stem>.nc``.

    Parameters
    ----------
    stem : str
        File stem, usually the notebook stem.

    Returns
    -------
    pathlib.Path
    """
    return results_dir() / f"{stem}.nc"


def load_idata(stem: str):
    """Load the fit (a DataTree) that another notebook saved.

    Parameters
    ----------
    stem : str
        The saving notebook's stem, e.g. ``"01_no_pooling"``.

    Returns
    -------
    xarray.DataTree
        Read into memory, so that the file is closed again.

    Raises
    ------
    FileNotFoundError
        One line naming the missing file and saying to run ``make``.
    """
    import xarray as xr

    return xr.load_datatree(_existing_result(stem))


def load_table(stem: str):
    """Load a table (an ``xarray.Dataset``) that another notebook saved with :func:`save_idata`.

    Parameters
    ----------
    stem : str
        File stem, e.g. ``"01_no_pooling_refits"``.

    Returns
    -------
    pandas.DataFrame

    Raises
    ------
    FileNotFoundError
        One line naming the missing file and saying to run ``make``.
    """
    import xarray as xr

    return xr.load_dataset(_existing_result(stem)).to_dataframe()


def _existing_result(stem: str) -> Path:
    path = result_path(stem)
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found: run `make` first to fit the models")
    return path


def save_idata(idata, stem: str) -> Path:
    """Save a fit or a table as ``<results dir>/<stem>.nc``.

    Parameters
    ----------
    idata : xarray.DataTree or xarray.Dataset
        The fit (or table of results) to save.
    stem : str
        File stem, usually the notebook stem.

    Returns
    -------
    pathlib.Path
        Where the file was written.
    """
    path = result_path(stem)
    with atomic_path(path) as tmp:
        idata.to_netcdf(tmp)
    return path


def save_csv(table, stem: str, directory: Path | None = None) -> Path:
    """Save a table for people and other programs as ``<results dir>/<stem>.csv``.

    Parameters
    ----------
    table : pandas.DataFrame
        Written without its index (name the columns it needs), numbers to 6 significant
        digits, so that last-bit differences between machines do not show.
    stem : str
        File stem, e.g. ``"estimates"``.
    directory : pathlib.Path, optional
        Where to write it; default the results directory.

    Returns
    -------
    pathlib.Path
        Where the file was written.
    """
    path = Path(directory or results_dir()) / f"{stem}.csv"
    with atomic_path(path) as tmp:
        table.to_csv(tmp, index=False, float_format="%.6g")
    return path
