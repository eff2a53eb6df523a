"""A disk cache for nutpie's compiled models, so that a model is compiled once per machine.

nutpie turns a PyMC model into two C callbacks (the log density with its gradient, and the
map from the sampler's unconstrained vector to every model variable) built by Numba. PyTensor
already caches the model's own functions on disk, but nutpie's callbacks that wrap them are
typed, lowered and optimised again in every process: 2-4 s per model, plus about 5 s of
Numba start-up the first time in a process, against a fraction of a second of sampling.

Numba can cache the callbacks (``cache=True``), but its cache key includes a pickle of every
object the callback's closure captures, and the captured dispatchers pickle with a random
identifier, so the key never matches in another process (numba issue 6264). Here the key is
built instead from what determines the compiled code:

- PyTensor's own cache key for each wrapped PyTensor function (which PyTensor guarantees
  identifies the function; a function PyTensor cannot cache, e.g. one with large constants
  baked into its graph, makes the model uncacheable here too);
- the byte code of nutpie's wrapper functions, and the versions of nutpie, Numba and PyTensor;
- every other captured value: array dtypes, shapes and contents, record layouts, integers.

Anything else in the closure makes the model uncacheable, and it is compiled as nutpie
compiles it. Each key gets its own index file, so notebooks compiling in parallel never write
to the same entry with different contents. The cache lives in ``$POOLING_CACHE_DIR``, by
default ``~/.cache/pooling/numba`` (beside PyTensor's own compile cache, outside the
repository); deleting it is always safe.

The models' digamma comes from :mod:`pooling.digamma` (a SciPy call could not be cached).
This module reaches into Numba's, PyTensor's and nutpie's internals, so only the runner
imports it, through :mod:`pooling.runner.speedups`, which falls back to nutpie's own compile
when :func:`check` finds those internals changed.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
import threading
import types
import weakref
from pathlib import Path

import numpy as np
from numba.core import caching, ccallback
from numba.core.dispatcher import Dispatcher
from numba.core.extending import _Intrinsic

import pooling.digamma  # noqa: F401  (makes the models' digamma cacheable)

__all__ = ["CACHE_ENV", "Uncacheable", "cache_dir", "cache_hits", "check", "compile_pymc_model",
           "fingerprint", "is_used", "use_in_this_process"]  # fmt: skip

#: Environment variable that moves the cache.
CACHE_ENV = "POOLING_CACHE_DIR"
#: Modules whose functions may be identified by their byte code (their globals are fixed by
#: the installed version, which is part of every key).
_LIBRARY_MODULES = ("nutpie", "numba")


def cache_dir() -> Path:
    """Directory of the compiled callbacks.

    Returns
    -------
    pathlib.Path
        ``$POOLING_CACHE_DIR`` when set, otherwise ``$XDG_CACHE_HOME/pooling/numba`` (by
        default ``~/.cache/pooling/numba``).
    """
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "pooling" / "numba"


class Uncacheable(Exception):
    """A captured object whose effect on the compiled code cannot be identified."""


def _code_bytes(code: types.CodeType) -> bytes:
    """Byte code, constants and names of a code object, nested code objects included.

    ``repr`` of a code object contains its memory address, so nested ones are expanded.
    """
    consts = b"|".join(
        _code_bytes(c) if isinstance(c, types.CodeType) else repr(c).encode()
        for c in code.co_consts
    )
    return b"code:" + code.co_code + consts + repr(code.co_names).encode()


def fingerprint(obj, _seen: set[int] | None = None) -> bytes:
    """Bytes that identify what Numba compiles when a function captures ``obj``.

    Parameters
    ----------
    obj : object
        A value captured by a closure: a dispatcher, a function, an array, a dtype, a tuple,
        a scalar or a module.

    Returns
    -------
    bytes
        The same bytes in every process for the same model.

    Raises
    ------
    Uncacheable
        For any object the key cannot vouch for.
    """
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS

    seen = set() if _seen is None else _seen
    if id(obj) in seen:  # recursive closures
        return b"<seen>"
    if isinstance(obj, Dispatcher):
        key = CACHED_SRC_FUNCTIONS.get(obj.py_func)
        if key is not None:
            return b"pytensor:" + key.encode()
        if not obj.py_func.__module__.startswith(_LIBRARY_MODULES):
            raise Uncacheable(f"{obj.py_func.__module__}.{obj.py_func.__qualname__}")
        seen.add(id(obj))
        options = repr(sorted(obj.targetoptions.items())).encode()
        return b"dispatcher:" + fingerprint(obj.py_func, seen) + options
    if isinstance(obj, _Intrinsic):
        return b"intrinsic:" + fingerprint(obj._defn, seen)
    if isinstance(obj, types.FunctionType):
        if not obj.__module__.startswith(_LIBRARY_MODULES):
            raise Uncacheable(f"{obj.__module__}.{obj.__qualname__}")
        seen.add(id(obj))
        cells = [fingerprint(cell.cell_contents, seen) for cell in obj.__closure__ or ()]
        name = f"{obj.__module__}.{obj.__qualname__}".encode()
        return b"function:" + name + _code_bytes(obj.__code__) + b"(" + b",".join(cells) + b")"
    if isinstance(obj, types.ModuleType):
        return b"module:" + obj.__name__.encode()
    if isinstance(obj, np.ndarray):
        return b"array:" + obj.dtype.str.encode() + repr(obj.shape).encode() + obj.tobytes()
    if isinstance(obj, np.dtype):
        return b"dtype:" + repr(_positional(obj.descr)).encode()
    if isinstance(obj, tuple):
        return b"tuple(" + b",".join(fingerprint(item, seen) for item in obj) + b")"
    if isinstance(obj, (bool, int, float, str, bytes, type(None), np.number)):
        return b"value:" + type(obj).__name__.encode() + repr(obj).encode()
    raise Uncacheable(type(obj).__name__)


def _positional(descr):
    """A record layout with its field names replaced by their positions.

    nutpie 0.16.11 names the fields of its shared-data records with random identifiers, new in
    every process; the compiled code reaches fields by offset, so only the layout matters.
    """
    if isinstance(descr, str):
        return descr
    return [(f"f{i}", _positional(kind), *rest) for i, (_, kind, *rest) in enumerate(descr)]


#: Callback Python functions being compiled under a key, for the locator below.
_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


class _KeyLocator(caching._SourceFileBackedLocatorMixin, caching._CacheLocator):
    """Puts a keyed callback's cache in :func:`cache_dir`, one index file per key.

    The index is still invalidated when nutpie's source file changes (the mixin's stamp).
    """

    def __init__(self, py_func, py_file, key: str):
        self._py_file = py_file
        self._lineno = py_func.__code__.co_firstlineno
        self._key = key
        self._path = cache_dir()

    def ensure_cache_path(self):
        self._path.mkdir(parents=True, exist_ok=True)

    def get_cache_path(self):
        return str(self._path)

    def get_disambiguator(self):
        return self._key[:32]

    @classmethod
    def from_function(cls, py_func, py_file):
        key = _KEYS.get(py_func)
        return None if key is None else cls(py_func, py_file, key)


if _KeyLocator not in caching.CacheImpl._locator_classes:
    caching.CacheImpl._locator_classes.insert(0, _KeyLocator)


#: Whether this process has said that it dropped a broken cache entry.
_told = False


class _KeyedCache(caching.FunctionCache):
    """Numba's function cache with the closure pickle replaced by a stable key."""

    def __init__(self, py_func, key: str):
        _KEYS[py_func] = key
        super().__init__(py_func)
        self._key = key

    def _index_key(self, sig, codegen):
        code = hashlib.sha256(self._py_func.__code__.co_code).hexdigest()
        return (sig, codegen.magic_tuple(), (code, self._key))

    def load_overload(self, sig, target_context):
        """The cached callback, or ``None``: an entry that cannot be read is dropped.

        Numba writes each file whole (a temporary file, then a rename), but a file broken
        otherwise (a full disk, a crash of the machine, another program) would stop every
        run that loads it; here it is compiled again instead, with one line saying so.
        """
        global _told
        try:
            return super().load_overload(sig, target_context)
        except Exception as error:  # any unreadable entry: pickle, EOF, OS or LLVM errors
            Path(self._cache_file._index_path).unlink(missing_ok=True)
            if not _told:  # one line per process, however many entries were broken
                print(f"note: dropped a broken entry of the compile cache in {cache_dir()} "
                      f"({type(error).__name__}); compiling again", file=sys.stderr)  # fmt: skip
                _told = True
            return None


