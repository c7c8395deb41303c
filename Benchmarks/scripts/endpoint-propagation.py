"""How long after a pod turns Ready its address is in the node's nftables map
and in cluster DNS.

Scales Deployment demo/web from 1 to 2 replicas and back, ROUNDS times. For
each new pod: T0 is when the watch of the API server shows it Ready; the
proxy's table is read (`nft list table ip capstan`) and the headless Service
demo/web-headless is asked (169.254.20.10) in a loop until each shows the
pod's address. Prints the delays in milliseconds and their median and max.

Usage: endpoint-propagation.py KUBECONFIG ROUNDS
"""

import subprocess
import sys
import threading
import time

import dns.message
import dns.query
from kubernetes import client, config, watch

config.load_kube_config(sys.argv[1])
rounds = int(sys.argv[2])
core = client.CoreV1Api()
apps = client.AppsV1Api()


def ready(pod):
    return any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or []))


def in_table(ip):
    table = subprocess.run(["nft", "list", "table", "ip", "capstan"], capture_output=True, text=True).stdout
    return f"dnat to {ip}:8080" in table


def in_dns(ip):
    try:
        response = dns.query.udp(dns.message.make_query("web-headless.demo.svc.cluster.local", "A"), "169.254.20.10", timeout=1)
    except Exception:
        return False
    return any(r.address == ip for rrset in response.answer for r in rrset)


def first_seen(check, ip, deadline, out, key):
    while time.monotonic() < deadline:
        if check(ip):
            out[key] = time.monotonic()
            return
        time.sleep(0.002)


def scale(replicas):
    apps.patch_namespaced_deployment_scale("web", "demo", {"spec": {"replicas": replicas}})


table_ms, dns_ms = [], []
for round_ in range(rounds):
    known = {p.metadata.name for p in core.list_namespaced_pod("demo", label_selector="app.kubernetes.io/name=web").items}
    stream = watch.Watch()
    scale(2)
    ready_at, ip = None, None
    for event in stream.stream(core.list_namespaced_pod, "demo", label_selector="app.kubernetes.io/name=web", timeout_seconds=120):
        pod = event["object"]
        if pod.metadata.name not in known and ready(pod) and pod.status.pod_ip:
            ready_at, ip = time.monotonic(), pod.status.pod_ip
            stream.stop()
    if ready_at is None:
        sys.exit("no new pod turned Ready within 120 s")
    seen = {}
    threads = [
        threading.Thread(target=first_seen, args=(in_table, ip, ready_at + 30, seen, "table")),
        threading.Thread(target=first_seen, args=(in_dns, ip, ready_at + 30, seen, "dns")),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if "table" not in seen or "dns" not in seen:
        sys.exit(f"round {round_}: {ip} not seen within 30 s: {seen}")
    table_ms.append((seen["table"] - ready_at) * 1000)
    dns_ms.append((seen["dns"] - ready_at) * 1000)
    scale(1)
    while len(core.list_namespaced_pod("demo", label_selector="app.kubernetes.io/name=web").items) > 1:
        time.sleep(0.2)


def summary(values):
    ordered = sorted(values)
    return f"median {ordered[len(ordered) // 2]:.0f} ms, max {ordered[-1]:.0f} ms ({', '.join(f'{v:.0f}' for v in values)})"


print(f"ready -> nftables map: {summary(table_ms)}")
print(f"ready -> cluster DNS:  {summary(dns_ms)}")
