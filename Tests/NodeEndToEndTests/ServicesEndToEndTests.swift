import CapstanTestSupport
import Foundation
import Testing

/// Services as a user meets them on `capstan up`: names that resolve inside
/// pods, ClusterIPs and NodePorts that answer from the host, headless Services
/// that list their pods, a rollout no client notices, refused connections
/// where nothing serves — on the real proxy (nftables) and cluster DNS,
/// checked from busybox in a pod, curl and dnspython on the host.
@Suite(
    .serialized,
    .enabled(
        if: getuid() == 0 && FileManager.default.isExecutableFile(atPath: "/usr/sbin/nft")
            && FileManager.default.isExecutableFile(atPath: "/usr/sbin/dnsmasq"),
        "needs root, nftables and dnsmasq (ops/install-deps.sh)"))
struct ServicesEndToEndTests {
    /// A client pod, a headless view of the web pods, a NodePort, a Service nothing
    /// serves, and a selectorless headless Service with 60 hand-written addresses
    /// (too many for a 512-byte DNS answer).
    static let manifests = """
        apiVersion: v1
        kind: Pod
        metadata:
          name: client
          namespace: demo
        spec:
          containers:
            - name: client
              image: localhost/capstan/busybox:1.35
              command: ["sleep", "3600"]
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web-headless
          namespace: demo
        spec:
          clusterIP: None
          selector:
            app.kubernetes.io/name: web
          ports:
            - name: http
              port: 80
              targetPort: http
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: web-nodeport
          namespace: demo
        spec:
          type: NodePort
          selector:
            app.kubernetes.io/name: web
          ports:
            - name: http
              port: 80
              targetPort: http
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: nobody-home
          namespace: demo
        spec:
          selector:
            app.kubernetes.io/name: nothing-matches-this
          ports:
            - port: 80
        ---
        apiVersion: v1
        kind: Service
        metadata:
          name: big
          namespace: demo
        spec:
          clusterIP: None
          ports:
            - name: http
              port: 80
        ---
        apiVersion: discovery.k8s.io/v1
        kind: EndpointSlice
        metadata:
          name: big-by-hand
          namespace: demo
          labels:
            kubernetes.io/service-name: big
        addressType: IPv4
        ports:
          - name: http
            port: 80
        endpoints:

        """ + (1...60).map { "  - addresses: [\"192.0.2.\($0)\"]\n" }.joined()

