"""End-to-end scenarios for `capstan cri`, each driving a fresh shim over its socket.

Usage: python3 scenarios.py SCENARIO --capstan PATH   (as root)
Prints `1 passed, 0 failed` (or the failure) and exits non-zero on failure.
"""
import argparse
import json
import os
import socket
import subprocess
import time
import traceback

import grpc

from crihelper import Shim, expect_code, parse_cri_log, pb

BUSYBOX = "localhost/busybox:latest"
SCENARIOS = {}


def scenario(index):
    def register(function):
        SCENARIOS[function.__name__] = (index, function)
        return function

    return register


@scenario(1)
def lifecycle(shim):
    version = shim.runtime.Version(pb.VersionRequest())
    assert version.runtime_name == "capstan" and version.runtime_api_version == "v1", version
    conditions = {c.type: c for c in shim.runtime.Status(pb.StatusRequest()).status.conditions}
    assert conditions["RuntimeReady"].status and conditions["NetworkReady"].status, conditions

    config = shim.sandbox_config("web", hostname="web-host")
    sandbox_id, status = shim.run_sandbox(config)
    assert status.state == pb.SANDBOX_READY
    assert status.network.ip.startswith(shim.subnet.rsplit(".", 2)[0]), status.network.ip
    netns = f"/var/run/netns/capstan-{sandbox_id[:16]}"
    assert os.path.exists(netns), netns

    container = shim.container_config(
        "app", ["sh", "-c", "trap '' TERM; echo hello; echo oops >&2; printf 'no newline'; sleep 1000"],
        envs=[pb.KeyValue(key="GREETING", value=b"hi")])
    container_id = shim.run_container(sandbox_id, config, container)
    status = shim.status(container_id)
    assert status.state == pb.CONTAINER_RUNNING, status
    assert status.started_at > 0 and status.log_path.endswith("web/app.log"), status

    records = shim.wait_for("three log records", lambda: len(parse_cri_log(status.log_path)) >= 2 and parse_cri_log(status.log_path))
    assert ("stdout", "F", "hello") in records, records
    assert ("stderr", "F", "oops") in records, records

    result = shim.exec(container_id, ["sh", "-c", "cat /etc/hostname; echo $GREETING; id -u; exit 3"])
    assert result.exit_code == 3, result
    assert result.stdout.decode().split() == ["web-host", "hi", "0"], result.stdout
    big = shim.exec(container_id, ["sh", "-c", "head -c 20000000 /dev/zero"], timeout=30)
    assert big.exit_code == 0 and len(big.stdout) == 7 << 20, len(big.stdout)  # capped, not fatal
    details = expect_code(grpc.StatusCode.DEADLINE_EXCEEDED, shim.exec, container_id, ["sleep", "30"], timeout=1)
    assert "timed out" in details, details

    stats = shim.runtime.ContainerStats(pb.ContainerStatsRequest(container_id=container_id)).stats
    assert stats.attributes.id == container_id
    assert stats.cpu.usage_core_nano_seconds.value > 0, stats.cpu
    assert stats.memory.working_set_bytes.value > 0, stats.memory
    listed = shim.runtime.ListContainerStats(pb.ListContainerStatsRequest()).stats
    assert [s.attributes.id for s in listed] == [container_id]

    listed = shim.runtime.ListContainers(pb.ListContainersRequest(filter=pb.ContainerFilter(
        state=pb.ContainerStateValue(state=pb.CONTAINER_RUNNING), label_selector={"container": "app"}))).containers
    assert [c.id for c in listed] == [container_id], listed
    sandboxes = shim.runtime.ListPodSandbox(pb.ListPodSandboxRequest(filter=pb.PodSandboxFilter(label_selector={"app": "web"}))).items
    assert [s.id for s in sandboxes] == [sandbox_id]
    assert not shim.runtime.ListPodSandbox(pb.ListPodSandboxRequest(filter=pb.PodSandboxFilter(label_selector={"app": "other"}))).items

    # The container ignores SIGTERM, so the stop must escalate to SIGKILL after the timeout.
    started = time.monotonic()
    shim.runtime.StopContainer(pb.StopContainerRequest(container_id=container_id, timeout=1), timeout=30)
    assert 0.9 < time.monotonic() - started < 10
    status = shim.status(container_id)
    assert status.state == pb.CONTAINER_EXITED and status.exit_code == 137, status
    assert status.finished_at >= status.started_at and status.reason == "Error", status
    shim.runtime.StopContainer(pb.StopContainerRequest(container_id=container_id, timeout=1))  # idempotent
    assert ("stdout", "F", "no newline") in parse_cri_log(status.log_path), "a trailing partial line is flushed"

    shim.runtime.RemoveContainer(pb.RemoveContainerRequest(container_id=container_id))
    shim.runtime.RemoveContainer(pb.RemoveContainerRequest(container_id=container_id))  # idempotent
    assert not shim.runtime.ListContainers(pb.ListContainersRequest()).containers
    assert os.path.exists(status.log_path), "the log file outlives the container (the kubelet owns it)"

    shim.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sandbox_id))
    shim.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sandbox_id))  # idempotent
    assert shim.runtime.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id)).status.state == pb.SANDBOX_NOTREADY
    assert not os.path.exists(netns)
    shim.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id))
    shim.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id))  # idempotent
    assert not shim.runtime.ListPodSandbox(pb.ListPodSandboxRequest()).items


