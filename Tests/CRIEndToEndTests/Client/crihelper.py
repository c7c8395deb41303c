"""A CRI v1 client harness for end-to-end tests of `capstan cri`.

Stubs are generated at run time with grpcio-tools from the proto copy Capstan's Swift code
is generated from (scripts/cri/api.proto), so client and server share one definition.
Each `Shim` gets its own state root, socket, CNI network (bridge, subnet, IPAM folder), and
`cleanup()` removes everything it made even after a failure: containers (runc delete
--force), monitor and shim processes (by PID), mounts, network namespaces, the bridge.
"""
import atexit
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
PROTO_DIR = os.path.join(REPO, "scripts", "cri")


def load_stubs(proto_dir=PROTO_DIR):
    """Generates api_pb2 / api_pb2_grpc into a temp folder and imports them."""
    from grpc_tools import protoc

    out = tempfile.mkdtemp(prefix="capstan-cri-py-")
    atexit.register(shutil.rmtree, out, True)
    rc = protoc.main(["protoc", f"-I{proto_dir}", f"--python_out={out}", f"--grpc_python_out={out}", "api.proto"])
    if rc != 0:
        raise RuntimeError("grpc_tools.protoc failed")
    sys.path.insert(0, out)
    import api_pb2, api_pb2_grpc  # noqa: E401

    return api_pb2, api_pb2_grpc


pb, pb_grpc = load_stubs()
import grpc  # noqa: E402


def network_slot(index):
    """A (bridge, subnet) pair unique to this process and scenario index."""
    tag = os.getpid() % 40
    return f"crt{tag}x{index}", f"10.{200 + tag}.{index}.0/24"