    @Test(.timeLimit(.minutes(15)))
    func servicesAnswerByNameAddressAndNodePortAndARolloutLosesNothing() async throws {
        let upstream = try await UpstreamResolver()
        defer { upstream.stop() }
        try await UpHarness.with(serverOptions: ["--resolv-conf", upstream.resolvConf], listenHost: "0.0.0.0", serviceProxy: true) { harness in
            try harness.git.commit(["deploy/services.yaml": Self.manifests], message: "A client, a headless Service, a NodePort")
            try await harness.waitFor("the client pod and the web pod to be ready") {
                let ready = try await harness.kubectl(
                    "get", "pods", "-n", "demo", "-o",
                    #"jsonpath={range .items[*]}{.metadata.name}={.status.conditions[?(@.type=="Ready")].status} {end}"#)
                return ready.contains("client=True")
                    && ready.split(separator: " ").filter { $0.hasPrefix("web-") && $0.hasSuffix("=True") }.count == 1
            }

            // Inside a pod: the Service by its full name and by its short one, through cluster DNS.
            for url in ["http://web.demo.svc.cluster.local/", "http://web/"] {
                let page = try await harness.kubectl("exec", "-n", "demo", "client", "--", "wget", "-qO-", url)
                #expect(page.contains("Hello from Capstan"), "\(url): \(page)")
            }
            // The API through the `kubernetes` Service, as in-cluster clients find it: by name and
            // at KUBERNETES_SERVICE_HOST, verified with the mounted CA (busybox cannot verify, so
            // curl does it from the host, at the Service's address and with the name as SNI).
            let environment = try await harness.kubectl("exec", "-n", "demo", "client", "--", "env")
            #expect(
                environment.contains("KUBERNETES_SERVICE_HOST=10.96.0.1\n") && environment.contains("KUBERNETES_SERVICE_PORT=443\n"), "\(environment)"
            )
            let version = try await harness.kubectl(
                "exec", "-n", "demo", "client", "--", "wget", "-qO-", "--no-check-certificate", "https://kubernetes.default.svc/version")
            #expect(version.contains("\"gitVersion\""), "\(version)")
            let verified = try await runCommand(
                "/usr/bin/curl",
                [
                    "-sS", "-m", "10", "--cacert", harness.dataDirectory + "/pki/ca.crt", "--resolve", "kubernetes.default.svc:443:10.96.0.1",
                    "https://kubernetes.default.svc/version",
                ], timeout: .seconds(20))
            #expect(verified.status == 0 && verified.output.contains("\"gitVersion\""), "\(verified)")
            let resolv = try await harness.kubectl("exec", "-n", "demo", "client", "--", "cat", "/etc/resolv.conf")
            #expect(
                resolv.split(separator: "\n").map(String.init) == [
                    "nameserver 10.96.0.10", "search demo.svc.cluster.local svc.cluster.local cluster.local", "options ndots:5",
                ], "\(resolv)")

            // From the host: the ClusterIP, and the NodePort on the node's address.
            let clusterIP = try await harness.kubectl("get", "service", "web", "-n", "demo", "-o", "jsonpath={.spec.clusterIP}")
            let nodePort = try await harness.kubectl("get", "service", "web-nodeport", "-n", "demo", "-o", "jsonpath={.spec.ports[0].nodePort}")
            let nodeIP = try await harness.kubectl(
                "get", "node", harness.nodeName, "-o", #"jsonpath={.status.addresses[?(@.type=="InternalIP")].address}"#)
            for url in ["http://\(clusterIP)/", "http://\(nodeIP):\(nodePort)/"] {
                let page = try await runCommand("/usr/bin/curl", ["-sS", "-m", "10", url], timeout: .seconds(20))
                #expect(page.status == 0 && page.output.contains("Hello from Capstan"), "\(url): \(page)")
            }

            // A Service with no endpoints refuses at once (curl's 7), rather than timing out (28).
            let refusedIP = try await harness.kubectl("get", "service", "nobody-home", "-n", "demo", "-o", "jsonpath={.spec.clusterIP}")
            let refused = try await runCommand("/usr/bin/curl", ["-sS", "-m", "10", "http://\(refusedIP)/"], timeout: .seconds(20))
            #expect(refused.status == 7, "\(refused)")
            do {
                let page = try await harness.kubectl("exec", "-n", "demo", "client", "--", "wget", "-qO-", "http://nobody-home/")
                Issue.record("an unserved Service answered inside a pod: \(page)")
            } catch {
                // Resolved (not "bad address"), then refused.
                #expect("\(error)".contains("Connection refused"), "\(error)")
            }

            // Three replicas, then a rollout while a client keeps asking through the ClusterIP.
            try harness.pull()
            let deployment = try String(contentsOfFile: harness.git.work.appending(path: "deploy/web.yaml").path, encoding: .utf8)
            try harness.git.commit(
                ["deploy/web.yaml": deployment.replacingOccurrences(of: "  replicas: 1\n", with: "  replicas: 3\n")], message: "Three web pods")
            try await harness.waitFor("three ready web pods behind the headless Service") {
                try await harness.webPods().filter { $0.ready && !$0.terminating }.count == 3
            }
            let podIPs = try await harness.webPods().filter { $0.ready && !$0.terminating }.map(\.ip)
            try await harness.waitFor("the proxy to send to all three") {
                let table = try await runCommand("/usr/sbin/nft", ["list", "table", "ip", "capstan"], timeout: .seconds(10)).output
                return podIPs.allSatisfy { table.contains("dnat to \($0):8080") }
            }
            let client = RequestLoop(url: "http://\(clusterIP)/")
            async let loop: Void = client.run()
            try await harness.waitFor("the client to be answered") { client.counts.succeeded > 20 }
            let rolled = deployment.replacingOccurrences(of: "  replicas: 1\n", with: "  replicas: 3\n")
                .replacingOccurrences(
                    of: "        app.kubernetes.io/name: web\n    spec:",
                    with: "        app.kubernetes.io/name: web\n      annotations:\n        rollout: second\n    spec:")
            #expect(rolled.contains("rollout: second"))
            try harness.git.commit(["deploy/web.yaml": rolled], message: "Roll the web pods")
            try await harness.waitFor("a new set of three web pods, the old ones gone", timeout: .seconds(240)) {
                let pods = try await harness.webPods()
                return pods.count == 3 && pods.allSatisfy { $0.ready && !$0.terminating && !podIPs.contains($0.ip) }
            }
            client.stop()
            await loop
            let counts = client.counts
            #expect(counts.failed == 0, "\(counts.failed) of \(counts.succeeded + counts.failed) requests failed: \(counts.lastError ?? "")")
            #expect(counts.succeeded > 50)

            // dnspython, an independent client: A, SRV, PTR, headless, NXDOMAIN, truncation and TCP, forwarding, fuzz.
            let readyIPs = try await harness.webPods().filter { $0.ready && !$0.terminating }.map(\.ip)
            let expectations: [String: Any] = [
                "server": "10.96.0.10", "clusterIP": clusterIP, "headless": readyIPs, "bigCount": 60,
                "forwardedName": UpstreamResolver.name, "forwardedAddress": UpstreamResolver.address,
            ]
            let json = String(decoding: try JSONSerialization.data(withJSONObject: expectations), as: UTF8.self)
            let script = UpHarness.sourceRoot.appending(path: "Tests/NodeEndToEndTests/Client/dns_checks.py").path
            let checks = try await runCommand("/usr/bin/env", ["python3", "-u", script, json], timeout: .seconds(120))
            #expect(checks.status == 0, "\(checks.output)")

            // Deleting a Service takes its rules and its name away. (One made with kubectl: those
            // in git come back, as self-heal puts them back.)
            _ = try await harness.kubectl("create", "service", "clusterip", "scratch", "-n", "demo", "--tcp=8080:8080")
            let scratchIP = try await harness.kubectl("get", "service", "scratch", "-n", "demo", "-o", "jsonpath={.spec.clusterIP}")
            try await harness.waitFor("the new Service's name and rule") {
                let table = try await runCommand("/usr/sbin/nft", ["list", "table", "ip", "capstan"], timeout: .seconds(10)).output
                let lookup = try await runCommand(
                    "/usr/bin/env", ["python3", "-c", Self.lookupScript, "scratch.demo.svc.cluster.local"], timeout: .seconds(20))
                return table.contains("\(scratchIP) . tcp . 8080") && lookup.output.contains("NOERROR")
            }
            _ = try await harness.kubectl("delete", "service", "scratch", "-n", "demo")
            try await harness.waitFor("its rule and its name to go") {
                let table = try await runCommand("/usr/sbin/nft", ["list", "table", "ip", "capstan"], timeout: .seconds(10)).output
                let lookup = try await runCommand(
                    "/usr/bin/env", ["python3", "-c", Self.lookupScript, "scratch.demo.svc.cluster.local"], timeout: .seconds(20))
                return !table.contains("\(scratchIP) . tcp . 8080") && lookup.output.contains("NXDOMAIN")
            }
        }
        // `capstan reset` (the harness's teardown) removed what the node added to the machine.
        let tables = try await runCommand("/usr/sbin/nft", ["list", "tables"], timeout: .seconds(10))
        #expect(!tables.output.contains("table ip capstan"), "\(tables.output)")
        let addresses = try await runCommand("/usr/sbin/ip", ["-4", "addr", "show", "dev", "lo"], timeout: .seconds(10))
        #expect(!addresses.output.contains("169.254.20.10"), "\(addresses.output)")
    }

