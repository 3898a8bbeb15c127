"""The wheel as installed: the binary on PATH, the package from site-packages, the plugin loaded
through its pytest11 entry point, and the binary lookup (AIMOCK_BIN, the wheel's, PATH)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
from importlib import metadata
from pathlib import Path

import pytest

import aimock_rs
from aimock_rs import AIMockServer, find_binary

SCRIPTS = Path(sysconfig.get_path("scripts"))


def test_the_package_is_the_installed_wheel_not_the_source_tree() -> None:
    site = Path(sysconfig.get_path("purelib")).resolve()
    platlib = Path(sysconfig.get_path("platlib")).resolve()
    here = Path(aimock_rs.__file__).resolve()
    assert site in here.parents or platlib in here.parents, here
    dist = metadata.distribution("aimock-rs")
    assert dist.metadata["Name"] == "aimock-rs"
    assert dist.read_text("WHEEL") is not None
    tags = [line.split(": ", 1)[1] for line in dist.read_text("WHEEL").splitlines() if line.startswith("Tag: ")]
    assert len(tags) == 1, tags
    # The platform tag is the binary's: manylinux_2_<N> for the newest GLIBC_2.N it references.
    import platform
    import re

    binary = (SCRIPTS / "aimock").read_bytes()
    newest = max((int(a), int(b)) for a, b in re.findall(rb"GLIBC_(\d+)\.(\d+)", binary))
    assert tags[0] == f"py3-none-manylinux_{newest[0]}_{newest[1]}_{platform.machine()}", tags


def test_the_binary_is_on_path_and_runs() -> None:
    on_path = shutil.which("aimock", path=os.pathsep.join([str(SCRIPTS), os.environ.get("PATH", "")]))
    assert on_path is not None
    assert Path(on_path).resolve() == (SCRIPTS / "aimock").resolve()
    out = subprocess.run([on_path, "--version"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("aimock "), out.stdout


def test_python_dash_m_runs_the_binary() -> None:
    out = subprocess.run([sys.executable, "-m", "aimock_rs", "--help"], capture_output=True, text=True, timeout=10)
    assert out.returncode == 0, out.stderr
    assert "--fixtures" in out.stdout


def test_find_binary_prefers_aimock_bin_then_the_wheels_binary(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("AIMOCK_BIN", raising=False)
    assert find_binary().resolve() == (SCRIPTS / "aimock").resolve()
    fake = tmp_path / "my-aimock"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("AIMOCK_BIN", str(fake))
    assert find_binary() == fake
    monkeypatch.setenv("AIMOCK_BIN", str(tmp_path / "missing"))
    with pytest.raises(RuntimeError, match="AIMOCK_BIN"):
        find_binary()


def test_the_plugin_is_registered_by_its_entry_point(request: pytest.FixtureRequest) -> None:
    eps = metadata.entry_points(group="pytest11")
    ours = [ep for ep in eps if ep.value == "aimock_rs.plugin"]
    assert len(ours) == 1 and ours[0].name == "aimock"
    plugin = request.config.pluginmanager.get_plugin("aimock")
    assert plugin is not None and plugin.__name__ == "aimock_rs.plugin"


def test_a_binary_that_exits_at_start_is_a_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "aimock"
    bad.write_text("#!/bin/sh\necho 'boom: no such flag' >&2\nexit 3\n")
    bad.chmod(0o755)
    server = AIMockServer(binary=bad, startup_timeout=5)
    with pytest.raises(RuntimeError, match=r"exited with code 3.*boom"):
        server.start()
    with pytest.raises(RuntimeError, match="not been started"):
        _ = server.url


def test_the_server_as_a_context_manager_stops_its_process() -> None:
    with AIMockServer() as server:
        proc = server._proc
        assert proc is not None and proc.poll() is None
        assert server.url.startswith("http://127.0.0.1:")
    assert proc.poll() is not None


def test_a_binary_that_never_listens_times_out_and_is_stopped(tmp_path: Path) -> None:
    mute = tmp_path / "aimock"
    mute.write_text("#!/bin/sh\necho 'warming up'\nexec sleep 30\n")
    mute.chmod(0o755)
    server = AIMockServer(binary=mute, startup_timeout=1)
    with pytest.raises(RuntimeError, match=r"did not start within 1s: warming up"):
        server.start()
    assert server._proc is None  # stopped, not left running
