"""Load generator for Benchmarks/api-load.sh: drives a running `capstan server`
over plain HTTP/1.1 on loopback and prints a Markdown table.

Usage: api_load.py BASE_URL [--creates N] [--gets N] [--concurrency C]
                   [--watchers W] [--writes N] [--token TOKEN]

One asyncio loop, raw keep-alive connections (no client library between the
timer and the socket), so the numbers are the server's plus a thin, constant
client cost. Every request's latency is recorded; percentiles are exact.

Phases, each bounded in count:
  create    N ConfigMaps (1 KiB of data each) over C connections
  get       N GETs of random existing ConfigMaps over C connections
  list-100  namespaced LIST of 100 ConfigMaps, 200 times over 4 connections
  list-1000 namespaced LIST of 1000 ConfigMaps, 50 times over 4 connections
  list-all  cluster-scoped LIST of every ConfigMap (~1,100+), 20 times
  fan-out   W watchers on one namespace; N writes one after another, each
            timed from just before the write until the last watcher has its
            event (p50/p99 over the writes); plus per-delivery latencies.

With --write-cost, instead: what each write pays for its checks. N creates
each (same connections) of a 1 KiB ConfigMap (little to check), a web
Deployment (Kubernetes' schema of every field, defaults, validation), and a
custom resource of two CustomResourceDefinitions with the same structural
schema and defaults, one with two CEL rules and one without, so the CEL
cost is the difference between the last two rows.

Kubernetes API SLOs (sig-scalability, api_call_latency.md): p99 <= 1 s for
single-object mutating and read calls, <= 5 s for namespace-scoped lists,
<= 30 s for cluster-scoped lists; the draft watch-latency SLO is p99 <= 5 s.
Exit status 1 if any SLO is missed.
"""

import argparse
import asyncio
import json
import random
import resource
import sys
import time
from urllib.parse import urlparse


# `Authorization: ...\r\n` when the server wants a bearer token (set from --token).
AUTHORIZATION = ""


class Connection:
    """One keep-alive HTTP/1.1 connection; responses must carry Content-Length."""

    def __init__(self, host, port):
        self.host, self.port = host, port

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        return self

    async def request(self, method, path, body=None):
        head = f"{method} {path} HTTP/1.1\r\nHost: {self.host}\r\nUser-Agent: capstan-api-load/1\r\nAccept: application/json\r\n{AUTHORIZATION}"
        payload = b""
        if body is not None:
            payload = json.dumps(body).encode()
            content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
            head += f"Content-Type: {content_type}\r\nContent-Length: {len(payload)}\r\n"
        self.writer.write(head.encode() + b"\r\n" + payload)
        status_line = await self.reader.readline()
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b""):
                break
            name, _, value = line.partition(b":")
            if name.lower() == b"content-length":
                length = int(value)
        data = await self.reader.readexactly(length)
        return status, data

    def close(self):
        self.writer.close()


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


async def run_phase(host, port, requests, concurrency):
    """Runs `requests` (a list of (method, path, body, expected_status)) over
    `concurrency` connections; returns (latencies in s, wall time in s)."""
    queue = list(reversed(requests))
    latencies = []
    failures = []

    async def worker():
        connection = await Connection(host, port).open()
        try:
            while queue:
                method, path, body, expected = queue.pop()
                start = time.perf_counter()
                status, data = await connection.request(method, path, body)
                latencies.append(time.perf_counter() - start)
                if status != expected:
                    failures.append(f"{method} {path}: HTTP {status}: {data[:200]!r}")
        finally:
            connection.close()

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    wall = time.perf_counter() - start
    if failures:
        raise SystemExit(f"api-load: {len(failures)} requests failed, first: {failures[0]}")
    return latencies, wall


def config_map(name, size=1024):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"bench": "api-load"}}, "data": {"payload": "x" * size}}


async def ensure_namespace(host, port, name):
    connection = await Connection(host, port).open()
    status, data = await connection.request("POST", "/api/v1/namespaces", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}})
    connection.close()
    if status not in (201, 409):
        raise SystemExit(f"api-load: creating namespace {name}: HTTP {status} {data[:200]!r}")


async def fill(host, port, namespace, count):
    requests = [("POST", f"/api/v1/namespaces/{namespace}/configmaps", config_map(f"cm-{i}"), 201) for i in range(count)]
    await run_phase(host, port, requests, 8)


