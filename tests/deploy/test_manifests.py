"""The Kubernetes manifests render, validate offline and agree with what the code reads."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from kubernetes_validate.utils import SchemaNotFoundError

from services.cli.main import build_parser
from services.common.queues import ALL_QUEUES, PDF_GENERATION, ready_key
from services.common.settings import Settings, env_names, secret_env_names
from tests.deploy.manifests import K8S, OVERLAYS, Manifest

pytestmark = pytest.mark.integration  # shells out to kubectl

# Oldest and newest cluster versions we deploy to (native gRPC probes are GA since 1.27).
K8S_VERSIONS = ("1.29", "1.33")
SCHEMAS = K8S / "schemas"
SECRET_TEMPLATE = K8S / "base" / "config" / "secret.template.yaml"
SECRET_NAME = "suoops-secrets"
KEDA_SECRET_NAME = "suoops-keda-redis"
HARD_LIMIT_SECONDS = Settings().render_hard_limit_seconds
# Settings an overlay may leave unset, each with the reason.
EXEMPT_SETTINGS = {
    "RENDERER_FACTORY": "a test seam (tests swap in a slow renderer); pods use the real one",
    "OTEL_SPANS_FILE": "a test seam (spans as JSON lines); pods export OTLP to the collector",
}
# The metrics port setting of each role (CONTRACT §7); the gateway serves /metrics on its port.
METRICS_PORT_SETTING = {
    ("serve", "invoice"): "INVOICE_METRICS_PORT",
    ("serve", "renderer"): "RENDERER_METRICS_PORT",
    ("serve", "scheduler"): "SCHEDULER_METRICS_PORT",
    ("worker",): "WORKER_METRICS_PORT",
}
GRPC_SERVERS = {"invoice": "INVOICE_GRPC_ADDR", "renderer": "RENDERER_GRPC_ADDR"}


# ---- helpers ----


def of_kind(objects: list[Manifest], kind: str) -> list[Manifest]:
    return [o for o in objects if o["kind"] == kind]


def named(objects: list[Manifest], kind: str, name: str) -> Manifest:
    matches = [o for o in of_kind(objects, kind) if o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind} {name}, found {len(matches)}"
    return matches[0]


def workloads(objects: list[Manifest]) -> list[Manifest]:
    """Deployments and Jobs: everything that runs a pod."""
    return [o for o in objects if o["kind"] in ("Deployment", "Job")]


def pod_spec(workload: Manifest) -> dict[str, Any]:
    return workload["spec"]["template"]["spec"]


def pod_labels(workload: Manifest) -> dict[str, str]:
    return workload["spec"]["template"]["metadata"].get("labels", {})


def containers(workload: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return spec.get("initContainers", []) + spec["containers"]


def config_map(objects: list[Manifest]) -> dict[str, str]:
    (cm,) = of_kind(objects, "ConfigMap")
    return cm["data"]


def env_value(container: dict[str, Any], objects: list[Manifest], name: str) -> str | None:
    """A container's value of NAME: its own env wins over the ConfigMap (envFrom)."""
    for entry in container.get("env", []):
        if entry["name"] == name:
            return entry.get("value")
    return config_map(objects).get(name)


def role(container: dict[str, Any]) -> tuple[str, ...]:
    """("serve", "invoice"), ("worker",), ("migrate",): what the suoops command runs."""
    args = container.get("args", [])
    return tuple(args[:2]) if args[:1] == ["serve"] else tuple(args[:1])


def cores(quantity: str | int) -> float:
    """A CPU quantity ("2", "500m") in cores."""
    text = str(quantity)
    return int(text[:-1]) / 1000 if text.endswith("m") else float(text)


def worker_queues(container: dict[str, Any]) -> set[str]:
    """The queues after `--queues` (up to the next option) of a `suoops worker` command."""
    args = container["args"]
    if "--queues" not in args:
        return set()
    rest = args[args.index("--queues") + 1 :]
    ends = [i for i, arg in enumerate(rest) if arg.startswith("-")]
    return set(rest[: ends[0]] if ends else rest)


