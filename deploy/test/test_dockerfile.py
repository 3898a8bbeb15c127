"""The Dockerfile and .dockerignore, checked without a Docker engine: hadolint, the structure that
the issue asks for, the build context, the binary's libraries against the final base image, and the
final image's ENTRYPOINT + CMD and HEALTHCHECK commands run against the binary."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

from conftest import ROOT, chat, free_port, http, tool, wait_ready

DOCKERFILE = ROOT / "Dockerfile"
BINARY_IN_IMAGE = "/usr/local/bin/aimock"
BUSYBOX_IN_IMAGE = "/usr/local/bin/busybox"
# What gcr.io/distroless/cc-debian12 holds: glibc's libraries, libgcc_s and the loader.
DISTROLESS_CC_LIBS = {
    "linux-vdso.so.1", "libc.so.6", "libm.so.6", "libgcc_s.so.1", "libpthread.so.0", "libdl.so.2",
    "librt.so.1", "libutil.so.1", "ld-linux-x86-64.so.2",
}


def stages() -> list[list[dict]]:
    """The Dockerfile's instructions, split into build stages (each starts with its FROM)."""
    parsed = DockerfileParser(path=str(DOCKERFILE))
    out: list[list[dict]] = []
    for ins in parsed.structure:
        if ins["instruction"] == "FROM":
            out.append([])
        if out:
            out[-1].append(ins)
    return out


def only(stage: list[dict], instruction: str) -> dict:
    found = [i for i in stage if i["instruction"] == instruction]
    assert len(found) == 1, f"expected one {instruction} in the final stage, found {len(found)}"
    return found[0]


def exec_form(ins: dict) -> list[str]:
    value = ins["value"]
    if ins["instruction"] == "HEALTHCHECK":
        value = value[value.index("CMD") + 3 :]
    argv = json.loads(value)  # exec form: a JSON array, so no shell is needed
    assert isinstance(argv, list) and all(isinstance(a, str) for a in argv)
    return argv