class Shim:
    def __init__(self, capstan, index=0, name="e2e"):
        self.capstan = capstan
        self.base = tempfile.mkdtemp(prefix=f"capstan-cri-{name}-")
        self.root = os.path.join(self.base, "root")
        self.socket = os.path.join(self.base, "cri.sock")
        self.cni_dir = os.path.join(self.base, "net.d")
        self.log_dir = os.path.join(self.base, "logs")
        os.makedirs(self.cni_dir)
        os.makedirs(self.log_dir)
        self.bridge, self.subnet = network_slot(index)
        conf = {
            "cniVersion": "1.0.0",
            "name": f"capstan-test-{self.bridge}",
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": self.bridge,
                    "isGateway": True,
                    "ipMasq": False,
                    "hairpinMode": True,
                    "ipam": {
                        "type": "host-local",
                        "ranges": [[{"subnet": self.subnet}]],
                        "dataDir": os.path.join(self.base, "ipam"),
                    },
                },
                {"type": "portmap", "capabilities": {"portMappings": True}},
            ],
        }
        with open(os.path.join(self.cni_dir, "10-test.conflist"), "w") as f:
            json.dump(conf, f)
        self.process = None
        self.extra_args = []  # more `capstan cri` flags, for the next start()
        self.channel = None
        self.seen_pids = set()
        self.seen_sandboxes = set()
        self.created_sandboxes = set()

    # -- lifecycle -------------------------------------------------------------------

    def build_busybox(self, name="localhost/busybox:latest"):
        subprocess.run([self.capstan, "image", "build-busybox", "--root", self.root, name], check=True,
                       stdout=subprocess.DEVNULL)

    def start(self):
        self.output = open(os.path.join(self.base, "shim.log"), "ab")
        self.process = subprocess.Popen(
            [self.capstan, "cri", "--socket", self.socket, "--root", self.root, "--cni-conf-dir", self.cni_dir,
             "--log-level", "debug"] + self.extra_args,
            stdout=subprocess.PIPE, stderr=self.output)
        line = self.process.stdout.readline().decode()
        if "listening on" not in line:
            raise RuntimeError(f"shim did not start: {line!r}; see {self.base}/shim.log")
        # 16 MiB, as the kubelet's CRI client allows.
        self.channel = grpc.insecure_channel(f"unix://{self.socket}",
                                             options=[("grpc.max_receive_message_length", 16 << 20)])
        self.runtime = pb_grpc.RuntimeServiceStub(self.channel)
        self.images = pb_grpc.ImageServiceStub(self.channel)
        return self

    def kill9(self):
        """Kills the shim abruptly (SIGKILL), leaving containers to their monitors."""
        if self.channel:
            self.channel.close()
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self):
        if self.channel:
            self.channel.close()
            self.channel = None
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def cleanup(self):
        """Removes everything this shim made, gracefully if possible, by force otherwise."""
        try:
            if self.process and self.process.poll() is None:
                for sandbox in self.runtime.ListPodSandbox(pb.ListPodSandboxRequest(), timeout=30).items:
                    try:
                        self.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox.id), timeout=60)
                    except grpc.RpcError:
                        pass
        except Exception:
            pass
        self.stop()
        runc_root = os.path.join(self.root, "runc")
        for path in glob.glob(os.path.join(self.root, "containers", "*", "container.json")):
            with open(path) as f:
                record = json.load(f)
            subprocess.run(["runc", "--root", runc_root, "delete", "--force", record["id"]],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            self.seen_pids.add(record.get("monitorPID"))
        # PID-namespace holders (unshare --pid=<sandbox>/pid … cri-pause) of this root's pods:
        # matched by their exact --pid= argument; unshare ignores SIGTERM, so SIGKILL.
        holder_args = {f"--pid={path}".encode() for path in glob.glob(os.path.join(self.root, "sandboxes", "*", "pid"))}
        for pid in filter(str.isdigit, os.listdir("/proc")):
            try:
                with open(f"/proc/{pid}/cmdline", "rb") as f:
                    arguments = set(f.read().split(b"\0"))
            except OSError:
                continue
            if arguments & holder_args:
                self.seen_pids.add(int(pid))
        for pid in self.seen_pids:
            if pid:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
        for path in glob.glob(os.path.join(self.root, "sandboxes", "*", "sandbox.json")):
            with open(path) as f:
                record = json.load(f)
            if record.get("netnsPath"):
                self.cni_delete(record)
                self.seen_sandboxes.add(record["netnsPath"])
        with open("/proc/self/mountinfo") as f:
            mounts = [line.split()[4] for line in f]
        for target in sorted((m for m in mounts if m.startswith(self.base)), key=len, reverse=True):
            subprocess.run(["umount", "-l", target], stderr=subprocess.DEVNULL)
        for netns in self.seen_sandboxes:
            if os.path.exists(netns):
                subprocess.run(["umount", "-l", netns], stderr=subprocess.DEVNULL)
                os.unlink(netns)
        subprocess.run(["ip", "link", "del", self.bridge], stderr=subprocess.DEVNULL)
        for cgroup in glob.glob(f"/sys/fs/cgroup/*/capstan/*"):
            # Only our own sandboxes' cgroup parents (named by sandbox id).
            if os.path.basename(cgroup) in self.sandbox_ids():
                for child in glob.glob(os.path.join(cgroup, "*/")):
                    try:
                        os.rmdir(child)
                    except OSError:
                        pass
                try:
                    os.rmdir(cgroup)
                except OSError:
                    pass
        shutil.rmtree(self.base, ignore_errors=True)

    def sandbox_ids(self):
        return {os.path.basename(os.path.dirname(p)) for p in glob.glob(os.path.join(self.root, "sandboxes", "*", "sandbox.json"))}

    def cni_delete(self, record):
        """DEL through the test chain (portmap, bridge) so iptables rules and IPs go away."""
        conf = json.load(open(os.path.join(self.cni_dir, "10-test.conflist")))
        for plugin in reversed(conf["plugins"]):
            body = dict(plugin, name=conf["name"], cniVersion=conf["cniVersion"])
            env = dict(os.environ, CNI_COMMAND="DEL", CNI_CONTAINERID=record["id"], CNI_NETNS=record["netnsPath"],
                       CNI_IFNAME="eth0", CNI_PATH="/usr/lib/cni")
            subprocess.run([f"/usr/lib/cni/{plugin['type']}"], input=json.dumps(body).encode(), env=env,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    # -- helpers ---------------------------------------------------------------------

    def sandbox_config(self, name, uid=None, port_mappings=(), hostname=None):
        config = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, namespace="e2e", uid=uid or f"uid-{name}", attempt=0),
            hostname=hostname or name,
            log_directory=os.path.join(self.log_dir, name),
            labels={"app": name, "suite": "e2e"},
        )
        for host_port, container_port in port_mappings:
            config.port_mappings.append(pb.PortMapping(protocol=pb.TCP, container_port=container_port, host_port=host_port))
        return config

    def run_sandbox(self, config):
        response = self.runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=config), timeout=60)
        self.created_sandboxes.add(response.pod_sandbox_id)
        status = self.runtime.PodSandboxStatus(pb.PodSandboxStatusRequest(pod_sandbox_id=response.pod_sandbox_id))
        return response.pod_sandbox_id, status.status

    def container_config(self, name, command, image="localhost/busybox:latest", **extra):
        return pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name=name, attempt=0),
            image=pb.ImageSpec(image=image),
            command=command,
            log_path=f"{name}.log",
            labels={"container": name},
            **extra,
        )

    def run_container(self, sandbox_id, sandbox_config, config):
        created = self.runtime.CreateContainer(
            pb.CreateContainerRequest(pod_sandbox_id=sandbox_id, config=config, sandbox_config=sandbox_config), timeout=60)
        self.runtime.StartContainer(pb.StartContainerRequest(container_id=created.container_id), timeout=60)
        return created.container_id

    def status(self, container_id):
        return self.runtime.ContainerStatus(pb.ContainerStatusRequest(container_id=container_id), timeout=30).status

    def exec(self, container_id, cmd, timeout=10):
        return self.runtime.ExecSync(pb.ExecSyncRequest(container_id=container_id, cmd=cmd, timeout=timeout),
                                     timeout=timeout + 30)

    def wait_for(self, what, predicate, seconds=15.0):
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            value = predicate()
            if value:
                return value
            time.sleep(0.05)
        raise AssertionError(f"timed out after {seconds}s waiting for {what}")


def expect_code(code, call, *args, **kwargs):
    """Asserts that a gRPC call fails with `code`; returns the error details."""
    try:
        call(*args, **kwargs)
    except grpc.RpcError as error:
        assert error.code() == code, f"expected {code}, got {error.code()}: {error.details()}"
        return error.details()
    raise AssertionError(f"expected {code}, but the call succeeded")


def parse_cri_log(path):
    """Returns [(stream, tag, content)] after checking every line's timestamp format."""
    import re

    pattern = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) (P|F) (.*)$")
    records = []
    with open(path) as f:
        for line in f.read().splitlines():
            match = pattern.match(line)
            assert match, f"not a CRI log line: {line!r}"
            records.append((match.group(2), match.group(3), match.group(4)))
    return records