@scenario(2)
def exit_code_and_short_lived(shim):
    config = shim.sandbox_config("job")
    sandbox_id, _ = shim.run_sandbox(config)
    container_id = shim.run_container(sandbox_id, config, shim.container_config("once", ["sh", "-c", "echo done; exit 7"]))
    status = shim.wait_for("exit", lambda: (s := shim.status(container_id)).state == pb.CONTAINER_EXITED and s)
    assert status.exit_code == 7 and status.reason == "Error", status
    assert ("stdout", "F", "done") in parse_cri_log(status.log_path)
    expect_code(grpc.StatusCode.FAILED_PRECONDITION, shim.exec, container_id, ["true"])
    expect_code(grpc.StatusCode.FAILED_PRECONDITION, shim.runtime.StartContainer, pb.StartContainerRequest(container_id=container_id))
    # Host-network pods share the host's network and hostname, and get no pod IP.
    host_config = shim.sandbox_config("hostnet")
    host_config.linux.security_context.namespace_options.network = pb.NODE
    host_sandbox, host_status = shim.run_sandbox(host_config)
    assert host_status.network.ip == "", host_status.network
    host_container = shim.run_container(host_sandbox, host_config, shim.container_config("h", ["sleep", "100"]))
    assert shim.exec(host_container, ["hostname"]).stdout.decode().strip() == socket.gethostname()
    interfaces = shim.exec(host_container, ["cat", "/proc/net/dev"]).stdout.decode()
    assert shim.bridge in interfaces, "the host's pod bridge is visible from a host-network pod"
    shim.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=host_sandbox))
    # A created-but-never-started container stops and removes cleanly too.
    created = shim.runtime.CreateContainer(pb.CreateContainerRequest(
        pod_sandbox_id=sandbox_id, config=shim.container_config("idle", ["sleep", "100"]), sandbox_config=config)).container_id
    assert shim.status(created).state == pb.CONTAINER_CREATED
    # Removing the sandbox takes its containers with it.
    shim.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id))
    assert not shim.runtime.ListContainers(pb.ListContainersRequest()).containers


HTTP_SERVER = ["sh", "-c", "mkdir -p /www && echo pong-$HOSTNAME > /www/index.html && exec httpd -f -p 8080 -h /www"]


def http_get(shim, container_id, address):
    """GET / from inside a container with busybox nc (static busybox's wget crashes in NSS)."""
    command = f"printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 2 {address} 8080"
    result = shim.exec(container_id, ["sh", "-c", command])
    body = result.stdout.decode(errors="replace").split("\r\n\r\n", 1)
    return result.exit_code == 0 and len(body) == 2 and body[1].strip()


@scenario(3)
def containers_in_one_pod_share_localhost(shim):
    config = shim.sandbox_config("duo", hostname="duo")
    sandbox_id, _ = shim.run_sandbox(config)
    shim.run_container(sandbox_id, config, shim.container_config("server", HTTP_SERVER))
    client = shim.run_container(sandbox_id, config, shim.container_config("client", ["sleep", "1000"]))

    assert shim.wait_for("server over localhost", lambda: http_get(shim, client, "127.0.0.1")) == "pong-duo"
    # PID namespace mode POD (the proto default here): containers see each other's processes,
    # and PID 1 is the pod's holder, not a container process.
    processes = shim.exec(client, ["ps", "-o", "pid,args"]).stdout.decode()
    assert "httpd -f -p 8080" in processes, processes
    assert any(line.split()[:1] == ["1"] and "cri-pause" in line for line in processes.splitlines()), processes
    # Containers of a pod in CONTAINER mode see only themselves.
    solo_config = shim.sandbox_config("solo")
    solo_config.linux.security_context.namespace_options.pid = pb.CONTAINER
    solo_sandbox, _ = shim.run_sandbox(solo_config)
    solo = shim.container_config("solo", ["sleep", "1000"])
    solo.linux.security_context.namespace_options.pid = pb.CONTAINER
    solo_id = shim.run_container(solo_sandbox, solo_config, solo)
    assert shim.exec(solo_id, ["sh", "-c", "echo $$"]).stdout.decode().strip() != "1"
    assert "sleep 1000" in shim.exec(solo_id, ["ps", "-o", "pid,args"]).stdout.decode().splitlines()[1]


@scenario(4)
def pods_talk_over_pod_ips(shim):
    server_config = shim.sandbox_config("server")
    server_sandbox, server_status = shim.run_sandbox(server_config)
    shim.run_container(server_sandbox, server_config, shim.container_config("http", HTTP_SERVER))
    client_config = shim.sandbox_config("client")
    client_sandbox, client_status = shim.run_sandbox(client_config)
    assert server_status.network.ip != client_status.network.ip
    client = shim.run_container(client_sandbox, client_config, shim.container_config("probe", ["sleep", "1000"]))
    server_ip = server_status.network.ip
    assert shim.wait_for("server over its pod IP", lambda: http_get(shim, client, server_ip)) == "pong-server"
    stats = shim.runtime.PodSandboxStats(pb.PodSandboxStatsRequest(pod_sandbox_id=server_sandbox)).stats
    assert stats.attributes.id == server_sandbox and len(stats.linux.containers) == 1, stats.attributes
    assert stats.linux.cpu.usage_core_nano_seconds.value > 0 and stats.linux.memory.working_set_bytes.value > 0
    assert stats.linux.process.process_count.value >= 1, stats.linux.process
    assert stats.linux.network.default_interface.name == "eth0", stats.linux.network
    assert stats.linux.network.default_interface.rx_bytes.value > 0, stats.linux.network
    listed = shim.runtime.ListPodSandboxStats(pb.ListPodSandboxStatsRequest(
        filter=pb.PodSandboxStatsFilter(label_selector={"app": "client"}))).stats
    assert [s.attributes.id for s in listed] == [client_sandbox]
    # A pod's own hostname and address are in its /etc/hosts.
    hosts = shim.exec(client, ["cat", "/etc/hosts"]).stdout.decode()
    assert client_status.network.ip in hosts and "client" in hosts, hosts


