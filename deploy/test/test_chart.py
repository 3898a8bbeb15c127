"""The Helm chart, rendered by the real Helm binary and validated with kubernetes-validate --strict
(every field known to the Kubernetes API schemas), for the default values and ci/*-values.yaml;
then the rendered fixture and config ConfigMaps and container args run against the binary."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import yaml

from conftest import ROOT, chat, free_port, http, tool, wait_ready
from test_dockerfile import only, stages

CHART = ROOT / "deploy/helm/aimock"
CI = CHART / "ci"
# The oldest and newest Kubernetes minor versions the manifests are checked against.
K8S_VERSIONS = ["1.28.0", "1.37.0"]


def helm(*args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run([tool("HELM"), *args], capture_output=True, text=True)
    if check:
        assert result.returncode == 0, result.stdout + result.stderr
    return result


def render(*values: Path, extra: list[str] | None = None) -> tuple[str, list[dict]]:
    args = ["template", "t", str(CHART), "--namespace", "aimock-test"]
    for v in values:
        args += ["-f", str(v)]
    text = helm(*args, *(extra or [])).stdout
    return text, [d for d in yaml.safe_load_all(text) if d]


def validate(tmp_path: Path, text: str, name: str) -> subprocess.CompletedProcess:
    path = tmp_path / f"{name}.yaml"
    path.write_text(text)
    results = []
    for version in K8S_VERSIONS:
        results.append(
            subprocess.run(
                [tool("KUBERNETES_VALIDATE"), "--strict", "-k", version, str(path)], capture_output=True, text=True
            )
        )
    bad = [r for r in results if r.returncode != 0]
    return bad[0] if bad else results[0]


def by_kind(docs: list[dict]) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {}
    for d in docs:
        out.setdefault(d["kind"], []).append(d)
    return out


def container(docs: list[dict]) -> dict:
    (deploy,) = by_kind(docs)["Deployment"]
    (c,) = deploy["spec"]["template"]["spec"]["containers"]
    return c


def flag(args: list[str], name: str) -> str:
    return args[args.index(name) + 1]


@pytest.mark.parametrize("values", [None, "configmap-values.yaml", "pvc-values.yaml"])
def test_lint_render_and_validate(values, tmp_path):
    files = [CI / values] if values else []
    lint = ["lint", "--strict", str(CHART)] + [a for f in files for a in ("-f", str(f))]
    helm(*lint)
    text, docs = render(*files)
    result = validate(tmp_path, text, values or "default")
    assert result.returncode == 0, result.stdout + result.stderr
    assert "passed for resource deployment/t-aimock" in result.stdout


def test_default_values():
    _, docs = render()
    kinds = by_kind(docs)
    assert sorted(kinds) == ["Deployment", "Pod", "Service"]  # the Pod is `helm test`'s hook
    (deploy,) = kinds["Deployment"]
    (svc,) = kinds["Service"]
    pod = deploy["spec"]["template"]
    c = container(docs)
    assert deploy["spec"]["replicas"] == 1
    assert c["image"] == "aimock:0.1.0"
    assert c["command"] == ["/usr/local/bin/aimock"]
    assert c["args"] == ["--host", "0.0.0.0", "--port", "4010", "--fixtures", "/fixtures", "--log-level", "info"]
    assert c["ports"] == [{"name": "http", "containerPort": 4010, "protocol": "TCP"}]
    assert c["livenessProbe"]["httpGet"] == {"path": "/health", "port": "http"}
    assert c["readinessProbe"]["httpGet"] == {"path": "/ready", "port": "http"}
    assert pod["spec"]["securityContext"]["runAsNonRoot"] is True
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    # No fixture source set: the image's bundled fixtures at /fixtures, no volume over them.
    assert "volumes" not in pod["spec"] and "volumeMounts" not in c
    assert svc["spec"]["selector"].items() <= pod["metadata"]["labels"].items()
    assert svc["spec"]["ports"] == [{"name": "http", "port": 4010, "targetPort": "http", "protocol": "TCP"}]
    assert deploy["spec"]["selector"]["matchLabels"] == svc["spec"]["selector"]


def test_configmap_values_render_every_knob():
    _, docs = render(CI / "configmap-values.yaml")
    kinds = by_kind(docs)
    maps = {m["metadata"]["name"]: m for m in kinds["ConfigMap"]}
    assert sorted(maps) == ["t-aimock-config", "t-aimock-fixtures"]
    assert sorted(maps["t-aimock-fixtures"]["data"]) == ["greetings.json", "object.json", "tools.yaml"]
    (deploy,) = kinds["Deployment"]
    spec = deploy["spec"]["template"]["spec"]
    c = container(docs)
    assert deploy["spec"]["replicas"] == 2
    assert c["image"] == "registry.example.test/aimock:0.1.0-test"
    assert flag(c["args"], "--config") == "/config/aimock.json"
    assert flag(c["args"], "--fixtures") == "/fixtures"
    assert flag(c["args"], "--log-level") == "debug"
    assert c["args"][-2:] == ["--strict", "--metrics"]
    assert c["resources"]["limits"] == {"cpu": "500m", "memory": "128Mi"}
    assert c["env"] == [{"name": "RUST_BACKTRACE", "value": "1"}]
    assert spec["nodeSelector"] == {"kubernetes.io/os": "linux"}
    assert spec["tolerations"][0]["key"] == "dedicated"
    assert "nodeAffinity" in spec["affinity"]
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["fixtures"]["configMap"]["name"] == "t-aimock-fixtures"
    assert vols["config"]["configMap"]["name"] == "t-aimock-config"
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    assert mounts == {"fixtures": "/fixtures", "config": "/config"}
    (svc,) = kinds["Service"]
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["ports"][0]["nodePort"] == 30410
    assert deploy["spec"]["template"]["metadata"]["annotations"]["example.test/owner"] == "qa"


def test_a_changed_configmap_rolls_the_pods():
    _, a = render(CI / "configmap-values.yaml")
    _, b = render(CI / "configmap-values.yaml", extra=["--set", "config.content.services.search=false"])
    key = "checksum/configmaps"
    ann = lambda docs: by_kind(docs)["Deployment"][0]["spec"]["template"]["metadata"]["annotations"][key]  # noqa: E731
    assert ann(a) != ann(b)


def test_pvc_and_existing_configmap_values():
    _, docs = render(CI / "pvc-values.yaml")
    assert "ConfigMap" not in by_kind(docs)
    _, docs_without_test = render(CI / "pvc-values.yaml", extra=["--set", "helmTest.enabled=false"])
    assert "Pod" not in by_kind(docs_without_test)
    spec = by_kind(docs)["Deployment"][0]["spec"]["template"]["spec"]
    vols = {v["name"]: v for v in spec["volumes"]}
    assert vols["fixtures"]["persistentVolumeClaim"] == {"claimName": "aimock-fixtures", "readOnly": False}
    assert vols["config"]["configMap"]["name"] == "aimock-config"
    c = container(docs)
    assert {m["name"]: m["readOnly"] for m in c["volumeMounts"]} == {"fixtures": False, "config": True}


def test_fixtures_disabled_lets_the_config_decide():
    _, docs = render(extra=["--set", "fixtures.enabled=false", "--set", "config.existingConfigMap=cfg"])
    args = container(docs)["args"]
    assert "--fixtures" not in args and flag(args, "--config") == "/config/aimock.json"


@pytest.mark.parametrize(
    "sets, message",
    [
        (["fixtures.existingClaim=a", "fixtures.existingConfigMap=b"], "set at most one of files"),
        (["config.content.strict=true", "config.existingConfigMap=b"], "set at most one of content"),
        (["replicaCount=two"], "replicaCount"),
        (["port=70000"], "port"),
        (["logLevel=loud"], "logLevel"),
        (["fixtrues.enabled=true"], "fixtrues"),
    ],
)
def test_bad_values_are_refused(sets, message):
    args = ["template", "t", str(CHART)]
    for s in sets:
        args += ["--set", s]
    result = helm(*args, check=False)
    assert result.returncode != 0, result.stdout
    assert message in result.stderr, result.stderr


def test_the_validator_rejects_a_broken_manifest(tmp_path):
    # The check above is worth something only if kubernetes-validate fails on a bad manifest.
    _, docs = render()
    deploy = by_kind(docs)["Deployment"][0]
    deploy["spec"]["template"]["spec"]["containers"][0]["livenessprobe"] = {"httpGet": {"path": "/health"}}
    result = validate(tmp_path, yaml.safe_dump(deploy), "broken")
    assert result.returncode != 0 and "livenessprobe" in result.stdout + result.stderr, result.stdout
    deploy = by_kind(docs)["Deployment"][0]
    deploy["spec"]["replicas"] = "1"
    result = validate(tmp_path, yaml.safe_dump(deploy), "broken-type")
    assert result.returncode != 0, result.stdout


def test_rendered_configmaps_and_args_run_on_the_binary(aimock_bin, servers, tmp_path):
    """What the pod would run: the container's command and args, with the ConfigMaps' files at
    their mount paths (mapped under tmp_path), answer on their fixtures and config."""
    _, docs = render(CI / "configmap-values.yaml")
    maps = {m["metadata"]["name"]: m["data"] for m in by_kind(docs)["ConfigMap"]}
    c = container(docs)
    mounts = {m["name"]: m["mountPath"] for m in c["volumeMounts"]}
    vols = {v["name"]: v["configMap"]["name"] for v in by_kind(docs)["Deployment"][0]["spec"]["template"]["spec"]["volumes"]}
    mapping = {}
    for name, mount in mounts.items():
        local = tmp_path / name
        local.mkdir()
        for key, content in maps[vols[name]].items():
            (local / key).write_text(content)
        mapping[mount] = str(local)

    check = subprocess.run([aimock_bin, "validate", mapping["/fixtures"]], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    port = free_port()
    args = []
    for a in c["args"]:
        for mount, local in mapping.items():
            if a == mount or a.startswith(mount + "/"):
                a = local + a[len(mount):]
        args.append(a)
    args[args.index("--host") + 1] = "127.0.0.1"  # tests listen on loopback only
    args[args.index("--port") + 1] = str(port)
    server = servers([aimock_bin, *args], cwd=tmp_path)
    base = f"http://127.0.0.1:{port}"
    probe = c["readinessProbe"]["httpGet"]["path"]
    wait_ready(base, server.proc, path=probe)
    assert http("GET", base + c["livenessProbe"]["httpGet"]["path"])[0] == 200
    assert chat(base, "ping")["content"] == "pong from the chart"
    assert chat(base, "object form")["content"] == "rendered from a values object"
    calls = chat(base, "weather")["tool_calls"]
    assert calls[0]["function"]["name"] == "get_weather"
    # --strict (from extraArgs): an unmatched request is a 503
    status, _, _ = http("POST", f"{base}/v1/chat/completions", {"model": "m", "messages": [{"role": "user", "content": "zzz"}]})
    assert status == 503
    # the config's MCP server and --metrics
    status, _, body = http(
        "POST",
        f"{base}/mcp",
        {"jsonrpc": "2.0", "id": 1, "method": "initialize",
         "params": {"protocolVersion": "2025-06-18", "capabilities": {}, "clientInfo": {"name": "t", "version": "1"}}},
        headers={"accept": "application/json, text/event-stream"},
    )
    assert status == 200 and body["result"]["serverInfo"]["name"] == "chart-mcp", body
    assert http("GET", f"{base}/metrics")[0] == 200


def test_chart_paths_match_the_image():
    """The chart runs paths that the Dockerfile's final stage puts there."""
    final = stages()[-1]
    copied = {i["value"].split()[-1] for i in final if i["instruction"] == "COPY"}
    _, docs = render()
    c = container(docs)
    (test_pod,) = by_kind(docs)["Pod"]
    assert c["command"][0] in copied
    assert {t["command"][0] for t in test_pod["spec"]["containers"]} <= copied
    assert {t["image"] for t in test_pod["spec"]["containers"]} == {c["image"]}
    assert flag(c["args"], "--fixtures") in copied
    assert str(c["ports"][0]["containerPort"]) in only(final, "EXPOSE")["value"].split()


def test_helm_test_pod_passes_against_a_server_and_fails_without(aimock_bin, servers, tmp_path):
    _, docs = render()
    (svc,) = by_kind(docs)["Service"]
    (test_pod,) = by_kind(docs)["Pod"]
    authority = f"http://{svc['metadata']['name']}:{svc['spec']['ports'][0]['port']}"
    port = free_port()
    base = f"http://127.0.0.1:{port}"

    def run_test_pod() -> list[int]:
        codes = []
        for t in test_pod["spec"]["containers"]:
            argv = [tool("BUSYBOX"), *t["command"][1:], *(a.replace(authority, base) for a in t["args"])]
            assert any(base in a for a in argv), argv
            codes.append(subprocess.run(argv, capture_output=True, timeout=10).returncode)
        return codes

    server = servers([aimock_bin, "--port", str(port), "-f", str(ROOT / "examples/fixtures")], cwd=tmp_path)
    wait_ready(base, server.proc)
    assert run_test_pod() == [0, 0]
    server.stop()
    assert all(code != 0 for code in run_test_pod())