def test_hadolint_passes():
    result = subprocess.run([tool("HADOLINT"), str(DOCKERFILE)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def test_multi_stage_rust_build_then_distroless():
    builder, *_, final = stages()
    assert len(stages()) >= 2
    assert re.match(r"rust:\S+ AS builder$", builder[0]["value"], re.I), builder[0]["value"]
    runs = " ".join(i["value"] for i in builder if i["instruction"] == "RUN")
    assert re.search(r"cargo build --release --locked\b", runs), runs
    assert final[0]["value"].startswith(("gcr.io/distroless/cc", "gcr.io/distroless/static", "scratch")), final[0]
    copies = [i["value"] for i in final if i["instruction"] == "COPY"]
    assert f"--from=builder /usr/local/bin/aimock {BINARY_IN_IMAGE}" in copies
    assert "examples/fixtures /fixtures" in copies


def test_final_stage_user_port_healthcheck_entrypoint():
    final = stages()[-1]
    user = only(final, "USER")["value"]
    uid = user.split(":")[0]
    assert uid.isdigit() and int(uid) != 0, f"USER {user}: want a numeric non-root uid (runAsNonRoot checks it)"
    assert "4010" in only(final, "EXPOSE")["value"].split()
    health = exec_form(only(final, "HEALTHCHECK"))
    assert health[0] == BUSYBOX_IN_IMAGE and "http://127.0.0.1:4010/health" in health
    argv = exec_form(only(final, "ENTRYPOINT")) + exec_form(only(final, "CMD"))
    assert argv[0] == BINARY_IN_IMAGE
    assert argv[argv.index("--host") + 1] == "0.0.0.0"
    assert argv[argv.index("--fixtures") + 1] == "/fixtures"
    # `docker run IMAGE --config ...` replaces CMD only: the host must stay in ENTRYPOINT.
    assert "--host" in exec_form(only(final, "ENTRYPOINT"))


def test_binary_needs_only_libraries_the_base_image_has(aimock_bin):
    out = subprocess.run(["ldd", aimock_bin], capture_output=True, text=True)
    if "not a dynamic executable" in out.stdout + out.stderr:
        return
    assert out.returncode == 0, out.stderr
    libs = {line.split()[0].rsplit("/", 1)[-1] for line in out.stdout.splitlines() if line.strip()}
    assert libs <= DISTROLESS_CC_LIBS, f"not in distroless/cc: {sorted(libs - DISTROLESS_CC_LIBS)}"


# .dockerignore: Docker's rules (the last matching pattern wins; '!' re-includes; a pattern that
# matches a directory excludes what is under it).
def ignore_rules() -> list[tuple[bool, re.Pattern]]:
    rules = []
    for line in (ROOT / ".dockerignore").read_text().splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        pat = line[1:] if negate else line
        pat = pat.strip().lstrip("/").rstrip("/")
        rx = ""
        i = 0
        while i < len(pat):
            if pat.startswith("**/", i):
                rx += "(?:.*/)?"
                i += 3
            elif pat.startswith("**", i):
                rx += ".*"
                i += 2
            elif pat[i] == "*":
                rx += "[^/]*"
                i += 1
            elif pat[i] == "?":
                rx += "[^/]"
                i += 1
            else:
                rx += re.escape(pat[i])
                i += 1
        rules.append((negate, re.compile(rx + "$")))
    return rules


def in_context(path: str, rules) -> bool:
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    excluded = False
    for negate, rx in rules:
        if any(rx.match(p) for p in prefixes):
            excluded = not negate
    return not excluded


def test_dockerignore_keeps_every_copy_source_and_drops_the_rest():
    rules = ignore_rules()
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    sources = []
    for stage in stages():
        for ins in stage:
            if ins["instruction"] == "COPY" and not ins["value"].startswith("--from"):
                sources += ins["value"].split()[:-1]
    assert sources, "no COPY from the build context"
    for src in sources:
        files = [f for f in tracked if f == src or f.startswith(src.rstrip("/") + "/")]
        assert files, f"COPY source {src} is not in the repository"
        dropped = [f for f in files if not in_context(f, rules)]
        assert not dropped, f".dockerignore drops {dropped[:5]} of COPY {src}"
    # `cargo build --locked` needs every workspace member: a new member must be copied too.
    workspace = tomllib.loads((ROOT / "Cargo.toml").read_text())["workspace"]
    members = [str(p.relative_to(ROOT)) for m in workspace["members"] for p in sorted(ROOT.glob(m))]
    assert members
    for member in members:
        manifest = f"{member}/Cargo.toml"
        assert in_context(manifest, rules), f".dockerignore drops workspace member {manifest}"
        assert any(member == s or member.startswith(s.rstrip("/") + "/") for s in sources), (
            f"the Dockerfile copies no source of workspace member {member}"
        )
    assert in_context("Cargo.lock", rules) and "Cargo.lock" in sources
    for junk in ("target/release/aimock", ".git/HEAD", "crates/aimock/target/x", "interop/python/conftest.py", "README.md"):
        assert not in_context(junk, rules), f"{junk} would be sent to the Docker build"


def test_the_build_context_resolves_with_locked(tmp_path):
    """The builder stage's `cargo build --locked`, up to resolution: in a copy of what the Docker
    build context holds (the tracked files .dockerignore keeps), the workspace loads and
    Cargo.lock needs no change."""
    rules = ignore_rules()
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    ctx = tmp_path / "context"
    for f in tracked:
        if in_context(f, rules) and (ROOT / f).is_file():
            (ctx / f).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / f, ctx / f)
    cmd = ["cargo", "metadata", "--locked", "--format-version", "1"]
    result = subprocess.run([*cmd, "--offline"], cwd=ctx, capture_output=True, text=True)
    if result.returncode != 0 and "offline" in result.stderr:
        result = subprocess.run(cmd, cwd=ctx, capture_output=True, text=True)  # nothing cached yet
    assert result.returncode == 0, result.stderr
    packages = {p["name"] for p in json.loads(result.stdout)["packages"]}
    assert "aimock-cli" in packages


def image_argv(aimock_bin: str, port: int, extra: list[str] | None = None) -> list[str]:
    """The final image's ENTRYPOINT + CMD (or + extra, as `docker run IMAGE extra...` gives), with
    the image's paths mapped to this checkout, on a loopback port."""
    final = stages()[-1]
    entry = exec_form(only(final, "ENTRYPOINT"))
    args = entry + (extra if extra is not None else exec_form(only(final, "CMD")))
    mapped = []
    for a in args:
        a = {BINARY_IN_IMAGE: aimock_bin, "/fixtures": str(ROOT / "examples/fixtures")}.get(a, a)
        mapped.append("127.0.0.1" if a == "0.0.0.0" else a)  # tests listen on loopback only
    return mapped + ["--port", str(port)]


def healthcheck_argv(port: int) -> list[str]:
    argv = exec_form(only(stages()[-1], "HEALTHCHECK"))
    return [tool("BUSYBOX") if a == BUSYBOX_IN_IMAGE else a.replace(":4010/", f":{port}/") for a in argv]


def test_image_command_serves_the_bundled_fixtures_and_healthcheck_follows_it(aimock_bin, servers, tmp_path):
    port = free_port()
    server = servers(image_argv(aimock_bin, port), cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, server.proc)
    assert chat(base, "hello")["content"] == "Hello from aimock! How can I help?"
    check = subprocess.run(healthcheck_argv(port), capture_output=True, text=True, timeout=10)
    assert check.returncode == 0, check.stderr
    server.stop()
    check = subprocess.run(healthcheck_argv(port), capture_output=True, text=True, timeout=10)
    assert check.returncode != 0, "the health check passed with the server stopped"


def test_image_accepts_config_in_place_of_the_default_fixtures(aimock_bin, servers, tmp_path):
    # docker run IMAGE --config /work/aimock.json (examples/aimock.json names its fixtures relatively)
    work = tmp_path / "work"
    shutil.copytree(ROOT / "examples", work)
    port = free_port()
    server = servers(image_argv(aimock_bin, port, ["--config", str(work / "aimock.json")]), cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    wait_ready(base, server.proc)
    assert chat(base, "hello")["content"] == "Hello from aimock! How can I help?"
    status, _, body = http(
        "POST",
        f"{base}/mcp",
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        headers={"accept": "application/json, text/event-stream"},
    )
    assert status == 200 and body["result"]["serverInfo"]["name"] == "example-mcp", body