@scenario(5)
def port_mapping(shim):
    host_port = 20000 + os.getpid() % 10000
    config = shim.sandbox_config("mapped", port_mappings=[(host_port, 8080)])
    sandbox_id, status = shim.run_sandbox(config)
    shim.run_container(sandbox_id, config, shim.container_config("http", HTTP_SERVER))
    gateway = status.network.ip.rsplit(".", 1)[0] + ".1"

    def fetch():
        try:
            with socket.create_connection((gateway, host_port), timeout=2) as connection:
                connection.sendall(b"GET / HTTP/1.0\r\n\r\n")
                reply = b""
                while chunk := connection.recv(4096):  # HTTP/1.0: the server closes at the end
                    reply += chunk
                return reply.decode(errors="replace")
        except OSError:
            return None

    reply = shim.wait_for(f"hostPort {host_port} on {gateway}", fetch)
    assert "pong-mapped" in reply, reply


@scenario(6)
def shim_restart_adopts_running_containers(shim):
    config = shim.sandbox_config("survivor")
    sandbox_id, _ = shim.run_sandbox(config)
    container_id = shim.run_container(sandbox_id, config, shim.container_config(
        "ticker", ["sh", "-c", "trap 'echo bye; exit 0' TERM; i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done"]))
    log_path = shim.status(container_id).log_path
    shim.wait_for("ticks", lambda: len(parse_cri_log(log_path)) >= 3)
    shim.seen_pids.add(shim.process.pid)
    shim.kill9()
    before = len(parse_cri_log(log_path))
    time.sleep(0.5)
    assert len(parse_cri_log(log_path)) > before, "the log keeps growing while the shim is down"
    shim.start()
    status = shim.status(container_id)
    assert status.state == pb.CONTAINER_RUNNING, status
    sandbox = shim.runtime.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=sandbox_id)).status
    assert sandbox.state == pb.SANDBOX_READY and sandbox.network.ip
    assert shim.exec(container_id, ["echo", "still here"]).stdout == b"still here\n"
    # A graceful restart (SIGTERM) adopts just the same.
    shim.stop()
    shim.start()
    assert shim.status(container_id).state == pb.CONTAINER_RUNNING
    shim.runtime.StopContainer(pb.StopContainerRequest(container_id=container_id, timeout=10), timeout=30)
    status = shim.status(container_id)
    assert status.state == pb.CONTAINER_EXITED and status.exit_code == 0, status
    records = parse_cri_log(log_path)
    assert ("stdout", "F", "bye") in records, records[-3:]
    ticks = [int(content.split()[1]) for stream, tag, content in records if content.startswith("tick")]
    assert ticks == list(range(len(ticks))), "no tick was lost or repeated across the restart"


@scenario(7)
def bad_requests_get_precise_codes(shim):
    r = shim.runtime
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, r.RunPodSandbox, pb.RunPodSandboxRequest())
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, r.RunPodSandbox, pb.RunPodSandboxRequest(config=pb.PodSandboxConfig(hostname="x")))
    config = shim.sandbox_config("a" * 300)
    details = expect_code(grpc.StatusCode.INVALID_ARGUMENT, r.RunPodSandbox, pb.RunPodSandboxRequest(config=config))
    assert "limit is 253" in details, details
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, r.RunPodSandbox,
                pb.RunPodSandboxRequest(config=shim.sandbox_config("ok"), runtime_handler="kata"))
    unknown = "f" * 64
    expect_code(grpc.StatusCode.NOT_FOUND, r.PodSandboxStatus, pb.PodSandboxStatusRequest(pod_sandbox_id=unknown))
    expect_code(grpc.StatusCode.NOT_FOUND, r.StopPodSandbox, pb.StopPodSandboxRequest(pod_sandbox_id=unknown))
    r.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=unknown))
    expect_code(grpc.StatusCode.NOT_FOUND, r.ContainerStatus, pb.ContainerStatusRequest(container_id=unknown))
    expect_code(grpc.StatusCode.NOT_FOUND, r.StartContainer, pb.StartContainerRequest(container_id=unknown))
    expect_code(grpc.StatusCode.NOT_FOUND, r.StopContainer, pb.StopContainerRequest(container_id=unknown))
    expect_code(grpc.StatusCode.NOT_FOUND, r.ExecSync, pb.ExecSyncRequest(container_id=unknown, cmd=["true"]))
    expect_code(grpc.StatusCode.NOT_FOUND, r.ContainerStats, pb.ContainerStatsRequest(container_id=unknown))
    r.RemoveContainer(pb.RemoveContainerRequest(container_id=unknown))
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, r.ContainerStatus, pb.ContainerStatusRequest())

    sandbox_config = shim.sandbox_config("valid")
    sandbox_id, _ = shim.run_sandbox(sandbox_config)
    expect_code(grpc.StatusCode.ALREADY_EXISTS, r.RunPodSandbox, pb.RunPodSandboxRequest(config=sandbox_config))
    create = lambda config: r.CreateContainer(pb.CreateContainerRequest(pod_sandbox_id=sandbox_id, config=config, sandbox_config=sandbox_config))
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, create, pb.ContainerConfig(image=pb.ImageSpec(image=BUSYBOX)))
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, create, shim.container_config("x", ["true"], image=""))
    details = expect_code(grpc.StatusCode.NOT_FOUND, create, shim.container_config("x", ["true"], image="localhost/absent:1"))
    assert "localhost/absent:1" in details, details
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, create, shim.container_config("n" * 300, ["true"]))
    expect_code(grpc.StatusCode.NOT_FOUND, r.CreateContainer, pb.CreateContainerRequest(
        pod_sandbox_id=unknown, config=shim.container_config("x", ["true"]), sandbox_config=sandbox_config))
    container_id = shim.run_container(sandbox_id, sandbox_config, shim.container_config("c", ["sleep", "100"]))
    expect_code(grpc.StatusCode.ALREADY_EXISTS, create, shim.container_config("c", ["sleep", "100"]))
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, r.ExecSync, pb.ExecSyncRequest(container_id=container_id))
    details = expect_code(grpc.StatusCode.UNIMPLEMENTED, r.Exec, pb.ExecRequest(container_id=container_id, cmd=["sh"]))
    assert "ExecSync" in details, details
    expect_code(grpc.StatusCode.UNIMPLEMENTED, r.Attach, pb.AttachRequest(container_id=container_id))
    # The shim is unharmed by all of that.
    assert shim.exec(container_id, ["true"]).exit_code == 0

    # NetworkReady follows the CNI configuration, with a reason when it can't be used.
    conflist = os.path.join(shim.cni_dir, "10-test.conflist")
    original = open(conflist).read()
    with open(conflist, "w") as f:
        f.write(original.replace('"type": "portmap"', '"type": "no-such-plugin"'))
    try:
        network = {c.type: c for c in r.Status(pb.StatusRequest()).status.conditions}["NetworkReady"]
        assert not network.status and network.reason == "NetworkPluginNotReady", network
        assert "no-such-plugin" in network.message, network.message
    finally:
        with open(conflist, "w") as f:
            f.write(original)
    assert {c.type: c for c in r.Status(pb.StatusRequest()).status.conditions}["NetworkReady"].status


