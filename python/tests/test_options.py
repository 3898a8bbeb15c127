"""The plugin's command-line options and environment, in child pytest runs (options are read
once per session): --aimock-api-key, --aimock-bin and AIMOCK_BIN, an ambient AIMOCK_API_KEYS,
and aimock-pytest's --aimock-node/--aimock-version, accepted so that existing addopts keep
working. Two child runs cover them all (each costs a pytest start with the SDK imports)."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

SCRIPTS = Path(sysconfig.get_path("scripts"))

KEYED_TEST = '''
import openai, pytest

def test_keyed(aimock):
    aimock.on_message("hello", {"content": "keyed"})   # the control calls carry the key
    base = f"{aimock.url}/v1"
    wrong = openai.OpenAI(base_url=base, api_key="wrong-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        wrong.chat.completions.create(model="m", messages=[{"role": "user", "content": "hello"}])
    good = openai.OpenAI(base_url=base, api_key="the-key", max_retries=0)
    r = good.chat.completions.create(model="m", messages=[{"role": "user", "content": "hello"}])
    assert r.choices[0].message.content == "keyed"
'''

UNKEYED_TEST = '''
import openai

def test_unkeyed(aimock):
    aimock.on_message("hello", {"content": "open"})
    c = openai.OpenAI(base_url=f"{aimock.url}/v1", api_key="anything", max_retries=0)
    r = c.chat.completions.create(model="m", messages=[{"role": "user", "content": "hello"}])
    assert r.choices[0].message.content == "open"
'''

BIN_TEST = '''
import os

def test_bin(aimock_session):
    assert aimock_session.get_journal() == []
    assert "--port 0" in open(os.environ["MARKER"]).read()
'''


def wrapper(tmp_path: Path, name: str) -> tuple[Path, Path]:
    """A script that notes its arguments in a marker file, then runs the wheel's binary."""
    marker = tmp_path / f"{name}.marker"
    script = tmp_path / name
    script.write_text(f'#!/bin/sh\necho "$@" > "{marker}"\nexec "{SCRIPTS / "aimock"}" "$@"\n')
    script.chmod(0o755)
    return script, marker


def run_pytest(tmp_path: Path, files: dict[str, str], *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    for name, source in files.items():
        (tmp_path / name).write_text(source, encoding="utf-8")
    child_env = {k: v for k, v in os.environ.items() if k not in ("AIMOCK_BIN", "AIMOCK_API_KEYS")}
    child_env.update(env)
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-rfE", "-p", "no:cacheprovider", *args, *files],
        cwd=tmp_path,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=90,
    )


def test_the_options(tmp_path: Path) -> None:
    script, marker = wrapper(tmp_path, "opt-aimock")
    r = run_pytest(
        tmp_path,
        {"test_keyed.py": KEYED_TEST, "test_bin.py": BIN_TEST},
        "--aimock-api-key",
        "the-key",
        "--aimock-bin",
        str(script),
        "--aimock-node",
        "/usr/bin/node",
        "--aimock-version",
        "1.38.0",
        env={"MARKER": str(marker)},
    )
    assert r.returncode == 0, r.stdout + r.stderr
    assert "2 passed" in r.stdout, r.stdout
    # --aimock-bin ran the wrapper, which ran the server with the key in its environment.
    assert "--port 0" in marker.read_text()


def test_the_environment_and_no_options(tmp_path: Path) -> None:
    script, marker = wrapper(tmp_path, "env-aimock")
    r = run_pytest(
        tmp_path,
        {"test_keyed.py": KEYED_TEST, "test_unkeyed.py": UNKEYED_TEST, "test_bin.py": BIN_TEST},
        env={"MARKER": str(marker), "AIMOCK_BIN": str(script), "AIMOCK_API_KEYS": "ambient-shell-key"},
    )
    # AIMOCK_BIN chose the binary; the ambient key did not key the server, so the unkeyed test
    # passes and the keyed one fails: its "wrong key" request is answered (no --aimock-api-key).
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 failed, 2 passed" in r.stdout, r.stdout
    assert "FAILED test_keyed.py::test_keyed" in r.stdout, r.stdout
    assert "AuthenticationError" in r.stdout, r.stdout


def test_the_options_are_in_pytests_help() -> None:
    h = subprocess.run([sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True, timeout=60)
    assert h.returncode == 0
    for option in ("--aimock-bin", "--aimock-api-key", "--aimock-node", "--aimock-version"):
        assert option in h.stdout, option