class Watcher:
    def __init__(self, host, port, path):
        self.host, self.port, self.path = host, port, path
        self.seen = {}  # name -> arrival time
        self.waiting = {}

    async def open(self):
        self.reader, self.writer = await asyncio.open_connection(self.host, self.port)
        self.writer.write(f"GET {self.path} HTTP/1.1\r\nHost: {self.host}\r\nAccept: application/json\r\n{AUTHORIZATION}\r\n".encode())
        status_line = await self.reader.readline()
        if int(status_line.split()[1]) != 200:
            raise SystemExit(f"api-load: watch refused: {status_line!r}")
        while (await self.reader.readline()) not in (b"\r\n", b""):
            pass
        return self

    async def run(self):
        buffer = b""
        try:
            while True:
                size_line = await self.reader.readline()
                if not size_line:
                    return
                size = int(size_line.strip().split(b";")[0], 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    return
                buffer += chunk[:-2]
                while b"\n" in buffer:
                    line, _, buffer = buffer.partition(b"\n")
                    now = time.perf_counter()
                    # Only the name matters; avoid a full parse per delivery.
                    marker = line.find(b'"name":"fan-')
                    if marker >= 0:
                        end = line.index(b'"', marker + 8)
                        name = line[marker + 8:end].decode()
                        self.seen[name] = now
                        event = self.waiting.pop(name, None)
                        if event:
                            event.set()
        except (asyncio.CancelledError, ConnectionError, asyncio.IncompleteReadError):
            return

    def close(self):
        self.writer.close()


async def fan_out(host, port, watchers_count, writes):
    namespace = "fanout"
    await ensure_namespace(host, port, namespace)
    path = f"/api/v1/namespaces/{namespace}/configmaps?watch=true&timeoutSeconds=600"
    watchers = []
    for start in range(0, watchers_count, 100):
        watchers += await asyncio.gather(*(Watcher(host, port, path).open() for _ in range(start, min(watchers_count, start + 100))))
    tasks = [asyncio.create_task(w.run()) for w in watchers]
    writer = await Connection(host, port).open()
    all_received = []
    deliveries = []
    for index in range(writes):
        name = f"fan-{index}"
        events = []
        for w in watchers:
            event = asyncio.Event()
            w.waiting[name] = event
            events.append(event)
        start = time.perf_counter()
        status, data = await writer.request("POST", f"/api/v1/namespaces/{namespace}/configmaps", config_map(name, 256))
        if status != 201:
            raise SystemExit(f"api-load: fan-out write: HTTP {status} {data[:200]!r}")
        try:
            await asyncio.wait_for(asyncio.gather(*(e.wait() for e in events)), timeout=60)
        except asyncio.TimeoutError:
            missing = sum(1 for w in watchers if name not in w.seen)
            raise SystemExit(f"api-load: {missing} of {watchers_count} watchers did not get {name} within 60 s")
        arrivals = [w.seen[name] for w in watchers]
        all_received.append(max(arrivals) - start)
        deliveries += [t - start for t in arrivals]
    writer.close()
    for t in tasks:
        t.cancel()
    for w in watchers:
        w.close()
    return all_received, deliveries


def row(name, count, latencies, wall, slo, note=""):
    p50, p99 = percentile(latencies, 0.5), percentile(latencies, 0.99)
    rate = f"{count / wall:,.0f}" if wall else "-"
    passed = p99 <= slo
    return passed, f"| {name} | {count} | {rate} | {p50 * 1000:.1f} | {p99 * 1000:.1f} | p99 <= {slo:g} s{note} | {'pass' if passed else 'FAIL'} |"


def deployment(name):
    labels = {"app": name}
    return {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "labels": {"app.kubernetes.io/part-of": "bench"}},
        "spec": {
            "replicas": 0, "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {"containers": [{
                    "name": "web", "image": "localhost/web:1", "ports": [{"containerPort": 8080, "name": "http"}],
                    "env": [{"name": "MODE", "value": "fast"}], "resources": {"requests": {"cpu": "100m", "memory": "64Mi"}},
                    "readinessProbe": {"httpGet": {"path": "/", "port": 8080}, "periodSeconds": 2},
                }]},
            },
        },
    }


def definition(plural, kind, rules):
    spec = {"type": "object", "properties": {
        "replicas": {"type": "integer", "minimum": 0}, "maxReplicas": {"type": "integer", "default": 10},
        "mode": {"type": "string", "default": "fast", "enum": ["fast", "safe"]},
        "owner": {"type": "string", "maxLength": 63}, "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 16},
    }}
    if rules:
        spec["x-kubernetes-validations"] = [
            {"rule": "self.replicas <= self.maxReplicas", "message": "replicas must not exceed maxReplicas"},
            {"rule": "self.tags.all(t, t.size() <= 32)", "message": "tags are short"},
        ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition", "metadata": {"name": f"{plural}.bench.example.com"},
        "spec": {"group": "bench.example.com", "scope": "Namespaced", "names": {"plural": plural, "kind": kind},
                 "versions": [{"name": "v1", "served": True, "storage": True,
                               "schema": {"openAPIV3Schema": {"type": "object", "properties": {"spec": spec}}}}]},
    }


def custom_object(kind, name):
    return {"apiVersion": "bench.example.com/v1", "kind": kind, "metadata": {"name": name},
            "spec": {"replicas": 3, "owner": "team-a", "tags": ["web", "frontend", "eu"]}}


