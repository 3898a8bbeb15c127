"""action.yml, run the way GitHub's runner runs a composite action: each step's `env` and `run`
with `${{ inputs.* }}` (the caller's value, else the declared default), `${{ steps.*.outputs.* }}`
and $GITHUB_ACTION_PATH, under `bash --noprofile --norc -eo pipefail`, its $GITHUB_OUTPUT read
back. Any other expression fails the test, so the runner below cannot silently drift from
action.yml. The server is started from scratch directories against the binary."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import tarfile
import io
import json
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, chat, free_port, http, tool

ACTION = yaml.safe_load((ROOT / "action.yml").read_text())
EXPR = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")


@dataclass
class Run:
    rc: int
    outputs: dict[str, str]
    stdout: str
    stderr: str
    env_file: str
    pids: list[int] = field(default_factory=list)


def read_output_file(path: Path) -> dict[str, str]:
    out: dict[str, str] = {}
    lines = path.read_text().splitlines() if path.exists() else []
    i = 0
    while i < len(lines):
        line = lines[i]
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delim = line.split("<<", 1)
            value = []
            i += 1
            while lines[i] != delim:
                value.append(lines[i])
                i += 1
            out[name] = "\n".join(value)
        else:
            name, value = line.split("=", 1)
            out[name] = value
        i += 1
    return out


def run_action(inputs: dict[str, str], cwd: Path, env: dict[str, str] | None = None) -> Run:
    declared = ACTION["inputs"]
    unknown = set(inputs) - set(declared)
    assert not unknown, f"inputs not declared in action.yml: {unknown}"
    values = {k: str(v.get("default", "")) for k, v in declared.items()}
    values.update(inputs)
    steps_out: dict[str, dict[str, str]] = {}
    runner_temp = cwd.parent / f"{cwd.name}-runner-temp"
    runner_temp.mkdir(exist_ok=True)
    env_file = runner_temp / "github_env"
    env_file.touch()

    def expand(text: str) -> str:
        def one(m: re.Match) -> str:
            expr = m.group(1)
            if mm := re.fullmatch(r"inputs\.([\w-]+)", expr):
                return values[mm.group(1)]
            if mm := re.fullmatch(r"steps\.([\w-]+)\.outputs\.([\w-]+)", expr):
                return steps_out.get(mm.group(1), {}).get(mm.group(2), "")
            if expr == "github.action_path":
                return str(ROOT)
            pytest.fail(f"action.yml uses an expression this test does not model: {expr}")

        return EXPR.sub(one, text)

    assert ACTION["runs"]["using"] == "composite"
    stdout = stderr = ""
    rc = 0
    for i, step in enumerate(ACTION["runs"]["steps"]):
        assert step.get("shell") == "bash", step
        out_file = runner_temp / f"output-{i}"
        out_file.write_text("")
        step_env = {**os.environ, **(env or {})}
        step_env.update(
            GITHUB_ACTIONS="true",
            GITHUB_ACTION_PATH=str(ROOT),
            GITHUB_OUTPUT=str(out_file),
            GITHUB_ENV=str(env_file),
            RUNNER_TEMP=str(runner_temp),
        )
        step_env.update({k: expand(str(v)) for k, v in (step.get("env") or {}).items()})
        script = runner_temp / f"step-{i}.sh"
        script.write_text(expand(step["run"]))
        p = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", str(script)],
            cwd=cwd, env=step_env, capture_output=True, text=True, timeout=120,
        )
        stdout += p.stdout
        stderr += p.stderr
        if "id" in step:
            steps_out[step["id"]] = read_output_file(out_file)
        if p.returncode != 0:
            rc = p.returncode
            break
    outputs = {}
    if rc == 0:
        outputs = {k: expand(v["value"]) for k, v in ACTION["outputs"].items()}
    pids = [int(outputs["pid"])] if outputs.get("pid") else []
    return Run(rc, outputs, stdout, stderr, env_file.read_text(), pids)


@pytest.fixture
def started():
    runs: list[Run] = []
    yield runs
    for r in runs:
        for pid in r.pids:
            try:
                os.kill(pid, signal.SIGTERM)
            except ProcessLookupError:
                pass


@pytest.fixture
def scratch(tmp_path) -> Path:
    """A checkout-like working directory with ./fixtures."""
    work = tmp_path / "repo"
    work.mkdir()
    shutil.copytree(ROOT / "examples/fixtures", work / "fixtures")
    return work


def test_declared_inputs_and_defaults():
    defaults = {k: v.get("default") for k, v in ACTION["inputs"].items()}
    assert defaults["fixtures"] == "./fixtures"
    assert defaults["config"] == ""
    assert defaults["port"] == "4010"
    assert defaults["host"] == "127.0.0.1"
    assert defaults["version"] == "latest"
    assert defaults["args"] == ""
    assert defaults["wait-timeout"] == "30"
    assert defaults["package"] == "aimock-rs"
    assert set(ACTION["outputs"]) >= {"url"}


def test_default_path_serves_fixtures(aimock_bin, scratch, started):
    # Every input at its default (aimock's own action fails right here: inventory §25.1), but the
    # port: 4010 may be taken on a shared machine, and the binary: no npm package is published.
    port = free_port()
    r = run_action({"binary": aimock_bin, "port": str(port)}, scratch)
    started.append(r)
    assert r.rc == 0, r.stdout + r.stderr
    url = r.outputs["url"]
    assert url == f"http://127.0.0.1:{port}"
    status, _, body = http("GET", f"{url}/health")
    assert status == 200 and body["status"] == "ok"
    assert chat(url, "hello")["content"] == "Hello from aimock! How can I help?"
    assert f"AIMOCK_URL={url}" in r.env_file
    assert "--fixtures ./fixtures" in r.stdout and "--validate-on-load" in r.stdout
    assert Path(r.outputs["log"]).is_file()


def test_installs_the_npm_package_when_no_binary_is_given(aimock_bin, scratch, started, tmp_path):
    # A package laid out like aimock-rs (a bin named aimock), installed from its tarball into the
    # action's private prefix: npm's real install path, without the registry.
    pkg = tmp_path / "pkg"
    (pkg / "bin").mkdir(parents=True)
    (pkg / "package.json").write_text(json.dumps({"name": "aimock-rs", "version": "0.0.0-test", "bin": {"aimock": "bin/aimock"}}))
    launcher = pkg / "bin/aimock"
    launcher.write_text(f'#!/bin/sh\nexec "{aimock_bin}" "$@"\n')
    launcher.chmod(0o755)
    tgz = subprocess.run(["npm", "pack", "--silent", "--pack-destination", str(tmp_path)], cwd=pkg,
                         capture_output=True, text=True, check=True).stdout.strip().splitlines()[-1]
    port = free_port()
    r = run_action({"package": str(tmp_path / tgz), "port": str(port)}, scratch)
    started.append(r)
    assert r.rc == 0, r.stdout + r.stderr
    assert "node_modules/.bin/aimock" in r.stdout
    assert chat(r.outputs["url"], "hello")["content"] == "Hello from aimock! How can I help?"


def test_config_without_fixtures_dir(aimock_bin, tmp_path, started):
    work = tmp_path / "repo"
    shutil.copytree(ROOT / "examples", work / "mock")
    port = free_port()
    r = run_action({"binary": aimock_bin, "port": str(port), "config": "mock/aimock.json"}, work)
    started.append(r)
    assert r.rc == 0, r.stdout + r.stderr
    (command,) = [line for line in r.stdout.splitlines() if " --host " in line]
    assert "--config mock/aimock.json" in command and "--fixtures" not in command
    assert chat(r.outputs["url"], "hello")["content"] == "Hello from aimock! How can I help?"


def test_port_zero_and_extra_args(aimock_bin, scratch, started):
    r = run_action({"binary": aimock_bin, "port": "0", "args": "--strict\n--chunk-size 3"}, scratch)
    started.append(r)
    assert r.rc == 0, r.stdout + r.stderr
    url = r.outputs["url"]
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+", url) and not url.endswith(":0")
    status, _, _ = http("POST", f"{url}/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "zzz"}]})
    assert status == 503  # --strict took effect


def failure(r: Run, *needles: str) -> None:
    assert r.rc != 0, r.stdout + r.stderr
    assert "::error title=aimock::" in r.stderr
    for n in needles:
        assert n in r.stderr, r.stderr


def test_missing_fixtures_dir_fails_clearly(aimock_bin, tmp_path):
    work = tmp_path / "empty"
    work.mkdir()
    r = run_action({"binary": aimock_bin, "port": str(free_port())}, work)
    failure(r, "fixtures path './fixtures' not found")


def test_bad_fixture_fails_with_the_servers_reason(aimock_bin, scratch):
    (scratch / "fixtures/broken.json").write_text('{"fixtures": [{"match": {"userMessage": "x"}}]}')
    r = run_action({"binary": aimock_bin, "port": str(free_port())}, scratch)
    failure(r, "exited with status 1 before it answered /health", "broken.json")


def test_port_in_use_fails_clearly(aimock_bin, scratch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        port = s.getsockname()[1]
        r = run_action({"binary": aimock_bin, "port": str(port)}, scratch)
    failure(r, f"port {port} on 127.0.0.1 is already in use")


def test_a_server_that_never_answers_times_out(scratch, tmp_path):
    mute = tmp_path / "mute-aimock"
    mute.write_text('#!/bin/sh\n[ "$1" = --version ] && { echo "aimock 0.0.0"; exit 0; }\nexec sleep 30\n')
    mute.chmod(0o755)
    r = run_action({"binary": str(mute), "port": str(free_port()), "wait-timeout": "1"}, scratch)
    failure(r, "did not answer", "within 1s")


def test_bad_inputs_fail_clearly(aimock_bin, scratch, tmp_path):
    failure(run_action({"binary": str(tmp_path / "nope")}, scratch), "is not an executable file")
    failure(run_action({"binary": aimock_bin, "port": "http"}, scratch), "is not a port number")
    failure(run_action({"binary": aimock_bin, "config": "missing.json"}, scratch), "config file 'missing.json' not found")


def test_start_script_alone_has_the_same_defaults(aimock_bin, scratch, tmp_path):
    # deploy/action/start.sh outside Actions: only the binary and a port set; its own defaults
    # (./fixtures, 127.0.0.1, validation) must be the action's.
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("INPUT_", "GITHUB_"))}
    env.update(AIMOCK_BIN=aimock_bin, INPUT_PORT=str(port), TMPDIR=str(tmp_path))
    p = subprocess.run(["bash", str(ROOT / "deploy/action/start.sh")], cwd=scratch, env=env,
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    m = re.search(r"ready at (\S+)", p.stdout)
    pid = int(re.search(r"\(pid (\d+)\)", p.stdout).group(1))
    try:
        assert m and m.group(1) == f"http://127.0.0.1:{port}"
        (command,) = [line for line in p.stdout.splitlines() if " --host " in line]
        assert command.endswith(f"--host 127.0.0.1 --port {port} --fixtures ./fixtures --validate-on-load")
        assert chat(m.group(1), "hello")["content"] == "Hello from aimock! How can I help?"
    finally:
        os.kill(pid, signal.SIGTERM)


def test_action_yml_matches_the_action_metadata_schema():
    result = subprocess.run(
        [tool("CHECK_JSONSCHEMA"), "--builtin-schema", "vendor.github-actions", str(ROOT / "action.yml")],
        capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_false_starts_beside_a_broken_fixture(aimock_bin, scratch, started):
    (scratch / "fixtures/broken.json").write_text('{"fixtures": [{"match": {"userMessage": "x"}}]}')
    r = run_action({"binary": aimock_bin, "port": str(free_port()), "validate": "false"}, scratch)
    started.append(r)
    assert r.rc == 0, r.stdout + r.stderr
    assert "--validate-on-load" not in r.stdout
    assert chat(r.outputs["url"], "hello")["content"] == "Hello from aimock! How can I help?"