@scenario(8)
def image_service(shim):
    images = shim.images
    listed = images.ListImages(pb.ListImagesRequest()).images
    assert [list(i.repo_tags) for i in listed] == [[BUSYBOX]], listed
    image = images.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image=BUSYBOX))).image
    assert image.id.startswith("sha256:") and image.size > 0 and image.uid.value == 0, image
    by_id = images.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image=image.id))).image
    assert by_id.id == image.id
    absent = images.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image="localhost/absent:1")))
    assert not absent.HasField("image")
    assert images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=BUSYBOX))).image_ref == image.id
    expect_code(grpc.StatusCode.NOT_FOUND, images.PullImage, pb.PullImageRequest(image=pb.ImageSpec(image="localhost/absent:1")))
    expect_code(grpc.StatusCode.INVALID_ARGUMENT, images.PullImage, pb.PullImageRequest(image=pb.ImageSpec(image="Not A Ref")))
    info = images.ImageFsInfo(pb.ImageFsInfoRequest())
    assert info.image_filesystems[0].used_bytes.value > 0, info
    images.RemoveImage(pb.RemoveImageRequest(image=pb.ImageSpec(image=BUSYBOX)))
    images.RemoveImage(pb.RemoveImageRequest(image=pb.ImageSpec(image=BUSYBOX)))  # idempotent
    assert not images.ListImages(pb.ListImagesRequest()).images


@scenario(9)
def registry_pull(shim):
    import subprocess

    from registry import Registry, add_foreign_platform

    layout = os.path.join(shim.base, "layout")
    subprocess.run([shim.capstan, "image", "build-busybox", "--root", os.path.join(shim.base, "scratch"),
                    "--oci-layout", layout, "localhost/pushed:v1"], check=True, stdout=subprocess.DEVNULL)
    native_manifest = add_foreign_platform(layout)
    registry = Registry(shim.base)
    try:
        registry.push_layout(layout, "v1", "test/busybox:v1", all_platforms=True)
        reference = f"{registry.address}/test/busybox:v1"
        image_ref = shim.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=reference)), timeout=120).image_ref
        assert registry.token_requests >= 1, "the pull went through the bearer-token flow"
        image = shim.images.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image=reference))).image
        assert image.id == image_ref and reference in image.repo_tags, image
        assert f"{registry.address}/test/busybox@{native_manifest}" in image.repo_digests, image.repo_digests
        # By digest, too; and the pulled image runs.
        by_digest = f"{registry.address}/test/busybox@{native_manifest}"
        assert shim.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=by_digest))).image_ref == image_ref
        config = shim.sandbox_config("pulled")
        sandbox_id, _ = shim.run_sandbox(config)
        container_id = shim.run_container(sandbox_id, config, shim.container_config("c", ["echo", "from registry"], image=reference))
        status = shim.wait_for("exit", lambda: (s := shim.status(container_id)).state == pb.CONTAINER_EXITED and s)
        assert status.exit_code == 0 and ("stdout", "F", "from registry") in parse_cri_log(status.log_path)
        expect_code(grpc.StatusCode.NOT_FOUND, shim.images.PullImage,
                    pb.PullImageRequest(image=pb.ImageSpec(image=f"{registry.address}/test/absent:v1")), timeout=60)
        wrong = "sha256:" + "0" * 64
        expect_code(grpc.StatusCode.NOT_FOUND, shim.images.PullImage,
                    pb.PullImageRequest(image=pb.ImageSpec(image=f"{registry.address}/test/busybox@{wrong}")), timeout=60)
    finally:
        registry.close()