def _versions() -> bytes:
    import numba
    import nutpie
    import pytensor

    return repr((numba.__version__, nutpie.__version__, pytensor.__version__)).encode()


_patch_lock = threading.Lock()


@contextlib.contextmanager
def _keyed_callbacks():
    """While active, nutpie's callbacks compiled with ``cache=True`` use :class:`_KeyedCache`.

    Other callbacks asking for a cache get Numba's usual one; a nutpie callback that cannot be
    keyed is compiled without a cache.
    """
    original = ccallback.CFunc.enable_caching

    def enable_caching(cfunc):
        if not cfunc._pyfunc.__module__.startswith("nutpie"):
            return original(cfunc)
        try:
            digest = hashlib.sha256(_versions() + fingerprint(cfunc._pyfunc)).hexdigest()
        except Uncacheable:
            return None
        cfunc._cache = _KeyedCache(cfunc._pyfunc, digest)
        return None

    with _patch_lock:
        ccallback.CFunc.enable_caching = enable_caching
        try:
            yield
        finally:
            ccallback.CFunc.enable_caching = original


def compile_pymc_model(model, **kwargs):
    """``nutpie.compile_pymc_model`` with the callbacks taken from, or put in, the disk cache.

    Parameters
    ----------
    model : pymc.Model
        The model; data that is to change between runs should be ``pm.Data`` (a model with
        large constant arrays in its graph is compiled without the cache).
    **kwargs
        Passed on to ``nutpie.compile_pymc_model``.

    Returns
    -------
    nutpie.compile_pymc.CompiledPyMCModel
        The compiled model, exactly as nutpie would build it.
    """
    import nutpie

    own = _NUTPIE_OWN or nutpie.compile_pymc_model
    with _keyed_callbacks():
        return own(model, cache=True, **kwargs)


