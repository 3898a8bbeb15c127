"""The plugin's command-line options, each in a pytest run of its own (a subprocess), since
options are read once per session: --aimock-api-key, --aimock-bin, and aimock-pytest's
--aimock-node/--aimock-version, which are accepted so that existing addopts keep working."""

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
    aimock.on_message("hello", {"content": "keyed"})   # control calls carry the key
    base = f"{aimock.url}/v1"
    bare = openai.OpenAI(base_url=base, api_key="wrong-key", max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        bare.chat.completions.create(model="m", messages=[{"role": "user", "content": "hello"}])
    good = openai.OpenAI(base_url=base, api_key="the-key", max_retries=0)
    r = good.chat.completions.create(model="m", messages=[{"role": "user", "content": "hello"}])
    assert r.choices[0].message.content == "keyed"
'''

UNKEYED_TEST = '''
import openai

def test_unkeyed(aimock):
    aimock.on_message("hello", {"content": "open"})
    c = openai.OpenAI(base_url=f"{aimock.url}/v1", api_key="anything", max_retries=0)
    assert c.chat.completions.create(model="m", messages=[{"role": "user", "content": "hello"}]).choices[0].message.content == "open"
'''

BIN_TEST = '''
import os

def test_bin(aimock):
    assert aimock.get_journal() == []
    assert open(os.environ["MARKER"]).read().startswith("started")
'''


def run_pytest(tmp_path: Path, source: str, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    test = tmp_path / "test_child.py"
    test.write_text(source, encoding="utf-8")
    child_env = {k: v for k, v in os.environ.items() if k != "AIMOCK_BIN"}
    child_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args, str(test)],
        cwd=tmp_path,
        env=child_env,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_aimock_api_key_keys_the_server_and_the_control_calls(tmp_path: Path) -> None:
    r = run_pytest(tmp_path, KEYED_TEST, "--aimock-api-key", "the-key")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "1 passed" in r.stdout


def test_without_the_option_the_key_fails_the_child_test(tmp_path: Path) -> None:
    # The same test without the option: the server is open, so the "wrong key" request succeeds
    # and the test fails, proving the option is what keyed the server above.
    r = run_pytest(tmp_path, KEYED_TEST)
    assert r.returncode == 1, r.stdout + r.stderr
    assert "1 failed" in r.stdout


def test_an_ambient_aimock_api_keys_does_not_key_the_server(tmp_path: Path) -> None:
    r = run_pytest(tmp_path, UNKEYED_TEST, env={"AIMOCK_API_KEYS": "ambient-shell-key"})
    assert r.returncode == 0, r.stdout + r.stderr


def test_aimock_bin_chooses_the_binary(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    wrapper = tmp_path / "wrapped-aimock"
    wrapper.write_text(f'#!/bin/sh\necho started "$@" > "{marker}"\nexec "{SCRIPTS / "aimock"}" "$@"\n')
    wrapper.chmod(0o755)
    r = run_pytest(tmp_path, BIN_TEST, "--aimock-bin", str(wrapper), env={"MARKER": str(marker)})
    assert r.returncode == 0, r.stdout + r.stderr
    assert "--port 0" in marker.read_text()


def test_aimock_bin_env_var_chooses_the_binary(tmp_path: Path) -> None:
    marker = tmp_path / "marker"
    wrapper = tmp_path / "env-aimock"
    wrapper.write_text(f'#!/bin/sh\necho started > "{marker}"\nexec "{SCRIPTS / "aimock"}" "$@"\n')
    wrapper.chmod(0o755)
    r = run_pytest(tmp_path, BIN_TEST, env={"MARKER": str(marker), "AIMOCK_BIN": str(wrapper)})
    assert r.returncode == 0, r.stdout + r.stderr


def test_aimock_pytests_options_are_accepted(tmp_path: Path) -> None:
    r = run_pytest(tmp_path, UNKEYED_TEST, "--aimock-node", "/usr/bin/node", "--aimock-version", "1.38.0")
    assert r.returncode == 0, r.stdout + r.stderr
    h = subprocess.run([sys.executable, "-m", "pytest", "--help"], capture_output=True, text=True, timeout=60)
    assert "--aimock-bin" in h.stdout and "--aimock-api-key" in h.stdout