@scenario(10)
def import_and_resources(shim):
    """Images imported by the CLI while the shim runs; limits and security context applied."""
    import subprocess

    layout = os.path.join(shim.base, "layout2")
    subprocess.run([shim.capstan, "image", "build-busybox", "--root", os.path.join(shim.base, "scratch"),
                    "--oci-layout", layout, "localhost/tools:v2"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run([shim.capstan, "image", "import", "--root", shim.root, layout], check=True, stdout=subprocess.DEVNULL)
    image = shim.images.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image="localhost/tools:v2"))).image
    assert "localhost/tools:v2" in image.repo_tags, image
    # `docker save` archives import too (made here by skopeo from the same layout).
    archive = os.path.join(shim.base, "saved.tar")
    subprocess.run(["skopeo", "copy", f"oci:{layout}:v2", f"docker-archive:{archive}:localhost/saved:v3"], check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([shim.capstan, "image", "import", "--root", shim.root, archive], check=True, stdout=subprocess.DEVNULL)
    saved = shim.images.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image="localhost/saved:v3"))).image
    assert saved.id == image.id, (saved, image)  # same config blob, same image id

    config = shim.sandbox_config("limited")
    sandbox_id, _ = shim.run_sandbox(config)
    container = shim.container_config("c", ["sleep", "1000"], image="localhost/tools:v2")
    container.linux.resources.memory_limit_in_bytes = 64 * 1024 * 1024
    container.linux.resources.cpu_shares = 512
    container.linux.resources.cpu_quota = 50000
    container.linux.resources.cpu_period = 100000
    security = container.linux.security_context
    security.run_as_user.value = 65534
    security.readonly_rootfs = True
    security.capabilities.drop_capabilities.append("ALL")
    security.capabilities.add_capabilities.append("NET_BIND_SERVICE")
    security.no_new_privs = True
    shared = os.path.join(shim.base, "shared")
    os.makedirs(shared)
    with open(os.path.join(shared, "greeting"), "w") as f:
        f.write("from the host")
    container.mounts.append(pb.Mount(container_path="/data", host_path=shared, readonly=True))
    container_id = shim.run_container(sandbox_id, config, container)
    assert shim.exec(container_id, ["cat", "/data/greeting"]).stdout == b"from the host"
    assert shim.exec(container_id, ["touch", "/data/new"]).exit_code != 0, "read-only bind mount"
    result = shim.exec(container_id, ["sh", "-c",
                                      "id -u; cat /sys/fs/cgroup/memory/memory.limit_in_bytes; "
                                      "cat /sys/fs/cgroup/cpu/cpu.shares /sys/fs/cgroup/cpu/cpu.cfs_quota_us; "
                                      "grep CapBnd /proc/self/status; grep NoNewPrivs /proc/self/status; "
                                      "touch /rootfs-write 2>/dev/null && echo writable || echo read-only"])
    lines = result.stdout.decode().split("\n")
    assert lines[0] == "65534", lines
    assert lines[1] == str(64 * 1024 * 1024), lines
    assert lines[2:4] == ["512", "50000"], lines
    assert lines[4].split() == ["CapBnd:", "0000000000000400"], lines  # NET_BIND_SERVICE only
    assert lines[5].split() == ["NoNewPrivs:", "1"], lines
    assert lines[6] == "read-only", lines

    shim.runtime.UpdateContainerResources(pb.UpdateContainerResourcesRequest(
        container_id=container_id, linux=pb.LinuxContainerResources(memory_limit_in_bytes=96 * 1024 * 1024)))
    limit = shim.exec(container_id, ["cat", "/sys/fs/cgroup/memory/memory.limit_in_bytes"]).stdout.decode().strip()
    assert limit == str(96 * 1024 * 1024), limit

    # Seccomp: the runtime default refuses namespace creation; a Localhost profile is loaded
    # from its path; Unconfined (and an unset profile) filter nothing.
    profile = os.path.join(shim.base, "no-mkdir.json")
    with open(profile, "w") as f:
        json.dump({"defaultAction": "SCMP_ACT_ALLOW",
                   "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}, f)
    for name, profile_type, ref, probe, allowed in (
            ("sc-default", pb.SecurityProfile.RuntimeDefault, "", "unshare -n true", False),
            ("sc-unconfined", pb.SecurityProfile.Unconfined, "", "unshare -n true", True),
            ("sc-local", pb.SecurityProfile.Localhost, profile, "mkdir /tmp/x", False)):
        probe_config = shim.container_config(name, ["sleep", "100"])
        probe_config.linux.security_context.capabilities.add_capabilities.append("SYS_ADMIN")
        probe_config.linux.security_context.seccomp.profile_type = profile_type
        probe_config.linux.security_context.seccomp.localhost_ref = ref
        probe_id = shim.run_container(sandbox_id, config, probe_config)
        code = shim.exec(probe_id, ["sh", "-c", probe]).exit_code
        assert (code == 0) == allowed, f"{name}: {probe} exited {code}"
    bad = shim.container_config("sc-missing", ["true"])
    bad.linux.security_context.seccomp.profile_type = pb.SecurityProfile.Localhost
    bad.linux.security_context.seccomp.localhost_ref = "/nonexistent/profile.json"
    expect_code(grpc.StatusCode.NOT_FOUND, shim.runtime.CreateContainer,
                pb.CreateContainerRequest(pod_sandbox_id=sandbox_id, config=bad, sandbox_config=config))

    # Log rotation: the kubelet renames the file, then asks for a reopen.
    talker = shim.run_container(sandbox_id, config, shim.container_config(
        "talker", ["sh", "-c", "i=0; while true; do echo line $i; i=$((i+1)); sleep 0.05; done"]))
    log_path = shim.status(talker).log_path
    shim.wait_for("first lines", lambda: len(parse_cri_log(log_path)) >= 2)
    os.rename(log_path, log_path + ".1")
    shim.runtime.ReopenContainerLog(pb.ReopenContainerLogRequest(container_id=talker))
    shim.wait_for("lines in the new file", lambda: os.path.exists(log_path) and len(parse_cri_log(log_path)) >= 2)

    # A memory hog is OOM-killed and reported so.
    hog = shim.container_config("hog", ["sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); sleep 5"])
    hog.linux.resources.memory_limit_in_bytes = 16 * 1024 * 1024
    hog_id = shim.run_container(sandbox_id, config, hog)
    status = shim.wait_for("OOM kill", lambda: (s := shim.status(hog_id)).state == pb.CONTAINER_EXITED and s, seconds=30)
    assert status.reason == "OOMKilled" and status.exit_code == 137, status


@scenario(11)
def layered_image_whiteouts(shim):
    """A three-layer image whose top layer deletes a file and makes a folder opaque: the
    container must see the merged result, as overlayfs does with OCI whiteouts converted."""
    import gzip
    import hashlib
    import io
    import json
    import tarfile

    layout = os.path.join(shim.base, "layered")
    subprocess.run([shim.capstan, "image", "build-busybox", "--root", os.path.join(shim.base, "scratch"),
                    "--oci-layout", layout, "localhost/layered:v1"], check=True, stdout=subprocess.DEVNULL)

    def blob(data):
        digest = hashlib.sha256(data).hexdigest()
        with open(os.path.join(layout, "blobs", "sha256", digest), "wb") as f:
            f.write(data)
        return "sha256:" + digest

    def layer(files):
        raw = io.BytesIO()
        with tarfile.open(fileobj=raw, mode="w") as tar:
            for name, content in files:
                info = tarfile.TarInfo(name)
                if content is None:
                    info.type = tarfile.DIRTYPE
                    info.mode = 0o755
                    tar.addfile(info)
                else:
                    info.size = len(content)
                    tar.addfile(info, io.BytesIO(content))
        uncompressed = raw.getvalue()
        compressed = gzip.compress(uncompressed, mtime=0)
        return ({"mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": blob(compressed),
                 "size": len(compressed)}, "sha256:" + hashlib.sha256(uncompressed).hexdigest())

    index = json.load(open(os.path.join(layout, "index.json")))
    manifest = json.load(open(os.path.join(layout, "blobs", "sha256", index["manifests"][0]["digest"][7:])))
    config = json.load(open(os.path.join(layout, "blobs", "sha256", manifest["config"]["digest"][7:])))
    for files in ([("stuff", None), ("stuff/a", b"a"), ("stuff/b", b"b")],
                  [("stuff", None), ("stuff/.wh..wh..opq", b""), ("stuff/c", b"c"), ("bin/.wh.vi", b"")]):
        descriptor, diff_id = layer(files)
        manifest["layers"].append(descriptor)
        config["rootfs"]["diff_ids"].append(diff_id)
    config_data = json.dumps(config).encode()
    manifest["config"] = {"mediaType": manifest["config"]["mediaType"], "digest": blob(config_data), "size": len(config_data)}
    manifest_data = json.dumps(manifest).encode()
    index["manifests"][0].update(digest=blob(manifest_data), size=len(manifest_data))
    json.dump(index, open(os.path.join(layout, "index.json"), "w"))
    subprocess.run([shim.capstan, "image", "import", "--root", shim.root, layout], check=True, stdout=subprocess.DEVNULL)

    sandbox_config = shim.sandbox_config("layers")
    sandbox_id, _ = shim.run_sandbox(sandbox_config)
    container_id = shim.run_container(sandbox_id, sandbox_config, shim.container_config(
        "c", ["sleep", "100"], image="localhost/layered:v1"))
    result = shim.exec(container_id, ["sh", "-c", "ls /stuff; test -e /bin/vi && echo vi-present || echo vi-deleted"])
    assert result.stdout.decode().split() == ["c", "vi-deleted"], result.stdout
    # Changes stay in the container's own upper layer; the shared layers are untouched.
    shim.exec(container_id, ["sh", "-c", "echo mine > /stuff/c"])
    other = shim.run_container(sandbox_id, sandbox_config, shim.container_config(
        "d", ["sleep", "100"], image="localhost/layered:v1"))
    assert shim.exec(other, ["cat", "/stuff/c"]).stdout == b"c"


@scenario(12)
def kill_during_pod_start(shim):
    """kill -9 of the shim while pods are being started, at a few different moments: after a
    restart every pod can be removed and nothing is left (mounts, netns, IPs, processes)."""
    import threading

    for attempt, delay in enumerate((0.005, 0.02, 0.05, 0.1)):
        config = shim.sandbox_config(f"crash{attempt}")
        container = shim.container_config("c", ["sleep", "1000"])

        def start_pod():
            try:
                sandbox_id, _ = shim.run_sandbox(config)
                shim.run_container(sandbox_id, config, container)
            except grpc.RpcError:
                pass  # the shim died under the call

        caller = threading.Thread(target=start_pod)
        caller.start()
        time.sleep(delay)
        shim.seen_pids.add(shim.process.pid)
        shim.kill9()
        caller.join(timeout=30)
        shim.start()
    for sandbox in shim.runtime.ListPodSandbox(pb.ListPodSandboxRequest()).items:
        shim.created_sandboxes.add(sandbox.id)
    assert_nothing_left(shim)
    ipam = os.path.join(shim.base, "ipam")
    leased = [name for root, _, files in os.walk(ipam) for name in files if name[0].isdigit()]
    assert not leased, f"pod IPs still leased after removing every pod: {leased}"


@scenario(13)
def hostile_registry(shim):
    """Hostile manifests and layers from a registry on loopback: each pull fails with a clear
    error, and nothing is written outside the image store (nor left half-written in it)."""
    import hashlib

    from hostile_registry import BASIC, PASSWORD, USER, HostileRegistry

    limits = (5 << 20, 6 << 20, 8 << 20)  # per blob, per image, per unpacked layer
    shim.stop()
    shim.extra_args = ["--max-blob-bytes", str(limits[0]), "--max-image-bytes", str(limits[1]),
                       "--max-unpacked-layer-bytes", str(limits[2])]
    shim.start()
    outside = os.path.join(shim.base, "outside")
    os.makedirs(outside)
    victim = os.path.join(outside, "victim")
    with open(victim, "w") as f:
        f.write("untouched")
    store = os.path.join(shim.root, "images")
    layers_before = set(os.listdir(os.path.join(store, "layers")))
    registry = HostileRegistry(outside, limits)
    auth = pb.AuthConfig(username=USER, password=PASSWORD)
    invalid, exhausted = grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED
    cases = [
        ("bad-digest", invalid, 'layer 1 of manifest sha256:'),
        ("bad-digest", invalid, 'has an invalid digest "sha256:ZZZZ'),
        ("dotdot-digest", invalid, 'the configuration of manifest sha256:'),
        ("dotdot-digest", invalid, 'has an invalid digest "sha256:../'),
        ("dotdot-layer-digest", invalid, 'has an invalid digest "sha256:../'),
        ("oversized-blob", exhausted, f"more than the {limits[0]}-byte limit for one blob"),
        ("oversized-config", exhausted, "more than the 4194304-byte limit for a configuration"),
        ("oversized-image", exhausted, f"more than the {limits[1]}-byte limit for one image"),
        ("overflowing-sizes", exhausted, f"more than the {limits[0]}-byte limit for one blob"),
        ("lying-size-longer", invalid, "the registry sent more than the 100 bytes its descriptor declares"),
        ("lying-size-shorter", invalid, "but its descriptor declares"),
        ("gzip-bomb", exhausted, f"unpacks to more than the {limits[2]}-byte limit"),
        ("absolute-path", invalid, f'with the absolute path "{outside}/absolute"'),
        ("dotdot-path", invalid, "climbs out with `..`"),
        ("symlink-escape", invalid, 'written through the symbolic link "escape"'),
        ("relative-symlink-escape", invalid, 'written through the symbolic link "up"'),
        ("hardlink-escape", invalid, f'with the absolute path "{victim}"'),
        ("hardlink-dotdot", invalid, "climbs out with `..`"),
        ("endless-manifest", exhausted, "is larger than the 4194304-byte limit"),
    ]
    failures = []
    try:
        for repo, code, fragment in cases:
            reference = registry.reference(repo)
            try:
                shim.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=reference), auth=auth), timeout=120)
                failures.append(f"{repo}: the pull succeeded")
                continue
            except grpc.RpcError as error:
                if error.code() != code or fragment not in error.details():
                    failures.append(f"{repo}: expected {code} with {fragment!r}, got {error.code()}: {error.details()}")
            status = shim.images.ImageStatus(pb.ImageStatusRequest(image=pb.ImageSpec(image=reference)))
            if status.HasField("image"):
                failures.append(f"{repo}: the image was registered anyway")
        assert not failures, "\n".join(failures)
        assert registry.main.seen("/v2/endless-manifest/"), "the endless manifest was requested"

        # Credentials: to the registry's own token realm, never to another host's realm,
        # never along a redirect to another host; and the well-behaved images do pull.
        good = shim.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=registry.reference("good")),
                                                         auth=auth), timeout=120).image_ref
        assert good.startswith("sha256:"), good
        own_realm = registry.main.seen("/token")
        assert own_realm and all(header == BASIC for _, header in own_realm), own_realm
        storage = registry.other.seen("/storage/")
        assert storage, "the blobs were fetched from the storage host the registry redirected to"
        assert all(header is None for _, header in storage), f"credentials followed a redirect: {storage}"
        shim.images.PullImage(pb.PullImageRequest(image=pb.ImageSpec(image=registry.reference("foreign-realm")),
                                                  auth=auth), timeout=120)
        foreign_realm = registry.other.seen("/token")
        assert foreign_realm, "the foreign realm was asked for a token"
        assert all(header is None for _, header in foreign_realm), f"credentials went to a foreign realm: {foreign_realm}"
    finally:
        registry.close()

    # Nothing outside the store: the folder every escape aimed at holds only the untouched victim.
    assert os.listdir(outside) == ["victim"], os.listdir(outside)
    with open(victim) as f:
        assert f.read() == "untouched"
    assert os.stat(victim).st_nlink == 1, "a layer hard-linked the victim"
    # Nothing half-written inside it: no temporary files, every blob is whole and verified,
    # and every unpacked layer belongs to a registered image.
    assert not os.listdir(os.path.join(store, "tmp")), os.listdir(os.path.join(store, "tmp"))
    blobs = os.path.join(store, "blobs", "sha256")
    for name in os.listdir(blobs):
        with open(os.path.join(blobs, name), "rb") as f:
            assert hashlib.sha256(f.read()).hexdigest() == name, f"blob {name} is not what its name says"
    with open(os.path.join(store, "images.json")) as f:
        registered = {layer[7:] for image in json.load(f) for layer in image["layers"]}
    layers = set(os.listdir(os.path.join(store, "layers")))
    assert layers_before <= layers and layers == registered, (layers, registered)