#: nutpie's own ``compile_pymc_model``, once :func:`use_in_this_process` has replaced it.
_NUTPIE_OWN = None


def check() -> None:
    """Raise if an internal of Numba, PyTensor or nutpie that this module uses has changed.

    Raises
    ------
    AttributeError or ImportError
        Naming the missing piece (e.g. after a library upgrade).
    """
    from pytensor.link.numba.cache import CACHED_SRC_FUNCTIONS  # noqa: F401

    for owner, name in ((ccallback.CFunc, "enable_caching"), (caching.FunctionCache, "_index_key"),
                        (caching.CacheImpl, "_locator_classes")):  # fmt: skip
        if not hasattr(owner, name):
            raise AttributeError(f"{owner.__module__}.{owner.__qualname__}.{name} is gone")
    if _KeyLocator not in caching.CacheImpl._locator_classes:
        raise AttributeError("numba's cache no longer takes this module's cache locator")


def use_in_this_process() -> bool:
    """Compile this process's models through the disk cache, if it fits the libraries.

    ``nutpie.compile_pymc_model`` is replaced by :func:`compile_pymc_model` in this process,
    so that every compile goes through the cache: ``pm.sample``'s in the notebooks' cells as
    well as :class:`pooling.fits.CompiledSampler`'s. The warm kernels' helper calls this before
    it forks, so every kernel inherits it.

    Returns
    -------
    bool
        Whether the cache is on (:func:`check` passed).
    """
    global _NUTPIE_OWN
    import nutpie

    try:
        check()
    except Exception:  # any failure means: do without
        return False
    if not is_used():
        _NUTPIE_OWN, nutpie.compile_pymc_model = nutpie.compile_pymc_model, compile_pymc_model
    return True


def is_used() -> bool:
    """Whether this process compiles nutpie's models through the cache."""
    import nutpie

    return nutpie.compile_pymc_model is compile_pymc_model


def cache_hits(compiled) -> int:
    """How many of a compiled model's two callbacks came from the disk cache (0, 1 or 2)."""
    return compiled.compiled_logp_func._cache_hits + compiled.compiled_expand_func._cache_hits
