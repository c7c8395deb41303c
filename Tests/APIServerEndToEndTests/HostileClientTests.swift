import CapstanCore
import CapstanTestSupport
import Crypto
import Foundation
import OrderedCollections
import Testing

/// Who sends a request in the hostile-client suite.
enum Caller: String, CaseIterable, Sendable {
    case admin, viewer
    case nodeA = "node-a"
    case nodeB = "node-b"
    /// No `Authorization` header at all.
    case anonymous
    /// A viewer token revoked with `capstan token revoke` before the run.
    case revoked
}

/// Who may make a request, in the terms of Kubernetes' defaults: `cluster-admin`
/// for admin, the `view` ClusterRole for viewer, the node authorizer plus
/// NodeRestriction for nodes, `system:public-info-viewer` for no token.
struct Access: Sendable {
    /// Callers besides admin that are allowed.
    var allowed: Set<Caller>
    /// Allowed without a token (health and version).
    var open = false

    enum Verdict: String, Sendable { case allow, unauthorized, forbidden }

    func verdict(_ caller: Caller) -> Verdict {
        switch caller {
        case .revoked: .unauthorized  // a wrong token is refused even on open paths
        case .anonymous: open ? .allow : .unauthorized
        case .admin: .allow
        default: allowed.contains(caller) ? .allow : .forbidden
        }
    }

    static let publicInfo = Access(allowed: [.viewer, .nodeA, .nodeB], open: true)
    /// Discovery, and what every node reads to run its pods.
    static let signedIn = Access(allowed: [.viewer, .nodeA, .nodeB])
    static let readers = Access(allowed: [.viewer])
    static let adminOnly = Access(allowed: [])
    static let nodeA = Access(allowed: [.nodeA])
    static let nodeB = Access(allowed: [.nodeB])
    static let nodes = Access(allowed: [.nodeA, .nodeB])
    static let viewerAndNodeA = Access(allowed: [.viewer, .nodeA])
}

/// One request of the table.
struct Probe: Sendable, CustomStringConvertible {
    var method: String
    var path: String
    var body: String?
    var contentType: String?
    var headers: [String: String] = [:]
    var access: Access
    /// The admin's request changes or removes fixtures others' requests read: run it last.
    var destructive = false

    var description: String { "\(method) \(path)" + (contentType.map { " (\($0))" } ?? "") }
}

private let ns = "/api/v1/namespaces/default"
private let apps = "/apis/apps/v1/namespaces/default"
private let leases = "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases"

/// Secret values that must never reach a caller who may not read them.
private let gitSecretValue = "git-managed-secret-value-5512"  // in git; shown to nobody by /drift or /diff
private let proposedSecretValue = "proposed-secret-value-8830"  // in a /diff request; echoed to nobody
private let nodeSecretValue = "pod-a-secret-value-2274"  // used by pod-a: node-a may read it, no other non-admin

private func base64(_ text: String) -> String { Base64.encode(Array(text.utf8)) }

private let fixtures = """
    apiVersion: v1
    kind: Node
    metadata: {name: node-a, labels: {kubernetes.io/hostname: node-a}}
    spec: {taints: [{key: dedicated, value: ops, effect: NoSchedule}]}
    ---
    apiVersion: v1
    kind: Node
    metadata: {name: node-b, labels: {kubernetes.io/hostname: node-b}}
    ---
    apiVersion: coordination.k8s.io/v1
    kind: Lease
    metadata: {name: node-a, namespace: kube-node-lease}
    spec: {holderIdentity: node-a, leaseDurationSeconds: 40}
    ---
    apiVersion: coordination.k8s.io/v1
    kind: Lease
    metadata: {name: node-b, namespace: kube-node-lease}
    spec: {holderIdentity: node-b, leaseDurationSeconds: 40}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: cfg-used, namespace: default}
    data: {k: v}
    ---
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: cfg-other, namespace: default}
    data: {k: v}
    ---
    apiVersion: v1
    kind: Secret
    metadata: {name: sec-used, namespace: default}
    data: {password: \(base64(nodeSecretValue))}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: pod-a, namespace: default}
    spec:
      nodeName: node-a
      containers:
        - name: c
          image: localhost/capstan/busybox:1.35
          env:
            - {name: K, valueFrom: {configMapKeyRef: {name: cfg-used, key: k}}}
            - {name: P, valueFrom: {secretKeyRef: {name: sec-used, key: password}}}
    ---
    apiVersion: v1
    kind: Pod
    metadata: {name: pod-b, namespace: default}
    spec:
      nodeName: node-b
      containers: [{name: c, image: localhost/capstan/busybox:1.35}]
    ---
    apiVersion: v1
    kind: Service
    metadata: {name: web, namespace: default}
    spec: {selector: {app: web}, ports: [{port: 80}]}
    ---
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: default}
    spec:
      replicas: 0
      selector: {matchLabels: {app: web}}
      template:
        metadata: {labels: {app: web}}
        spec: {containers: [{name: c, image: localhost/capstan/busybox:1.35}]}
    """