@scenario(14)
def state_files_are_private(shim):
    """Records and OCI bundles hold pod specs, env values from Secrets among them: the state
    folders are 0700 and those files 0600, while containers still run as non-root users."""
    import stat

    config = shim.sandbox_config("private")
    sandbox_id, _ = shim.run_sandbox(config)
    container = shim.container_config("c", ["sleep", "1000"], envs=[pb.KeyValue(key="PASSWORD", value=b"from-a-secret")])
    container.linux.security_context.run_as_user.value = 65534
    container_id = shim.run_container(sandbox_id, config, container)

    def mode(*parts):
        return stat.S_IMODE(os.stat(os.path.join(shim.root, *parts)).st_mode)

    folders = ["", "sandboxes", f"sandboxes/{sandbox_id}", "containers", f"containers/{container_id}",
               f"containers/{container_id}/bundle", "images", "images/blobs", "images/layers", "images/tmp"]
    files = [f"sandboxes/{sandbox_id}/sandbox.json", f"containers/{container_id}/container.json",
             f"containers/{container_id}/bundle/config.json", f"containers/{container_id}/monitor.json",
             "images/images.json"]
    wrong = [f"{path or 'root'}: {oct(mode(path))}" for path in folders if mode(path) != 0o700]
    wrong += [f"{path}: {oct(mode(path))}" for path in files if mode(path) != 0o600]
    assert not wrong, f"state readable by others: {wrong}"
    with open(os.path.join(shim.root, "containers", container_id, "bundle", "config.json")) as f:
        assert "from-a-secret" in f.read(), "the checked config.json is the one holding the env"
    # The container's own view is unchanged: a non-root user reads / and the pod's files.
    result = shim.exec(container_id, ["sh", "-c", "id -u; ls / >/dev/null && cat /etc/hostname /etc/resolv.conf >/dev/null && echo readable"])
    assert result.stdout.decode().split() == ["65534", "readable"], (result.stdout, result.stderr)


