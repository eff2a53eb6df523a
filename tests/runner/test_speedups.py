"""The speed machinery's one switch: it says why it is off, and the plain way takes over."""

from __future__ import annotations

import pytest

from pooling.runner import compile_cache, kernels, speedups


def test_the_machinery_fits_the_locked_libraries(monkeypatch):
    monkeypatch.delenv(speedups.PLAIN_ENV, raising=False)
    assert speedups.install()


@pytest.mark.parametrize("module", [compile_cache, kernels])
def test_a_changed_internal_turns_it_off_with_the_reason(monkeypatch, module):
    monkeypatch.delenv(speedups.PLAIN_ENV, raising=False)

    def gone():
        raise AttributeError("numba.core.caching.CacheImpl._locator_classes is gone")

    monkeypatch.setattr(module, "check", gone)
    speed = speedups.install()
    assert not speed
    (line,) = speed.note().splitlines()
    assert "plain way" in line and "_locator_classes is gone" in line


def test_a_missing_internal_is_found_by_the_check(monkeypatch):
    from numba.core import ccallback

    monkeypatch.delattr(ccallback.CFunc, "enable_caching")
    with pytest.raises(AttributeError, match="enable_caching is gone"):
        compile_cache.check()


def test_the_plain_way_can_be_asked_for(monkeypatch):
    monkeypatch.setenv(speedups.PLAIN_ENV, "1")
    assert not speedups.install()


def test_in_a_kernel_the_switch_turns_the_cache_on_unless_plain(monkeypatch):
    import nutpie
    from nutpie.compile_pymc import compile_pymc_model as nutpies_own

    # nutpie's own compile, whatever an earlier test in this process switched on (restored after)
    monkeypatch.setattr(nutpie, "compile_pymc_model", nutpies_own)
    monkeypatch.setenv(speedups.PLAIN_ENV, "1")
    assert not speedups.in_kernel() and not compile_cache.is_used()
    monkeypatch.delenv(speedups.PLAIN_ENV)
    assert speedups.in_kernel() and compile_cache.is_used()
    assert nutpie.compile_pymc_model is compile_cache.compile_pymc_model
