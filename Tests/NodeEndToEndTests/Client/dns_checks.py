"""Cluster DNS as an independent client sees it: dnspython against a node's
CapstanDNS at the cluster DNS Service address.

Usage: dns_checks.py EXPECTATIONS_JSON
EXPECTATIONS_JSON names the server, the web Service's ClusterIP, the headless
Service's pod IPs, the big headless Service's address count, and the name and
address the upstream resolver answers. Prints one line per check; exits 1 on
the first failure.
"""

import json
import random
import socket
import sys

import dns.flags
import dns.message
import dns.query
import dns.rcode
import dns.rdatatype
import dns.resolver
import dns.reversename

expect = json.loads(sys.argv[1])
server = expect["server"]
failures = []


def check(name, condition, detail):
    print(("ok   " if condition else "FAIL ") + name + ": " + detail, flush=True)
    if not condition:
        failures.append(name)


def udp(name, rdtype, use_edns=0):
    query = dns.message.make_query(name, rdtype, use_edns=use_edns)
    return dns.query.udp(query, server, timeout=5)


def addresses(response):
    return sorted(r.address for rrset in response.answer for r in rrset if r.rdtype == dns.rdatatype.A)


# A for a Service: its ClusterIP, authoritative.
response = udp("web.demo.svc.cluster.local", "A")
check("A", addresses(response) == [expect["clusterIP"]] and response.flags & dns.flags.AA, f"{addresses(response)}")

# SRV for a named port: port 80 at the Service's name.
response = udp("_http._tcp.web.demo.svc.cluster.local", "SRV")
records = [r for rrset in response.answer for r in rrset]
check(
    "SRV",
    len(records) == 1 and records[0].port == 80 and str(records[0].target) == "web.demo.svc.cluster.local.",
    f"{[str(r) for r in records]}",
)

# PTR for the ClusterIP: the Service's name.
response = udp(dns.reversename.from_address(expect["clusterIP"]), "PTR")
names = [str(r.target) for rrset in response.answer for r in rrset]
check("PTR", names == ["web.demo.svc.cluster.local."], f"{names}")

# A headless Service: every ready pod.
response = udp("web-headless.demo.svc.cluster.local", "A")
check("headless", addresses(response) == sorted(expect["headless"]), f"{addresses(response)} vs {sorted(expect['headless'])}")

# An unknown name in the cluster domain: NXDOMAIN with the zone's SOA.
response = udp("nothing-here.demo.svc.cluster.local", "A")
soa = [rrset for rrset in response.authority if rrset.rdtype == dns.rdatatype.SOA]
check("NXDOMAIN", response.rcode() == dns.rcode.NXDOMAIN and len(soa) == 1, f"{dns.rcode.to_text(response.rcode())}, {len(soa)} SOA")

# Too big for 512 bytes of UDP without EDNS0: truncated, then whole over TCP.
big = "big.demo.svc.cluster.local"
response = udp(big, "A", use_edns=-1)
check("truncated", bool(response.flags & dns.flags.TC) and not response.answer, f"flags {dns.flags.to_text(response.flags)}")
response, used_tcp = dns.query.udp_with_fallback(dns.message.make_query(big, "A", use_edns=-1), server, timeout=5)
check("TCP fallback", used_tcp and len(addresses(response)) == expect["bigCount"], f"tcp={used_tcp}, {len(addresses(response))} addresses")

# EDNS0 with a large buffer: the same answer fits in UDP.
response = udp(big, "A", use_edns=0)
check("EDNS0", not (response.flags & dns.flags.TC) and len(addresses(response)) == expect["bigCount"], f"{len(addresses(response))}")

# A name outside the cluster goes to the upstream resolver.
response = udp(expect["forwardedName"], "A")
check("forwarded", addresses(response) == [expect["forwardedAddress"]], f"{addresses(response)}")

# The resolver the way applications use it, with the pod's search path.
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = [server]
resolver.search = [dns.name.from_text("demo.svc.cluster.local")]
resolver.use_search_by_default = True
answer = resolver.resolve("web", "A")
check("search path", [r.address for r in answer] == [expect["clusterIP"]], f"{[r.address for r in answer]}")

# Garbage, truncated and bit-flipped packets, then an ordinary query still answers.
rng = random.Random(20261208)
valid = dns.message.make_query("web.demo.svc.cluster.local", "A").to_wire()
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for index in range(3000):
    kind = index % 3
    if kind == 0:
        packet = bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 600)))
    elif kind == 1:
        packet = valid[: rng.randint(0, len(valid) - 1)]
    else:
        flipped = bytearray(valid)
        flipped[rng.randrange(len(flipped))] ^= 1 << rng.randrange(8)
        packet = bytes(flipped)
    sock.sendto(packet, (server, 53))
sock.close()
# The flood may still be draining (it outran the socket's buffer): ask until answered, within 60 s.
resolver = dns.resolver.Resolver(configure=False)
resolver.nameservers = [server]
resolver.lifetime = 60
answer = resolver.resolve("web.demo.svc.cluster.local", "A")
check("after fuzzing", [r.address for r in answer] == [expect["clusterIP"]], f"{[r.address for r in answer]}")

sys.exit(1 if failures else 0)
