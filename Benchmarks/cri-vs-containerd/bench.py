"""Pod start latency of a CRI runtime: RunPodSandbox → container Running.

Starts N pods of one busybox container each, first one at a time, then `--concurrency` at
a time, through the CRI v1 API over a unix socket, and reports p50/p99 and the memory of
the runtime's processes while all pods run. Used by run.sh against `capstan cri` and
containerd's CRI plugin alike (same client, same image, same CNI plugins).
"""
import argparse
import concurrent.futures
import json
import os
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "Tests", "CRIEndToEndTests", "Client"))
from crihelper import pb, pb_grpc  # noqa: E402
import grpc  # noqa: E402


def percentile(values, fraction):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[index]


def process_memory_kib(pids):
    """Proportional set size (PSS) summed over `pids`: shared pages (one binary's text, shared
    libraries) are split among the processes that map them, so many small per-pod helpers
    are neither over- nor under-counted."""
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/smaps_rollup") as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
        except (FileNotFoundError, ProcessLookupError):
            pass
    return total


def pids_named(fragment):
    found = []
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                cmdline = f.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if fragment in cmdline:
            found.append(int(pid))
    return found


class Runner:
    def __init__(self, socket_path, image, log_dir, tag):
        self.channel = grpc.insecure_channel(f"unix://{socket_path}")
        self.runtime = pb_grpc.RuntimeServiceStub(self.channel)
        self.image = image
        self.log_dir = log_dir
        self.tag = tag
        self.pods = []

    def start_pod(self, index):
        name = f"bench-{self.tag}-{index}"
        config = pb.PodSandboxConfig(
            metadata=pb.PodSandboxMetadata(name=name, namespace="bench", uid=f"uid-{name}", attempt=0),
            hostname=name, log_directory=os.path.join(self.log_dir, name))
        config.linux.security_context.namespace_options.pid = pb.CONTAINER
        container = pb.ContainerConfig(
            metadata=pb.ContainerMetadata(name="main", attempt=0), image=pb.ImageSpec(image=self.image),
            command=["sleep", "3600"], log_path="main.log")
        container.linux.security_context.namespace_options.pid = pb.CONTAINER
        started = time.perf_counter()
        sandbox_id = self.runtime.RunPodSandbox(pb.RunPodSandboxRequest(config=config), timeout=120).pod_sandbox_id
        container_id = self.runtime.CreateContainer(pb.CreateContainerRequest(
            pod_sandbox_id=sandbox_id, config=container, sandbox_config=config), timeout=120).container_id
        self.runtime.StartContainer(pb.StartContainerRequest(container_id=container_id), timeout=120)
        while self.runtime.ContainerStatus(pb.ContainerStatusRequest(container_id=container_id)).status.state != pb.CONTAINER_RUNNING:
            time.sleep(0.001)
        elapsed = time.perf_counter() - started
        self.pods.append(sandbox_id)
        return elapsed

    def remove_all(self):
        for sandbox_id in self.pods:
            self.runtime.StopPodSandbox(pb.StopPodSandboxRequest(pod_sandbox_id=sandbox_id), timeout=120)
            self.runtime.RemovePodSandbox(pb.RemovePodSandboxRequest(pod_sandbox_id=sandbox_id), timeout=120)
        self.pods = []


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--socket", required=True)
    parser.add_argument("--image", required=True)
    parser.add_argument("--pods", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=10)
    parser.add_argument("--log-dir", required=True)
    parser.add_argument("--label", required=True)
    parser.add_argument("--process", action="append", default=[],
                        help="command-line fragment of the runtime's processes, for memory")
    args = parser.parse_args()

    runner = Runner(args.socket, args.image, args.log_dir, "warmup")
    runner.start_pod(0)  # first pod pays one-time costs (bridge creation, caches)
    runner.remove_all()

    results = {"label": args.label}
    runner.tag = "seq"
    sequential = [runner.start_pod(i) for i in range(args.pods)]
    pids = sorted({pid for fragment in args.process for pid in pids_named(fragment)})
    results["memory_kib_with_pods"] = process_memory_kib(pids)
    results["processes"] = len(pids)
    runner.remove_all()
    runner.tag = "par"
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.concurrency) as pool:
        parallel = list(pool.map(runner.start_pod, range(args.pods)))
    runner.remove_all()
    for name, values in (("sequential", sequential), ("concurrent", parallel)):
        results[name] = {
            "p50_ms": round(percentile(values, 0.50) * 1000, 1),
            "p99_ms": round(percentile(values, 0.99) * 1000, 1),
            "mean_ms": round(statistics.mean(values) * 1000, 1),
        }
    print(json.dumps(results))


if __name__ == "__main__":
    main()