def assert_nothing_left(shim):
    """After removing every pod through the API, nothing of them may remain on the host."""
    if shim.process is None or shim.process.poll() is not None:
        return
    for sandbox in shim.runtime.ListPodSandbox(pb.ListPodSandboxRequest()).items:
        shim.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox.id), timeout=60)
    assert not shim.runtime.ListContainers(pb.ListContainersRequest()).containers

    def leftovers():
        found = []
        with open("/proc/self/mountinfo") as f:
            found += [line.split()[4] for line in f if shim.root in line.split()[4]]
        netns = os.listdir("/var/run/netns") if os.path.isdir("/var/run/netns") else []  # made by the first pod
        found += [f"netns {name}" for name in netns
                  if any(name == f"capstan-{sandbox_id[:16]}" for sandbox_id in shim.created_sandboxes)]
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
                with open(f"/proc/{pid}/stat") as f:
                    state = f.read().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            helper = ("cri-monitor" in cmdline and "--spare" not in cmdline) or "cri-pause" in cmdline
            if helper and shim.root in cmdline and state != "Z":
                found.append(f"helper pid {pid}: {cmdline}")
        return found

    deadline = time.monotonic() + 5
    while (left := leftovers()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not left, f"left behind after removing every pod: {left}"


@scenario(13)
def seccomp_runtime_default(shim):
    """RuntimeDefault, the allow-list: an ordinary workload (busybox httpd answering over the pod
    network, a shell pipeline) runs, making a user namespace fails with EPERM even as root, and
    Unconfined lets the same command through."""
    config = shim.sandbox_config("seccomp")
    sandbox_id, status = shim.run_sandbox(config)

    def container(name, profile_type, command):
        config_ = shim.container_config(name, command)
        config_.linux.security_context.seccomp.profile_type = profile_type
        return shim.run_container(sandbox_id, config, config_)

    confined = container("confined", pb.SecurityProfile.RuntimeDefault, HTTP_SERVER)
    unconfined = container("unconfined", pb.SecurityProfile.Unconfined, ["sleep", "1000"])
    # The filter is installed (mode 2) only where it was asked for.
    assert shim.exec(confined, ["grep", "Seccomp:", "/proc/self/status"]).stdout.decode().split() == ["Seccomp:", "2"]
    assert shim.exec(unconfined, ["grep", "Seccomp:", "/proc/self/status"]).stdout.decode().split() == ["Seccomp:", "0"]

    plain = shim.exec(confined, ["sh", "-c", "echo plain | tr a-z A-Z; ls / >/dev/null; id -u"])
    assert plain.exit_code == 0 and plain.stdout.decode().split() == ["PLAIN", "0"], plain
    assert shim.wait_for("httpd under RuntimeDefault", lambda: http_get(shim, unconfined, status.network.ip)) == "pong-seccomp"

    refused = shim.exec(confined, ["unshare", "-U", "true"])
    assert refused.exit_code != 0, refused
    assert b"Operation not permitted" in refused.stderr, refused.stderr
    allowed = shim.exec(unconfined, ["unshare", "-U", "true"])
    assert allowed.exit_code == 0, allowed.stderr
    # An allow-list: chroot, which the container's default CAP_SYS_CHROOT permits, is not on it.
    assert shim.exec(unconfined, ["chroot", "/", "true"]).exit_code == 0
    chrooted = shim.exec(confined, ["chroot", "/", "true"])
    assert chrooted.exit_code != 0 and b"Operation not permitted" in chrooted.stderr, chrooted

    # The starter repository's web server as the agent runs it: user 65534, no capabilities,
    # no privilege escalation, a read-only root and RuntimeDefault; it serves a mounted page.
    www = os.path.join(shim.base, "www")
    os.makedirs(www)
    with open(os.path.join(www, "index.html"), "w") as f:
        f.write("from the template")
    os.chmod(www, 0o755)
    template_config = shim.sandbox_config("template")
    template_sandbox, template_status = shim.run_sandbox(template_config)
    web = shim.container_config("httpd", ["httpd", "-f", "-v", "-p", "8080", "-h", "/www"])
    security = web.linux.security_context
    security.run_as_user.value = 65534
    security.run_as_group.value = 65534
    security.capabilities.drop_capabilities.append("ALL")
    security.no_new_privs = True
    security.readonly_rootfs = True
    security.seccomp.profile_type = pb.SecurityProfile.RuntimeDefault
    web.mounts.append(pb.Mount(container_path="/www", host_path=www, readonly=True))
    shim.run_container(template_sandbox, template_config, web)
    page = shim.wait_for("the template's httpd", lambda: http_get(shim, unconfined, template_status.network.ip))
    assert page == "from the template", page


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("scenario", choices=sorted(SCENARIOS))
    parser.add_argument("--capstan", required=True)
    args = parser.parse_args()
    index, function = SCENARIOS[args.scenario]
    shim = Shim(args.capstan, index=index, name=args.scenario)
    try:
        shim.build_busybox()
        shim.start()
        function(shim)
        assert_nothing_left(shim)
    except Exception:
        traceback.print_exc()
        print(f"shim log: {open(os.path.join(shim.base, 'shim.log'), errors='replace').read()[-4000:]}")
        print("0 passed, 1 failed")
        return 1
    finally:
        shim.cleanup()
    print("1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
