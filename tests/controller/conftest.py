"""Fixtures of the controller tests (the harness is ctlharness.py).

Run:  bash scripts/setup.sh && .venv/bin/python -m pytest tests/controller
"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest

from tests.controller.ctlharness import Env, Tap, Veth, require_veth


@pytest.fixture
def env_factory(tmp_path):
    """env_factory(kind="fake"|"real", ports=(outside, inside), extra=..., keys=...,
    api_extra=...) -> Env (not started)."""
    envs = []
    dirs = []

    def make(kind="fake", **kw):
        n = len(envs)
        workdir = tmp_path / ("env%d" % n)
        workdir.mkdir()
        # Unix socket paths are limited to 107 bytes: a short directory of its own.
        run = Path(tempfile.mkdtemp(prefix="swctl", dir="/tmp"))
        dirs.append(run)
        e = Env(kind, workdir, run, **kw)
        envs.append(e)
        return e

    yield make
    for e in envs:
        e.close()
    for d in dirs:
        shutil.rmtree(d, ignore_errors=True)


@pytest.fixture
def veth_factory():
    """veth_factory() -> (outside Veth, inside Veth, outside Tap, inside Tap)."""
    made = []
    taps = []

    def make():
        require_veth()
        tag = "%04d%d" % (os.getpid() % 10000, len(made))
        o, i = Veth(tag, "o"), Veth(tag, "i")
        made.extend([o, i])
        to, ti = Tap(o.tap), Tap(i.tap)
        taps.extend([to, ti])
        return o, i, to, ti

    yield make
    for t in taps:
        t.close()
    for v in made:
        v.destroy()


@pytest.fixture(params=["fake", "real"])
def dpkind(request):
    return request.param