    /// Prints the rcode of an A query to the cluster DNS.
    static let lookupScript = """
        import sys, dns.message, dns.query, dns.rcode
        response = dns.query.udp(dns.message.make_query(sys.argv[1], "A"), "10.96.0.10", timeout=5)
        print(dns.rcode.to_text(response.rcode()))
        """
}

/// dnsmasq on a loopback address as the machine's upstream resolver, answering one
/// name of its own and nothing else (it forwards nowhere). It runs as the daemon it
/// is, stopped by the PID it writes: dnsmasq closes every inherited descriptor, which
/// Foundation's Process takes for an exit and then waits on forever.
private final class UpstreamResolver {
    static let name = "forwarded.capstan.test"
    static let address = "192.0.2.77"
    let directory: TemporaryDirectory
    var resolvConf: String { directory.appending("resolv.conf") }
    private var pidFile: String { directory.appending("dnsmasq.pid") }

    init() async throws {
        directory = try TemporaryDirectory(prefix: "capstan-upstream")
        let listen = "127.0.77.1"
        try "nameserver \(listen)\n".write(toFile: directory.appending("resolv.conf"), atomically: true, encoding: .utf8)
        let started = try await runCommand(
            "/usr/sbin/dnsmasq",
            [
                "--no-resolv", "--no-hosts", "--bind-interfaces", "--listen-address=\(listen)", "--port=53", "--user=root",
                "--pid-file=\(pidFile)", "--address=/\(Self.name)/\(Self.address)", "--log-facility=\(directory.appending("dnsmasq.log"))",
            ], timeout: .seconds(20))
        guard started.status == 0 else { throw HarnessError("dnsmasq did not start: \(started.output)") }
    }

    func stop() {
        if let text = try? String(contentsOfFile: pidFile, encoding: .utf8), let pid = Int32(text.trimmingCharacters(in: .whitespacesAndNewlines)) {
            kill(pid, SIGKILL)
        }
        directory.remove()
    }
}

/// Asks `url` again and again until stopped, counting answers and failures.
private final class RequestLoop: @unchecked Sendable {
    struct Counts {
        var succeeded = 0
        var failed = 0
        var lastError: String?
    }

    let url: String
    private let state = NSLock()
    private var current = Counts()
    private var stopped = false

    init(url: String) { self.url = url }

    var counts: Counts { state.withLock { current } }
    func stop() { state.withLock { stopped = true } }

    /// Bounded: at most 20,000 requests, whatever happens.
    func run() async {
        for _ in 0..<20_000 {
            if state.withLock({ stopped }) { return }
            let result = await UpHarness.httpGet(url, timeout: 5)
            state.withLock {
                switch result {
                case .success(let page) where page.contains("Hello from Capstan"): current.succeeded += 1
                case .success(let page):
                    current.failed += 1
                    current.lastError = "unexpected page: \(page.prefix(200))"
                case .failure(let error):
                    current.failed += 1
                    current.lastError = "\(error)"
                }
            }
        }
    }
}