async def write_cost(host, port, count, concurrency):
    """Rows for --write-cost (see the module's docstring)."""
    connection = await Connection(host, port).open()
    for plural, kind, rules in (("widgets", "Widget", True), ("gadgets", "Gadget", False)):
        status, data = await connection.request("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions", definition(plural, kind, rules))
        if status != 201:
            raise SystemExit(f"write-cost: creating the {kind} definition: HTTP {status} {data[:200]!r}")
    for plural in ("widgets", "gadgets"):
        for _ in range(300):
            status, data = await connection.request("GET", f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{plural}.bench.example.com")
            conditions = json.loads(data).get("status", {}).get("conditions", []) if status == 200 else []
            if any(c.get("type") == "Established" and c.get("status") == "True" for c in conditions):
                break
            await asyncio.sleep(0.1)
        else:
            raise SystemExit(f"write-cost: {plural}.bench.example.com never became Established")
    connection.close()
    await ensure_namespace(host, port, "writes")
    phases = [
        ("ConfigMap, 1 KiB", "/api/v1/namespaces/writes/configmaps", lambda i: config_map(f"cm-{i}")),
        ("Deployment (schema of every field, defaults)", "/apis/apps/v1/namespaces/writes/deployments", lambda i: deployment(f"web-{i}")),
        ("custom resource, schema + defaults + 2 CEL rules", "/apis/bench.example.com/v1/namespaces/writes/widgets", lambda i: custom_object("Widget", f"w-{i}")),
        ("custom resource, schema + defaults, no CEL", "/apis/bench.example.com/v1/namespaces/writes/gadgets", lambda i: custom_object("Gadget", f"g-{i}")),
    ]
    rows = []
    for name, path, body in phases:
        requests = [("POST", path, body(i), 201) for i in range(count)]
        latencies, wall = await run_phase(host, port, requests, concurrency)
        rows.append(row(f"create {name}", count, latencies, wall, 1.0))
    return rows


async def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("base_url")
    parser.add_argument("--creates", type=int, default=2000)
    parser.add_argument("--gets", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--watchers", type=int, default=1000)
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument("--token", help="bearer token, when the server requires one")
    parser.add_argument("--write-cost", action="store_true", help="measure the cost of each kind's write checks instead")
    args = parser.parse_args()
    global AUTHORIZATION
    if args.token:
        AUTHORIZATION = f"Authorization: Bearer {args.token}\r\n"
    url = urlparse(args.base_url)
    host, port = url.hostname, url.port
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, min(hard, args.watchers + 256)), hard))

    if args.write_cost:
        rows = await write_cost(host, port, args.creates, args.concurrency)
        print("| operation | requests | req/s | p50 ms | p99 ms | Kubernetes SLO | result |")
        print("|---|---:|---:|---:|---:|---|---|")
        for _, line in rows:
            print(line)
        return 0 if all(passed for passed, _ in rows) else 1

    rows = []
    await ensure_namespace(host, port, "load")
    creates = [("POST", "/api/v1/namespaces/load/configmaps", config_map(f"cm-{i}"), 201) for i in range(args.creates)]
    latencies, wall = await run_phase(host, port, creates, args.concurrency)
    rows.append(row(f"create (POST, {args.concurrency} conns)", args.creates, latencies, wall, 1.0))

    gets = [("GET", f"/api/v1/namespaces/load/configmaps/cm-{random.randrange(args.creates)}", None, 200) for _ in range(args.gets)]
    latencies, wall = await run_phase(host, port, gets, args.concurrency)
    rows.append(row(f"get (GET, {args.concurrency} conns)", args.gets, latencies, wall, 1.0))

    for size, times in ((100, 200), (1000, 50)):
        namespace = f"list-{size}"
        await ensure_namespace(host, port, namespace)
        await fill(host, port, namespace, size)
        lists = [("GET", f"/api/v1/namespaces/{namespace}/configmaps", None, 200)] * times
        latencies, wall = await run_phase(host, port, lists, 4)
        rows.append(row(f"list {size} objects (namespace, 4 conns)", times, latencies, wall, 5.0))

    lists = [("GET", "/api/v1/configmaps", None, 200)] * 20
    latencies, wall = await run_phase(host, port, lists, 2)
    total = args.creates + 1100
    rows.append(row(f"list all ~{total:,} objects (cluster, 2 conns)", 20, latencies, wall, 30.0))

    all_received, deliveries = await fan_out(host, port, args.watchers, args.writes)
    # Kubernetes has no GA watch SLO; sig-scalability's draft one is p99 <= 5 s.
    passed_all, line_all = row(f"watch fan-out: write -> all {args.watchers} watchers", args.writes, all_received, 0, 5.0, " (draft)")
    passed_one, line_one = row("watch fan-out: write -> each watcher", len(deliveries), deliveries, 0, 5.0, " (draft)")

    print("| operation | requests | req/s | p50 ms | p99 ms | Kubernetes SLO | result |")
    print("|---|---:|---:|---:|---:|---|---|")
    ok = True
    for passed, line in rows + [(passed_all, line_all), (passed_one, line_one)]:
        print(line)
        ok = ok and passed
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