/// A full pod with a host path of `/`, bound to node-a: what a stolen node
/// token would like to bring into being.
private let ghostPod = hostilePod(named: "hostile-ghost")

private func hostilePod(named name: String) -> String {
    """
    {"apiVersion":"v1","kind":"Pod","metadata":{"name":"\(name)","namespace":"default"},
     "spec":{"nodeName":"node-a","volumes":[{"name":"root","hostPath":{"path":"/"}}],
     "containers":[{"name":"c","image":"localhost/capstan/busybox:1.35","volumeMounts":[{"name":"root","mountPath":"/host"}]}]},
     "status":{"phase":"Running"}}
    """
}

private func probes(webhookSecret: String) -> [Probe] {
    let json = "application/json"
    let merge = "application/merge-patch+json"
    let apply = "application/apply-patch+yaml"
    func get(_ path: String, _ access: Access) -> Probe { Probe(method: "GET", path: path, access: access) }
    func write(_ method: String, _ path: String, _ body: String, _ type: String = json, _ access: Access = .adminOnly, destructive: Bool = false)
        -> Probe
    {
        Probe(method: method, path: path, body: body, contentType: type, access: access, destructive: destructive)
    }
    let diffBody = """
        {"files":[{"path":"deploy/secret.yaml","content":"\(base64("apiVersion: v1\nkind: Secret\nmetadata: {name: git-sec, namespace: default}\nstringData: {password: \(proposedSecretValue)}\n"))"}]}
        """
    return [
        // Health, version, discovery.
        get("/healthz", .publicInfo), get("/readyz", .publicInfo), get("/livez", .publicInfo), get("/version", .publicInfo),
        get("/api", .signedIn), get("/apis", .signedIn), get("/api/v1", .signedIn), get("/apis/apps/v1", .signedIn),
        get("/openapi/v3", .signedIn), get("/openapi/v3/apis/apps/v1", .signedIn), get("/openapi/v2", .signedIn),
        // CustomResourceDefinitions: read as any kind is; only admins define kinds.
        get("/apis/apiextensions.k8s.io/v1/customresourcedefinitions", .readers),
        write(
            "POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
            #"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"hostiles.example.com"},"spec":{"group":"example.com","scope":"Namespaced","names":{"plural":"hostiles","kind":"Hostile"},"versions":[{"name":"v1","served":true,"storage":true,"schema":{"openAPIV3Schema":{"type":"object","x-kubernetes-preserve-unknown-fields":true}}}]}}"#
        ),
        get("/metrics", .readers), get("/status", .readers),

        // What nodes read to run pods; the view role reads it too.
        get("/api/v1/namespaces", .signedIn), get("/api/v1/nodes", .signedIn), get("/api/v1/nodes/node-a", .signedIn),
        get("\(ns)/pods", .signedIn), get("\(ns)/pods/pod-a", .signedIn), get("\(ns)/pods/pod-a/status", .signedIn),
        get("\(ns)/pods?watch=true&timeoutSeconds=1", .signedIn), get("\(ns)/services", .signedIn), get("\(ns)/endpoints", .signedIn),
        // ConfigMaps and Secrets: a node reads one by name when its pods use it.
        get("\(ns)/configmaps", .readers), get("\(ns)/configmaps/cfg-used", .viewerAndNodeA), get("\(ns)/configmaps/cfg-other", .readers),
        get("\(ns)/configmaps?watch=1&timeoutSeconds=1", .readers),
        get("\(ns)/secrets", .adminOnly), get("/api/v1/secrets", .adminOnly), get("\(ns)/secrets/sec-used", .nodeA),
        get("\(ns)/secrets/git-sec", .adminOnly), get("\(ns)/secrets?watch=true&timeoutSeconds=1", .adminOnly),
        // Encoded twice: served as what it decodes to once, so admitted as that.
        get("\(ns)/secrets?watch=%2574rue&timeoutSeconds=1", .adminOnly),
        get("\(apps)/deployments", .readers), get("\(apps)/deployments/web", .readers), get("\(apps)/deployments/web/scale", .readers),
        get("\(apps)/deployments/web/status", .readers), get("\(ns)/pods/pod-a/log?container=c", .readers),
        get("\(leases)/node-a", .viewerAndNodeA), get("/api/v1/events", .readers),

        // Writes to ordinary objects: admins only.
        write("POST", "\(ns)/configmaps", #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"hostile-cm"},"data":{"a":"b"}}"#),
        write("PUT", "\(ns)/configmaps/cfg-other", #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cfg-other"},"data":{"k":"hostile"}}"#),
        write("PATCH", "\(ns)/configmaps/cfg-other", #"{"data":{"k":"hostile"}}"#, merge),
        write("PATCH", "\(ns)/configmaps/cfg-other", #"[{"op":"replace","path":"/data/k","value":"hostile"}]"#, "application/json-patch+json"),
        write("PATCH", "\(ns)/configmaps/cfg-other", #"{"data":{"k":"hostile"}}"#, "application/strategic-merge-patch+json"),
        write(
            "PATCH", "\(ns)/configmaps/cfg-other?fieldManager=hostile&force=true",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: cfg-other}\ndata: {k: hostile}\n", apply),
        write(
            "PATCH", "\(ns)/configmaps/hostile-applied?fieldManager=hostile",
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: hostile-applied}\ndata: {k: v}\n", apply),
        Probe(method: "DELETE", path: "\(ns)/configmaps/cfg-other", access: .adminOnly, destructive: true),
        Probe(method: "DELETE", path: "\(ns)/configmaps?labelSelector=hostile%3Dyes", access: .adminOnly),
        write("POST", "\(ns)/secrets", #"{"apiVersion":"v1","kind":"Secret","metadata":{"name":"hostile-secret"},"data":{"a":"Yg=="}}"#),
        write("PATCH", "\(ns)/secrets/sec-used", #"{"data":{"password":"aG9zdGlsZQ=="}}"#, merge),
        write("POST", "/api/v1/namespaces", #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"hostile-ns"}}"#),
        // LimitRanges and ResourceQuotas: everyone signed in but nodes reads them (Kubernetes' view role), only admins write.
        get("\(ns)/limitranges", .readers), get("\(ns)/resourcequotas", .readers), get("/api/v1/resourcequotas", .readers),
        write(
            "POST", "\(ns)/limitranges",
            #"{"apiVersion":"v1","kind":"LimitRange","metadata":{"name":"hostile-limits"},"spec":{"limits":[{"type":"PersistentVolumeClaim","max":{"storage":"1Gi"}}]}}"#
        ),
        write(
            "POST", "\(ns)/resourcequotas",
            #"{"apiVersion":"v1","kind":"ResourceQuota","metadata":{"name":"hostile-quota"},"spec":{"hard":{"count/jobs.batch":"100"}}}"#),

        // Pods: nodes write the status of the pods bound to them, nothing else.
        write("POST", "\(ns)/pods", hostilePod(named: "hostile-posted")),
        write("PATCH", "\(ns)/pods/pod-a", #"{"metadata":{"labels":{"hostile":"yes"}}}"#, merge),
        write("PATCH", "\(ns)/pods/pod-a/status", #"{"status":{"phase":"Running"}}"#, merge, .nodeA),
        write("PATCH", "\(ns)/pods/pod-b/status", #"{"status":{"phase":"Running"}}"#, merge, .nodeB),
        write(
            "PUT", "\(ns)/pods/pod-a/status",
            #"{"apiVersion":"v1","kind":"Pod","metadata":{"name":"pod-a","namespace":"default"},"status":{"phase":"Running"}}"#, json, .nodeA),
        // The hole: server-side apply to the status of a pod that does not exist.
        write("PATCH", "\(ns)/pods/hostile-ghost/status?fieldManager=x", ghostPod, apply),
        write("PATCH", "\(ns)/pods/hostile-ghost/status?fieldManager=x&force=true", ghostPod, apply),
        write("PATCH", "\(ns)/pods/hostile-ghost/status", #"{"status":{"phase":"Running"}}"#, merge),
        write(
            "POST", "\(ns)/pods/pod-a/binding",
            #"{"apiVersion":"v1","kind":"Binding","metadata":{"name":"pod-a"},"target":{"kind":"Node","name":"node-b"}}"#),
        write("POST", "\(ns)/pods/pod-a/eviction", #"{"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"pod-a"}}"#),
        Probe(method: "GET", path: "\(ns)/pods/pod-a/exec?command=id&container=c&stdout=true", access: .adminOnly),
        Probe(method: "POST", path: "\(ns)/pods/pod-a/exec?command=id&container=c&stdout=true", access: .adminOnly),
        Probe(method: "DELETE", path: "\(ns)/pods/hostile-ghost", access: .nodes),
        Probe(method: "DELETE", path: "\(ns)/pods/pod-b", access: .nodeB, destructive: true),

        // Workloads and their subresources.
        write(
            "POST", "\(apps)/deployments",
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"hostile-deploy"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"b"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}"#
        ),
        write("PATCH", "\(apps)/deployments/web", #"{"spec":{"replicas":0}}"#, merge),
        write("PATCH", "\(apps)/deployments/web/scale", #"{"spec":{"replicas":0}}"#, merge),
        write(
            "PUT", "\(apps)/deployments/web/scale",
            #"{"apiVersion":"autoscaling/v1","kind":"Scale","metadata":{"name":"web","namespace":"default"},"spec":{"replicas":0}}"#),
        write("PATCH", "\(apps)/deployments/web/status", #"{"status":{"replicas":0}}"#, merge),
        Probe(method: "DELETE", path: "\(apps)/deployments/web", access: .adminOnly, destructive: true),

        // Nodes: their own Node and status, within NodeRestriction.
        write("POST", "/api/v1/nodes", #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"node-a"}}"#, json, .nodeA),
        write("POST", "/api/v1/nodes", #"{"apiVersion":"v1","kind":"Node","metadata":{"name":"hostile-node"}}"#),
        write("PATCH", "/api/v1/nodes/node-a", #"{"metadata":{"labels":{"team":"ops"}}}"#, merge, .nodeA),
        write("PATCH", "/api/v1/nodes/node-a", #"{"metadata":{"labels":{"node-role.kubernetes.io/control-plane":""}}}"#, merge),
        write("PATCH", "/api/v1/nodes/node-a", #"{"metadata":{"labels":{"node-restriction.kubernetes.io/pci":"yes"}}}"#, merge),
        write("PATCH", "/api/v1/nodes/node-a", #"{"spec":{"taints":null}}"#, merge),
        write("PATCH", "/api/v1/nodes/node-a", #"{"spec":{"unschedulable":true}}"#, merge),
        write(
            "PATCH", "/api/v1/nodes/node-a?fieldManager=hostile&force=true",
            "apiVersion: v1\nkind: Node\nmetadata: {name: node-a}\nspec: {taints: []}\n", apply),
        write(
            "PATCH", "/api/v1/nodes/node-a/status", #"{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady"}]}}"#, merge,
            .nodeA),
        write("PATCH", "/api/v1/nodes/node-b", #"{"metadata":{"labels":{"team":"ops"}}}"#, merge, .nodeB),
        Probe(method: "DELETE", path: "/api/v1/nodes/node-b", access: .adminOnly, destructive: true),
        write(
            "PUT", "\(leases)/node-a",
            #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"node-a","namespace":"kube-node-lease"},"spec":{"holderIdentity":"node-a","leaseDurationSeconds":40}}"#,
            json, .nodeA),
        write("PATCH", "\(leases)/node-b", #"{"spec":{"holderIdentity":"node-b"}}"#, merge, .nodeB),
        write(
            "POST", leases, #"{"apiVersion":"coordination.k8s.io/v1","kind":"Lease","metadata":{"name":"node-b","namespace":"kube-node-lease"}}"#,
            json, .nodeB),
        write(
            "POST", "\(ns)/events",
            #"{"apiVersion":"v1","kind":"Event","metadata":{"name":"node-event"},"involvedObject":{"kind":"Node","name":"node-a"},"reason":"Probe","message":"from a node"}"#,
            json, .nodes),

        // GitOps endpoints.
        get("/history", .readers), get("/drift", .readers),
        write("POST", "/diff", diffBody, json, .adminOnly),
        write("POST", "/sync", "{}", json, .adminOnly),
        write("POST", "/rollback", #"{"commit":"0000000000000000000000000000000000000000"}"#, json, .adminOnly),
    ]
}

/// Drives a running server with every role's token, no token and a revoked
/// token, over every route family, verb and patch type, and checks the
/// allow/deny table Kubernetes' defaults would give (docs/security.md), that a
/// refusal changes nothing in the store and that no response leaks a Secret
/// value to a caller who may not read it.
@Suite(.serialized) struct HostileClientTests {
    static let runner = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appending(path: "Client/raw_requests.py").path

    struct Response: Decodable {
        var status: Int
        var body: String
    }

    final class Harness {
        let server: RunningServer
        let git: GitFixture
        var tokens: [Caller: String] = [:]
        let webhookSecret: String

        init() async throws {
            git = try GitFixture()
            try git.commit(
                [
                    "capstan.yaml": "apiVersion: capstan.io/v1alpha1\nkind: Repository\npaths: [deploy]\nselfHeal: false\nsyncInterval: 1h\n",
                    "deploy/secret.yaml":
                        "apiVersion: v1\nkind: Secret\nmetadata: {name: git-sec, namespace: default}\nstringData: {password: \(gitSecretValue)}\n",
                ], message: "A git-managed Secret")
            // Nodes that never heartbeat must not be marked or evicted while the table runs.
            // The table is about who may do what: an admin may post a host-path pod; that
            // the default policies refuse it is PolicyAdmissionTests' subject.
            server = try await RunningServer(arguments: [
                "--repo", git.remote.path, "--node-monitor-grace-period", "3600", "--compaction-interval", "0", "--admission-policies", "none",
            ])
            webhookSecret = try String(contentsOfFile: server.dataDirectory + "/webhook-secret", encoding: .utf8)
                .trimmingCharacters(in: .whitespacesAndNewlines)
            tokens[.admin] = try server.adminToken
            tokens[.viewer] = try await server.token(role: "viewer")
            tokens[.nodeA] = try await server.token(role: "node", node: "node-a")
            tokens[.nodeB] = try await server.token(role: "node", node: "node-b")
            let revoked = try await server.token(role: "viewer")
            tokens[.revoked] = revoked
            let list = try await runCommand(RunningServer.capstanBinary, ["token", "list", "--data-dir", server.dataDirectory])
            let ids = list.output.split(separator: "\n").map { String($0.prefix { $0 != " " }) }
            // The id is the first 12 hex digits of the token's SHA-256; revoke the one that matches.
            let revokedID = Hex.encode(SHA256.hash(data: Array(revoked.utf8))).prefix(12)
            guard ids.contains(String(revokedID)) else { throw RunningServerError("token \(revokedID) not in \(list.output)") }
            let result = try await runCommand(
                RunningServer.capstanBinary, ["token", "revoke", "--data-dir", server.dataDirectory, String(revokedID)])
            guard result.status == 0 else { throw RunningServerError("revoke: \(result.output)") }
        }

        func send(_ probes: [Probe], as caller: Caller) async throws -> [Response] {
            var requests: [JSONValue] = []
            for probe in probes {
                var headers: JSONObject = [:]
                if let token = tokens[caller] { headers["Authorization"] = .string("Bearer \(token)") }
                if let type = probe.contentType { headers["Content-Type"] = .string(type) }
                for (name, value) in probe.headers { headers[name] = .string(value) }
                requests.append([
                    "method": .string(probe.method), "path": .string(probe.path), "headers": .object(headers),
                    "body": probe.body.map(JSONValue.string) ?? .null,
                ])
            }
            let result = try await runCommand(
                "/usr/bin/env", ["python3", HostileClientTests.runner, server.url, server.caPath],
                input: JSONSerializer.string(.array(requests)), timeout: .seconds(300))
            guard result.status == 0 else { throw RunningServerError("raw_requests.py: \(result.output)") }
            let responses = try JSONDecoder().decode([Response].self, from: Data(result.output.utf8))
            guard responses.count == probes.count else { throw RunningServerError("\(responses.count) responses to \(probes.count) requests") }
            return responses
        }

        /// The store's current revision (a list is read at it): any write moves it.
        func revision() async throws -> Int64 {
            let result = try await server.http("GET", "/api/v1/namespaces?limit=1")
            return try #require(
                JSONParser().parse(Array(result.body.utf8))[path: ["metadata", "resourceVersion"]]?.stringValue.flatMap { Int64($0) })
        }

        /// Objects written after `revision`, as `kind/namespace/name@rv`, to say what a refused request changed.
        func writtenSince(_ revision: Int64) async throws -> [String] {
            var changed: [String] = []
            for path in [
                "/api/v1/pods", "/api/v1/nodes", "/api/v1/configmaps", "/api/v1/secrets", "/api/v1/namespaces", "/apis/apps/v1/deployments",
                "/apis/coordination.k8s.io/v1/leases", "/api/v1/events",
            ] {
                let list = try JSONParser().parse(Array(try await server.http("GET", path).body.utf8))
                for item in list["items"]?.arrayValue ?? [] {
                    let rv = item[path: ["metadata", "resourceVersion"]]?.stringValue.flatMap { Int64($0) } ?? 0
                    if rv > revision {
                        changed.append(
                            "\(path) \(item[path: ["metadata", "namespace"]]?.stringValue ?? "")/\(item[path: ["metadata", "name"]]?.stringValue ?? "")@\(rv)"
                        )
                    }
                }
            }
            return changed
        }

        func stop() { server.stop() }
    }

    @Test func everyRouteAnswersEachCallerAsKubernetesWouldAndARefusalChangesNothing() async throws {
        let harness = try await Harness()
        defer { harness.stop() }
        let server = harness.server
        // Wait for the first sync, then lay the fixtures and let the controllers settle.
        try await eventually("the first sync applied git-sec") {
            try await server.http("GET", "\(ns)/secrets/git-sec").status == 200
        }
        let applied = try await server.kubectl("apply", "-f", try server.write("fixtures.yaml", fixtures))
        #expect(applied.status == 0, "\(applied.output)")
        try await eventually("the deployment controller observed web") {
            let body = try await server.http("GET", "\(apps)/deployments/web").body
            return try JSONParser().parse(Array(body.utf8))[path: ["status", "observedGeneration"]]?.intValue == 1
        }
        try await eventually("the store is quiet") {
            let before = try await harness.revision()
            try await Task.sleep(for: .seconds(1))
            return try await harness.revision() == before
        }

        let table = probes(webhookSecret: harness.webhookSecret)
        // A webhook checks its own signature, so every caller gets the same 401 for a forged one.
        let webhook = [
            Probe(
                method: "POST", path: "/hooks/git", body: "{}", contentType: "application/json", headers: ["X-Hub-Signature-256": "sha256=00"],
                access: .publicInfo),
            // A secret in a URL ends up in proxy and access logs: not accepted there.
            Probe(
                method: "POST", path: "/hooks/git?token=\(harness.webhookSecret)", body: "{}", contentType: "application/json", access: .publicInfo),
        ]

        // 1. Every request every caller may not make, and both webhook forgeries: nothing may change.
        let before = try await harness.revision()
        var failures: [String] = []
        for caller in Caller.allCases where caller != .admin {
            let refused = table.filter { $0.access.verdict(caller) != .allow }
            let responses = try await harness.send(refused + webhook, as: caller)
            for (probe, response) in zip(refused, responses.prefix(refused.count)) {
                let expected = probe.access.verdict(caller)
                let status = JSONValue.parseOrNull(response.body)
                let code = expected == .unauthorized ? 401 : 403
                if response.status != code || status["kind"]?.stringValue != "Status"
                    || status["reason"]?.stringValue != (code == 401 ? "Unauthorized" : "Forbidden")
                {
                    failures.append(
                        "\(caller.rawValue) \(probe): expected \(code) \(expected.rawValue), got \(response.status) \(response.body.prefix(300))")
                }
            }
            for (probe, response) in zip(webhook, responses.suffix(webhook.count)) where response.status != 401 {
                failures.append("\(caller.rawValue) \(probe): a forged webhook got \(response.status) \(response.body.prefix(200))")
            }
            for response in responses {
                for secret in [gitSecretValue, nodeSecretValue] where response.body.contains(secret) || response.body.contains(base64(secret)) {
                    failures.append("\(caller.rawValue): a refusal carried a Secret value: \(response.body.prefix(300))")
                }
            }
        }
        let after = try await harness.revision()
        let written = after == before ? [] : try await harness.writtenSince(before)
        #expect(after == before, "refused requests wrote to the store: revision \(before) → \(after): \(written)")
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        let ghost = try await server.http("GET", "\(ns)/pods/hostile-ghost")
        #expect(ghost.status == 404, "\(ghost.body)")

        // 2. What viewers and nodes may do, they can; no Secret value reaches one that may not read it.
        failures = []
        for caller in [Caller.viewer, .nodeA, .nodeB] {
            let allowed = table.filter { $0.access.verdict(caller) == .allow }.sorted { !$0.destructive && $1.destructive }
            let responses = try await harness.send(allowed, as: caller)
            for (probe, response) in zip(allowed, responses) where [0, 401, 403].contains(response.status) {
                failures.append("\(caller.rawValue) \(probe): expected to be allowed, got \(response.status) \(response.body.prefix(300))")
            }
            for (probe, response) in zip(allowed, responses) {
                if response.body.contains(gitSecretValue) || response.body.contains(base64(gitSecretValue)) {
                    failures.append("\(caller.rawValue) \(probe): carried git-sec's value")
                }
                let mayReadNodeSecret = caller == .nodeA && probe.path.hasSuffix("/secrets/sec-used")
                if !mayReadNodeSecret, response.body.contains(base64(nodeSecretValue)) {
                    failures.append("\(caller.rawValue) \(probe): carried sec-used's value")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")

        // 3. The admin may do everything: nothing is refused, and the ghost pod stays a ghost.
        let ordered = table.sorted { !$0.destructive && $1.destructive }
        let responses = try await harness.send(ordered, as: .admin)
        failures = []
        for (probe, response) in zip(ordered, responses) where [0, 401, 403].contains(response.status) {
            failures.append("admin \(probe): got \(response.status) \(response.body.prefix(300))")
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
        for (probe, response) in zip(ordered, responses) where probe.path.contains("hostile-ghost/status") {
            #expect(
                response.status == 404,
                "admin \(probe): an apply to the status of a missing pod must not create it: \(response.status) \(response.body)")
        }
        #expect(try await server.http("GET", "\(ns)/pods/hostile-ghost").status == 404)
    }

    /// The node token of the report: server-side apply to `pods/x/status` with
    /// a full pod answered 201 and created it; a plain POST was 403.
    @Test func aNodeCannotCreateAPodThroughItsStatus() async throws {
        let server = try await RunningServer(arguments: ["--node-monitor-grace-period", "3600"])
        defer { server.stop() }
        let node = try await server.token(role: "node", node: "worker-1")
        let kubeconfig = try await server.writeKubeconfig(token: node, name: "node.kubeconfig")
        let manifest = try server.write("ghost.yaml", ghostPod.replacingOccurrences(of: "node-a", with: "worker-1"))
        var result = try await server.kubectl(
            kubeconfig: kubeconfig, ["apply", "--server-side", "--subresource=status", "--field-manager=x", "-f", manifest])
        #expect(result.status != 0 && result.output.contains(#"the pod does not exist"#), "\(result.output)")
        result = try await server.kubectl(kubeconfig: kubeconfig, ["create", "-f", manifest])
        #expect(result.status != 0 && result.output.contains("(Forbidden)"), "\(result.output)")
        result = try await server.kubectl("get", "pod", "hostile-ghost")
        #expect(result.status != 0 && result.output.contains("NotFound"), "\(result.output)")
        // The admin gets Kubernetes' answer: an apply to a subresource never creates.
        result = try await server.kubectl("apply", "--server-side", "--subresource=status", "--field-manager=x", "-f", manifest)
        #expect(result.status != 0 && result.output.contains("NotFound"), "\(result.output)")
        result = try await server.kubectl("get", "pod", "hostile-ghost")
        #expect(result.status != 0 && result.output.contains("NotFound"), "\(result.output)")
    }

    @Test func nodeRestrictionKeepsTaintsSchedulabilityAndReservedLabelsOutOfANodesHands() async throws {
        // No lifecycle taints on a node that never heartbeats while the test runs.
        let server = try await RunningServer(arguments: ["--node-monitor-grace-period", "3600"])
        defer { server.stop() }
        let node = try await server.writeKubeconfig(token: try await server.token(role: "node", node: "worker-1"), name: "node.kubeconfig")
        var result = try await server.kubectl(
            kubeconfig: node, ["create", "-f", "-"],
            input: "apiVersion: v1\nkind: Node\nmetadata: {name: worker-1, labels: {node-role.kubernetes.io/control-plane: \"\"}}\n")
        #expect(
            result.status != 0 && result.output.contains(#"node "worker-1" is not allowed to set labels: node-role.kubernetes.io/control-plane"#),
            "\(result.output)")
        result = try await server.kubectl(
            kubeconfig: node, ["create", "-f", "-"],
            input:
                "apiVersion: v1\nkind: Node\nmetadata: {name: worker-1, labels: {kubernetes.io/hostname: worker-1, topology.kubernetes.io/zone: z1}}\nspec: {taints: [{key: new, effect: NoSchedule}]}\n"
        )
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("taint", "node", "worker-1", "dedicated=ops:NoExecute")
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl(kubeconfig: node, ["taint", "node", "worker-1", "dedicated-"])
        #expect(result.status != 0 && result.output.contains(#"node "worker-1" is not allowed to modify taints"#), "\(result.output)")
        result = try await server.kubectl(kubeconfig: node, ["uncordon", "worker-1"])
        #expect(result.status == 0, "uncordon of a schedulable node changes nothing: \(result.output)")
        result = try await server.kubectl("cordon", "worker-1")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the lifecycle controller's unschedulable taint") {
            try await server.kubectl("get", "node", "worker-1", "-o", "jsonpath={.spec.taints[*].key}").output.contains(
                "node.kubernetes.io/unschedulable")
        }
        // (kubectl uncordon prints the refusal but exits 0; the state below shows it held.)
        result = try await server.kubectl(kubeconfig: node, ["uncordon", "worker-1"])
        #expect(
            result.output.contains(#"nodes "worker-1" is forbidden: node "worker-1" is not allowed to modify spec.unschedulable"#), "\(result.output)"
        )
        result = try await server.kubectl(kubeconfig: node, ["label", "node", "worker-1", "node-role.kubernetes.io/worker="])
        #expect(result.status != 0 && result.output.contains("not allowed to modify labels: node-role.kubernetes.io/worker"), "\(result.output)")
        result = try await server.kubectl(kubeconfig: node, ["label", "node", "worker-1", "team=ops", "node.kubernetes.io/instance-type=small"])
        #expect(result.status == 0, "labels outside the reserved namespaces are the node's: \(result.output)")
        func taintKeys() async throws -> [String] {
            try await server.kubectl("get", "node", "worker-1", "-o", "jsonpath={.spec.taints[*].key}").output.split(separator: " ").map(String.init)
                .sorted()
        }
        // The node lifecycle controller taints a cordoned node; nothing the node asked for changed.
        #expect(try await taintKeys() == ["dedicated", "new", "node.kubernetes.io/unschedulable"])
        result = try await server.kubectl("get", "node", "worker-1", "-o", "jsonpath={.spec.unschedulable} {.metadata.labels.team}")
        #expect(result.output == "true ops", "\(result.output)")
        // The admin may: a taint comes off with kubectl's own verb.
        result = try await server.kubectl("taint", "node", "worker-1", "dedicated-")
        #expect(result.status == 0, "\(result.output)")
        #expect(try await taintKeys() == ["new", "node.kubernetes.io/unschedulable"])
    }
}

extension JSONValue {
    /// The parsed body, or null when it is not JSON.
    static func parseOrNull(_ text: String) -> JSONValue {
        (try? JSONParser().parse(Array(text.utf8))) ?? .null
    }
}
