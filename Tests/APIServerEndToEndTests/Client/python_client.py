"""Drives a running `capstan server` with the unmodified Python kubernetes client.

Usage: python_client.py KUBECONFIG

Each step prints `ok: <step>`; the first mismatch prints `FAIL: <step>: <why>`
and exits 1, so the Swift test (PythonClientTests) can say exactly what broke.
The kubeconfig is loaded as a user's would be, so TLS and bearer tokens work
when the server uses them.
"""

import sys
import threading
import time

from kubernetes import client, config, watch
from kubernetes.client.rest import ApiException

NAMESPACE = "default"


def fail(step, why):
    print(f"FAIL: {step}: {why}", flush=True)
    sys.exit(1)


def ok(step):
    print(f"ok: {step}", flush=True)


def expect_api_error(step, status, call):
    try:
        call()
    except ApiException as error:
        if error.status != status:
            fail(step, f"expected HTTP {status}, got {error.status}: {error.body}")
        return error
    fail(step, f"expected HTTP {status}, the call succeeded")


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        sys.exit(2)
    config.load_kube_config(config_file=sys.argv[1])
    core = client.CoreV1Api()
    apps = client.AppsV1Api()

    names = {ns.metadata.name for ns in core.list_namespace().items}
    if not {"default", "kube-system"} <= names:
        fail("list namespaces", f"missing built-in namespaces in {sorted(names)}")
    ok("list namespaces")

    pods = core.list_namespaced_pod(NAMESPACE)
    if pods.items is None or pods.metadata.resource_version in (None, ""):
        fail("list pods", f"no items or resourceVersion: {pods}")
    ok("list pods")

    created = core.create_namespaced_config_map(
        NAMESPACE,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="py-config", labels={"app": "py"}), data={"mode": "fast"}),
    )
    if created.data != {"mode": "fast"} or not created.metadata.uid or not created.metadata.resource_version:
        fail("create configmap", f"unexpected object {created}")
    ok("create configmap")

    container = client.V1Container(name="web", image="localhost/capstan/busybox:1.35", ports=[client.V1ContainerPort(container_port=8080)])
    deployment = client.V1Deployment(
        metadata=client.V1ObjectMeta(name="py-web"),
        spec=client.V1DeploymentSpec(
            replicas=1,
            selector=client.V1LabelSelector(match_labels={"app": "py-web"}),
            template=client.V1PodTemplateSpec(metadata=client.V1ObjectMeta(labels={"app": "py-web"}), spec=client.V1PodSpec(containers=[container])),
        ),
    )
    made = apps.create_namespaced_deployment(NAMESPACE, deployment)
    if made.metadata.generation != 1 or made.spec.replicas != 1:
        fail("create deployment", f"generation {made.metadata.generation}, replicas {made.spec.replicas}")
    ok("create deployment")

    # Watch from the resourceVersion the create returned; a later change must arrive as MODIFIED.
    start = created.metadata.resource_version

    def change_later():
        time.sleep(0.5)
        core.patch_namespaced_config_map("py-config", NAMESPACE, {"data": {"mode": "watched"}})

    changer = threading.Thread(target=change_later)
    changer.start()
    seen = []
    w = watch.Watch()
    for event in w.stream(core.list_namespaced_config_map, NAMESPACE, resource_version=start, timeout_seconds=20):
        seen.append((event["type"], event["object"].metadata.name))
        if event["type"] == "MODIFIED" and event["object"].metadata.name == "py-config":
            if event["object"].data != {"mode": "watched"}:
                fail("watch from resourceVersion", f"MODIFIED carried {event['object'].data}")
            w.stop()
    changer.join()
    if ("MODIFIED", "py-config") not in seen:
        fail("watch from resourceVersion", f"no MODIFIED event, saw {seen}")
    ok("watch from resourceVersion")

    stale = created
    stale.data = {"mode": "stale"}
    error = expect_api_error("replace with stale resourceVersion", 409, lambda: core.replace_namespaced_config_map("py-config", NAMESPACE, stale))
    if "the object has been modified" not in error.body:
        fail("replace with stale resourceVersion", f"unexpected Status {error.body}")
    current = core.read_namespaced_config_map("py-config", NAMESPACE)
    if current.data != {"mode": "watched"}:
        fail("replace with stale resourceVersion", f"the stale write changed the object: {current.data}")
    ok("replace with stale resourceVersion")

    current.data = {"mode": "replaced"}
    replaced = core.replace_namespaced_config_map("py-config", NAMESPACE, current)
    if replaced.data != {"mode": "replaced"} or replaced.metadata.resource_version == current.metadata.resource_version:
        fail("replace with current resourceVersion", f"unexpected object {replaced}")
    ok("replace with current resourceVersion")

    patched = apps.patch_namespaced_deployment("py-web", NAMESPACE, {"spec": {"replicas": 3}})
    if patched.spec.replicas != 3 or patched.metadata.generation != 2:
        fail("patch deployment", f"replicas {patched.spec.replicas}, generation {patched.metadata.generation}")
    scale = apps.read_namespaced_deployment_scale("py-web", NAMESPACE)
    if scale.spec.replicas != 3:
        fail("patch deployment", f"scale view says {scale.spec.replicas}")
    ok("patch deployment")

    # The client (v30+) returns the raw JSON: a Status, or the deleted object.
    deleted = core.delete_namespaced_config_map("py-config", NAMESPACE)
    if not isinstance(deleted, dict):
        deleted = deleted.to_dict()
    if deleted.get("status") != "Success" and deleted.get("metadata", {}).get("name") != "py-config":
        fail("delete configmap", f"unexpected answer {deleted}")
    expect_api_error("delete configmap", 404, lambda: core.read_namespaced_config_map("py-config", NAMESPACE))
    apps.delete_namespaced_deployment("py-web", NAMESPACE)
    ok("delete")

    error = expect_api_error("missing object is 404", 404, lambda: core.read_namespaced_secret("nope", NAMESPACE))
    if '"reason":"NotFound"' not in error.body.replace(" ", ""):
        fail("missing object is 404", f"unexpected Status {error.body}")
    ok("missing object is 404")

    print("ALL OK", flush=True)


if __name__ == "__main__":
    main()