def selects(selector: dict[str, Any] | None, labels: dict[str, str]) -> bool:
    """Kubernetes label-selector semantics (matchLabels and matchExpressions)."""
    if selector is None:
        return False
    if any(labels.get(k) != v for k, v in selector.get("matchLabels", {}).items()):
        return False
    for expr in selector.get("matchExpressions", []):
        key, op, values = expr["key"], expr["operator"], expr.get("values", [])
        ok = {
            "In": key in labels and labels[key] in values,
            "NotIn": key not in labels or labels[key] not in values,
            "Exists": key in labels,
            "DoesNotExist": key not in labels,
        }[op]
        if not ok:
            return False
    return True


def egress_rules(objects: list[Manifest], labels: dict[str, str]) -> Iterator[dict[str, Any]]:
    """Every egress rule of every NetworkPolicy that applies to pods with these labels."""
    for policy in of_kind(objects, "NetworkPolicy"):
        spec = policy["spec"]
        if "Egress" in spec.get("policyTypes", []) and selects(spec["podSelector"], labels):
            yield from spec.get("egress", [])


def egress_ports(objects: list[Manifest], labels: dict[str, str]) -> set[int | str]:
    """The ports these pods may open connections to ("any" when a rule has no port list)."""
    ports: set[int | str] = set()
    for rule in egress_rules(objects, labels):
        if not rule.get("ports"):
            ports.add("any")
        ports.update(p.get("port", "any") for p in rule.get("ports", []))
    return ports


def reaching(objects: list[Manifest], port: int) -> set[str]:
    """Names of the workloads allowed to open connections to PORT."""
    return {
        w["metadata"]["name"]
        for w in workloads(objects)
        if {port, "any"} & egress_ports(objects, pod_labels(w))
    }


def load_schema(kind: str, api_version: str) -> dict[str, Any]:
    group, version = api_version.split("/")
    path = SCHEMAS / f"{kind.lower()}-{group.split('.')[0]}-{version}.json"
    assert path.exists(), f"no vendored schema for {api_version} {kind} ({path})"
    return json.loads(path.read_text(encoding="utf-8"))


def validate(obj: Manifest, version: str) -> None:
    """Validate offline: built-in kinds with kubernetes-validate, KEDA's with our schemas."""
    if obj["apiVersion"].startswith("keda.sh/"):
        schema = load_schema(obj["kind"], obj["apiVersion"])
        jsonschema.Draft202012Validator(schema).validate(obj)
        return
    try:
        kubernetes_validate.validate(obj, version, strict=True)
    except SchemaNotFoundError as exc:
        pytest.fail(f"{obj['kind']} {obj['apiVersion']}: no schema to validate it: {exc.message}")


# ---- fixtures ----


