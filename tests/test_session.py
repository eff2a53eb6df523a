"""Session set-up: the house style, and one line when a kernel lacks the portable settings."""

from __future__ import annotations

import matplotlib as mpl

from pooling import portable, session


def test_setup_applies_the_house_style_quietly(monkeypatch, capsys):
    for name, value in portable.ENV.items():
        monkeypatch.setenv(name, value)
    session.setup()
    assert mpl.rcParams["svg.hashsalt"] == "pooling" and mpl.rcParams["figure.dpi"] == 100
    assert capsys.readouterr().out == ""


def test_a_kernel_without_the_settings_says_so(monkeypatch, capsys):
    monkeypatch.delenv("NUMBA_CPU_NAME", raising=False)
    session.setup()
    assert "lacks the portable settings" in capsys.readouterr().out
    monkeypatch.setenv("NUMBA_CPU_NAME", "generic")
    for name, value in portable.ENV.items():
        monkeypatch.setenv(name, value)
    session.setup()
    assert capsys.readouterr().out == ""
