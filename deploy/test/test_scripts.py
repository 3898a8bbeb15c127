"""shellcheck over the action's scripts and scripts/test-deploy."""

from __future__ import annotations

import subprocess

from conftest import ROOT, tool

SCRIPTS = ["deploy/action/install.sh", "deploy/action/start.sh", "scripts/test-deploy"]


def test_shellcheck():
    result = subprocess.run([tool("SHELLCHECK"), *SCRIPTS], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