@pytest.fixture(params=OVERLAYS)
def overlay(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def objects(rendered: dict[str, list[Manifest]], overlay: str) -> list[Manifest]:
    return rendered[overlay]


@pytest.fixture(scope="module")
def secret_template() -> dict[str, Manifest]:
    docs = [d for d in yaml.safe_load_all(SECRET_TEMPLATE.read_text(encoding="utf-8")) if d]
    return {d["metadata"]["name"]: d for d in docs}


# ---- rendering and validation ----


def test_every_overlay_renders_every_component(objects: list[Manifest]) -> None:
    deployments = {o["metadata"]["name"] for o in of_kind(objects, "Deployment")}
    assert deployments == {
        "gateway",
        "invoice",
        "renderer",
        "renderer-worker",
        "delivery-worker",
        "scheduler",
    }
    assert {o["metadata"]["name"] for o in of_kind(objects, "Job")} == {"migrate"}
    assert {o["metadata"]["name"] for o in of_kind(objects, "Service")} == {
        "gateway",
        "invoice",
        "renderer",
    }
    assert len(of_kind(objects, "ConfigMap")) == 1
    namespaces = {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"}
    assert len(namespaces) == 1 and None not in namespaces, "every object in the overlay namespace"


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_every_object_validates_offline(objects: list[Manifest], version: str) -> None:
    for obj in objects:
        validate(obj, version)


def test_validation_rejects_a_misspelt_field(objects: list[Manifest]) -> None:
    deployment = copy.deepcopy(of_kind(objects, "Deployment")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolicyy"] = "Always"
    with pytest.raises(kubernetes_validate.ValidationError):
        validate(deployment, K8S_VERSIONS[-1])
    scaled = copy.deepcopy(of_kind(objects, "ScaledObject")[0])
    scaled["spec"]["maxReplicas"] = 3
    with pytest.raises(jsonschema.ValidationError):
        validate(scaled, K8S_VERSIONS[-1])


@pytest.mark.parametrize("version", K8S_VERSIONS)
def test_secret_template_validates_and_holds_no_value(
    secret_template: dict[str, Manifest], version: str
) -> None:
    assert set(secret_template) == {SECRET_NAME, KEDA_SECRET_NAME}
    for secret in secret_template.values():
        validate(secret, version)
        assert all(value == "" for value in secret["stringData"].values()), "no real values"
    assert set(secret_template[SECRET_NAME]["stringData"]) == set(secret_env_names())


def test_secret_template_is_not_applied_by_kustomize(objects: list[Manifest]) -> None:
    # A Secret in `apply -k` would overwrite the operator's real values with blanks.
    assert of_kind(objects, "Secret") == []


def test_pre_rollout_step_applies_the_config_and_the_migration_job(
    objects: list[Manifest],
) -> None:
    # docs/deploy.md: `kubectl apply -k OVERLAY -l suoops.io/phase=pre-rollout` migrates first.
    step = [o for o in objects if o["metadata"].get("labels", {}).get("suoops.io/phase")]
    assert sorted((o["kind"], o["metadata"]["labels"]["suoops.io/phase"]) for o in step) == [
        ("ConfigMap", "pre-rollout"),
        ("Job", "pre-rollout"),
    ]
    (job,) = of_kind(objects, "Job")
    (container,) = pod_spec(job)["containers"]
    assert container["args"] == ["migrate"]
    config_name = of_kind(objects, "ConfigMap")[0]["metadata"]["name"]
    assert [s["configMapRef"]["name"] for s in container["envFrom"]] == [config_name]


# ---- settings ----


def test_every_setting_the_code_reads_is_set(objects: list[Manifest]) -> None:
    set_names = set(config_map(objects))
    for workload in workloads(objects):
        for container in containers(workload):
            set_names.update(entry["name"] for entry in container.get("env", []))
    missing = set(env_names()) - set_names - set(EXEMPT_SETTINGS)
    assert not missing, f"settings set nowhere in the overlay: {sorted(missing)}"


def test_config_map_holds_only_known_non_secret_settings(objects: list[Manifest]) -> None:
    keys = set(config_map(objects))
    assert keys <= set(env_names()), f"unknown settings (typos?): {sorted(keys - set(env_names()))}"
    assert not keys & set(secret_env_names()), "secrets belong in the Secret, not the ConfigMap"


def test_secrets_come_only_from_the_secret(
    objects: list[Manifest], secret_template: dict[str, Manifest]
) -> None:
    keys = set(secret_template[SECRET_NAME]["stringData"])
    for workload in workloads(objects):
        for container in containers(workload):
            for entry in container.get("env", []):
                if entry["name"] in secret_env_names():
                    ref = entry.get("valueFrom", {}).get("secretKeyRef")
                    assert ref, f"{entry['name']} given as a plain value in {container['name']}"
                    assert ref["name"] == SECRET_NAME and ref["key"] == entry["name"]
                    assert ref["key"] in keys
            for source in container.get("envFrom", []):
                assert "secretRef" not in source, "each container gets only the secrets it needs"


def test_grpc_servers_bind_every_interface_and_clients_use_the_services(
    objects: list[Manifest],
) -> None:
    services = {s["metadata"]["name"]: s for s in of_kind(objects, "Service")}
    for name, setting in GRPC_SERVERS.items():
        (server,) = named(objects, "Deployment", name)["spec"]["template"]["spec"]["containers"]
        bind_host, _, bind_port = env_value(server, objects, setting).rpartition(":")
        assert bind_host == "0.0.0.0"
        assert int(bind_port) in {p["containerPort"] for p in server["ports"]}
        client_host, _, client_port = config_map(objects)[setting].rpartition(":")
        assert client_host == name, f"clients reach {name} through its Service"
        assert int(client_port) in {p["port"] for p in services[name]["spec"]["ports"]}
    (gateway,) = pod_spec(named(objects, "Deployment", "gateway"))["containers"]
    assert env_value(gateway, objects, "GATEWAY_HOST") == "0.0.0.0"
    port = int(env_value(gateway, objects, "GATEWAY_PORT") or 0)
    assert port in {p["containerPort"] for p in gateway["ports"]}


# ---- processes ----


def test_every_container_runs_a_suoops_command_of_the_one_image(objects: list[Manifest]) -> None:
    images = set()
    for workload in workloads(objects):
        for container in containers(workload):
            images.add(container["image"])
            try:
                build_parser().parse_args(container["args"])
            except SystemExit:
                pytest.fail(f"{container['name']}: `suoops {' '.join(container['args'])}` fails")
    assert len(images) == 1, f"one image for every role, found {images}"


def test_every_queue_has_a_worker_pool_and_renders_have_their_own(
    objects: list[Manifest],
) -> None:
    pools = {
        w["metadata"]["name"]: worker_queues(c)
        for w in of_kind(objects, "Deployment")
        for c in containers(w)
        if role(c) == ("worker",)
    }
    assert all(pools.values()), "every worker names its queues"
    assert set().union(*pools.values()) == {q.name for q in ALL_QUEUES}
    render_pools = [queues for queues in pools.values() if PDF_GENERATION.name in queues]
    assert render_pools == [{PDF_GENERATION.name}], "renders have a pool of their own"


def test_workers_outlast_the_hard_render_limit(objects: list[Manifest]) -> None:
    configured = float(config_map(objects).get("RENDER_HARD_LIMIT_SECONDS", HARD_LIMIT_SECONDS))
    for workload in of_kind(objects, "Deployment"):
        if any(role(c) == ("worker",) for c in containers(workload)):
            grace = pod_spec(workload)["terminationGracePeriodSeconds"]
            assert grace > max(configured, HARD_LIMIT_SECONDS), workload["metadata"]["name"]


def test_render_processes_fit_the_pods_cpu(objects: list[Manifest]) -> None:
    # Every process that starts a render pool sizes it explicitly: the code's default need not
    # match the pod, and more render processes than CPUs only queue for the CPU.
    for workload in of_kind(objects, "Deployment"):
        for container in containers(workload):
            if role(container) not in (("serve", "renderer"), ("worker",)):
                continue
            env = {e["name"]: e.get("value") for e in container.get("env", [])}
            name = workload["metadata"]["name"]
            assert "RENDER_PROCESSES" in env, f"{name} sizes its render pool"
            assert int(env["RENDER_PROCESSES"]) <= cores(container["resources"]["limits"]["cpu"])
            if role(container) == ("worker",):
                assert int(env["WORKER_THREADS"]) >= 1, f"{name} sizes its worker threads"


def test_grpc_servers_have_native_grpc_probes(objects: list[Manifest]) -> None:
    for name, setting in GRPC_SERVERS.items():
        (server,) = pod_spec(named(objects, "Deployment", name))["containers"]
        port = int(env_value(server, objects, setting).rpartition(":")[2])
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            assert server[probe]["grpc"]["port"] == port, f"{name} {probe}"


def test_gateway_has_http_probes(objects: list[Manifest]) -> None:
    (gateway,) = pod_spec(named(objects, "Deployment", "gateway"))["containers"]
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/healthz"


def test_scheduler_runs_one_replica(objects: list[Manifest]) -> None:
    assert named(objects, "Deployment", "scheduler")["spec"]["replicas"] == 1


def test_metrics_ports_match_the_settings_and_are_scraped(objects: list[Manifest]) -> None:
    for workload in of_kind(objects, "Deployment"):
        (container,) = pod_spec(workload)["containers"]
        annotations = workload["spec"]["template"]["metadata"].get("annotations", {})
        assert annotations.get("prometheus.io/scrape") == "true", workload["metadata"]["name"]
        setting = METRICS_PORT_SETTING.get(role(container))
        if setting is None:  # the gateway: /metrics on its HTTP port
            expected = int(env_value(container, objects, "GATEWAY_PORT") or 0)
        else:
            expected = int(env_value(container, objects, setting) or 0)
            ports = {p["name"]: p["containerPort"] for p in container["ports"]}
            assert ports.get("metrics") == expected, workload["metadata"]["name"]
        assert int(annotations["prometheus.io/port"]) == expected


# ---- security ----


def test_every_container_runs_locked_down(objects: list[Manifest]) -> None:
    for workload in workloads(objects):
        spec = pod_spec(workload)
        name = workload["metadata"]["name"]
        assert spec.get("automountServiceAccountToken") is False, name
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["seccompProfile"]["type"] == "RuntimeDefault", name
        tmp_volumes = {v["name"] for v in spec.get("volumes", []) if "emptyDir" in v}
        for container in containers(workload):
            context = container["securityContext"]
            assert context["runAsNonRoot"] is True, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["allowPrivilegeEscalation"] is False, name
            assert "ALL" in context["capabilities"]["drop"], name
            for bound in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(container["resources"][bound]), name
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert mounts.get("/tmp") in tmp_volumes, f"{name}: writable /tmp is an emptyDir"


def test_every_deployment_has_a_disruption_budget(objects: list[Manifest]) -> None:
    budgets = of_kind(objects, "PodDisruptionBudget")
    for workload in of_kind(objects, "Deployment"):
        matching = [b for b in budgets if selects(b["spec"]["selector"], pod_labels(workload))]
        assert len(matching) == 1, workload["metadata"]["name"]


def test_namespace_starts_closed(objects: list[Manifest]) -> None:
    deny = named(objects, "NetworkPolicy", "default-deny")["spec"]
    assert deny["podSelector"] == {} and set(deny["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny and "egress" not in deny


def test_only_the_invoice_service_reaches_postgresql(objects: list[Manifest]) -> None:
    assert reaching(objects, 5432) == {"invoice", "migrate"}


def test_only_the_renderer_and_delivery_workers_reach_s3(objects: list[Manifest]) -> None:
    assert reaching(objects, 443) == {"renderer", "renderer-worker", "delivery-worker"}


def test_workers_reach_redis_and_the_invoice_service(objects: list[Manifest]) -> None:
    assert {"renderer-worker", "delivery-worker", "scheduler"} <= reaching(objects, 6379)
    assert {"renderer-worker", "delivery-worker", "scheduler"} <= reaching(objects, 50051)
    assert "gateway" not in reaching(objects, 6379)


def test_gateway_reaches_only_the_invoice_service(objects: list[Manifest]) -> None:
    gateway = pod_labels(named(objects, "Deployment", "gateway"))
    for rule in egress_rules(objects, gateway):
        ports = {p["port"] for p in rule.get("ports", [{"port": "any"}])}
        peers = rule["to"]
        if ports == {53}:  # cluster DNS
            assert all(p["podSelector"]["matchLabels"] == {"k8s-app": "kube-dns"} for p in peers)
        elif ports == {4318}:  # the telemetry collector's namespace
            assert all(set(p) == {"namespaceSelector"} for p in peers)
        else:
            assert ports == {50051}
            invoice = {"matchLabels": {"app.kubernetes.io/name": "invoice"}}
            assert peers == [{"podSelector": invoice}]


def test_invoice_and_renderer_admit_only_their_clients(objects: list[Manifest]) -> None:
    callers = {
        "invoice": {"gateway", "renderer-worker", "delivery-worker", "scheduler"},
        "renderer": {"invoice"},
    }
    for server, expected in callers.items():
        policy = named(objects, "NetworkPolicy", server)["spec"]
        (rule,) = policy["ingress"]
        admitted = {
            w["metadata"]["name"]
            for w in workloads(objects)
            if any(selects(peer.get("podSelector"), pod_labels(w)) for peer in rule["from"])
        }
        assert admitted == expected, server


def test_prometheus_may_scrape_every_metrics_port(objects: list[Manifest]) -> None:
    policy = named(objects, "NetworkPolicy", "allow-telemetry")["spec"]
    assert policy["podSelector"] == {}
    assert {"protocol": "TCP", "port": "metrics"} in policy["ingress"][0]["ports"]


# ---- autoscaling ----


def test_keda_measures_the_queue_key_the_code_uses(objects: list[Manifest]) -> None:
    (scaled,) = of_kind(objects, "ScaledObject")
    spec = scaled["spec"]
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "redis"
    assert trigger["metadata"]["listName"] == ready_key(PDF_GENERATION.name)
    assert int(trigger["metadata"]["listLength"]) > 0
    assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]
    target = named(objects, "Deployment", spec["scaleTargetRef"]["name"])
    assert "replicas" not in target["spec"], "KEDA owns the replica count"
    assert any(worker_queues(c) == {PDF_GENERATION.name} for c in containers(target))
    auth = named(objects, "TriggerAuthentication", trigger["authenticationRef"]["name"])
    assert {ref["name"] for ref in auth["spec"]["secretTargetRef"]} == {KEDA_SECRET_NAME}


def test_gateway_and_invoice_scale_on_cpu(objects: list[Manifest]) -> None:
    for name in ("gateway", "invoice"):
        hpa = named(objects, "HorizontalPodAutoscaler", name)["spec"]
        target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        assert hpa["scaleTargetRef"] == target
        assert [m["resource"]["name"] for m in hpa["metrics"]] == ["cpu"]
        assert 1 <= hpa["minReplicas"] <= hpa["maxReplicas"]
        assert "replicas" not in named(objects, "Deployment", name)["spec"], "the HPA owns it"


def test_queue_depth_hpa_replaces_keda_where_there_is_none(
    rendered_without_keda: dict[str, list[Manifest]], overlay: str
) -> None:
    objects = rendered_without_keda[overlay]
    assert not [o for o in objects if o["apiVersion"].startswith("keda.sh/")]
    hpa = named(objects, "HorizontalPodAutoscaler", "renderer-worker")
    assert hpa["metadata"].get("namespace") == of_kind(objects, "Namespace")[0]["metadata"]["name"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["external"]["metric"]["name"] == "queue_depth"
    selector = metric["external"]["metric"]["selector"]["matchLabels"]
    assert selector == {"queue": PDF_GENERATION.name, "state": "ready"}
    for obj in objects:
        validate(obj, K8S_VERSIONS[-1])


def test_vendored_schemas_are_valid_json_schemas() -> None:
    paths = sorted(Path(SCHEMAS).glob("*.json"))
    assert paths
    for path in paths:
        jsonschema.Draft202012Validator.check_schema(json.loads(path.read_text(encoding="utf-8")))
