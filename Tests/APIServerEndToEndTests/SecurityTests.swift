import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

private let configMap = """
    apiVersion: v1
    kind: ConfigMap
    metadata: {name: shop-config}
    data: {marker: plaintext-configmap-marker-4711}
    """

/// Every file of the server's SQLite store (database, write-ahead log, shared memory), as bytes.
private func storeBytes(_ server: RunningServer) throws -> Data {
    var all = Data()
    for name in try FileManager.default.contentsOfDirectory(atPath: server.storeDirectory) {
        all.append(try Data(contentsOf: URL(fileURLWithPath: server.storeDirectory + "/" + name)))
    }
    return all
}

private func contains(_ haystack: Data, _ needle: String) -> Bool {
    haystack.range(of: Data(needle.utf8)) != nil
}

/// TLS, tokens and roles, and Secrets at rest, through the real kubectl, curl and Python client.
@Suite(.serialized) struct SecurityTests {
    @Test func viewerCanGetButNotDeleteOrReadSecrets() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        #expect(server.url.hasPrefix("https://"))
        var result = try await server.kubectl("apply", "-f", try server.write("cm.yaml", configMap))
        #expect(result.status == 0, "\(result.output)")

        let viewer = try await server.writeKubeconfig(token: try await server.token(role: "viewer"), name: "viewer.kubeconfig")
        result = try await server.kubectl(kubeconfig: viewer, ["get", "configmap", "shop-config", "-o", "jsonpath={.data.marker}"])
        #expect(result.status == 0 && result.output == "plaintext-configmap-marker-4711", "\(result.output)")
        result = try await server.kubectl(kubeconfig: viewer, ["get", "configmaps"])
        #expect(result.status == 0 && result.output.contains("shop-config"), "\(result.output)")

        result = try await server.kubectl(kubeconfig: viewer, ["delete", "configmap", "shop-config"])
        #expect(result.status != 0)
        #expect(
            result.output.contains(
                #"Error from server (Forbidden): configmaps "shop-config" is forbidden: User "viewer" cannot delete resource "configmaps" in API group "" in the namespace "default""#
            ), "\(result.output)")
        result = try await server.kubectl(kubeconfig: viewer, ["get", "secrets"])
        #expect(
            result.status != 0 && result.output.contains("(Forbidden)") && result.output.contains(#"cannot list resource "secrets""#),
            "\(result.output)")

        // The admin still can; the refusal changed nothing.
        result = try await server.kubectl("delete", "configmap", "shop-config")
        #expect(result.status == 0 && result.output.contains("deleted"), "\(result.output)")

        // Revoked with the CLI while the server runs: refused from the next request on.
        let list = try await runCommand(RunningServer.capstanBinary, ["token", "list", "--data-dir", server.dataDirectory])
        let viewerLine = try #require(list.output.split(separator: "\n").first { $0.contains(" viewer ") }, "\(list.output)")
        let id = String(viewerLine.prefix { $0 != " " })
        let revoked = try await runCommand(RunningServer.capstanBinary, ["token", "revoke", "--data-dir", server.dataDirectory, id])
        #expect(revoked.status == 0 && revoked.output.contains("token \(id) revoked"), "\(revoked.output)")
        result = try await server.kubectl(kubeconfig: viewer, ["get", "configmaps"])
        #expect(result.status != 0 && result.output.contains("You must be logged in to the server"), "\(result.output)")
        result = try await server.kubectl("get", "configmaps")
        #expect(result.status == 0, "\(result.output)")
    }

    @Test func withoutAValidTokenKubectlIsUnauthorized() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let ca = Base64.encode(Array(try Data(contentsOf: URL(fileURLWithPath: server.caPath))))
        func kubeconfig(user: String) -> String {
            """
            apiVersion: v1
            kind: Config
            clusters: [{name: capstan, cluster: {server: "\(server.url)", certificate-authority-data: "\(ca)"}}]
            users: [{name: someone, user: \(user)}]
            contexts: [{name: c, context: {cluster: capstan, user: someone}}]
            current-context: c
            """
        }
        // A wrong token, and a kubeconfig with a user name and password but no token:
        // kubectl says what it says against Kubernetes.
        let wrong = try server.write("wrong.kubeconfig", kubeconfig(user: "{token: not-a-capstan-token}"))
        var result = try await server.kubectl(kubeconfig: wrong, ["get", "namespaces"])
        #expect(result.status != 0 && result.output.contains("error: You must be logged in to the server"), "\(result.output)")
        let basic = try server.write("basic.kubeconfig", kubeconfig(user: "{username: admin, password: admin}"))
        result = try await server.kubectl(kubeconfig: basic, ["get", "pods"])
        #expect(result.status != 0 && result.output.contains("error: You must be logged in to the server"), "\(result.output)")
        result = try await server.kubectl(kubeconfig: wrong, ["get", "--raw", "/api/v1/namespaces"])
        #expect(result.status != 0 && result.output.contains("error: You must be logged in to the server (Unauthorized)"), "\(result.output)")

        // curl checks the certificate against the CA on its own; health is open, the rest is not.
        let healthz = try await runCommand("/usr/bin/curl", ["-sS", "--cacert", server.caPath, server.url + "/healthz"])
        #expect(healthz.status == 0 && healthz.output == "ok", "\(healthz.output)")
        for path in ["/status", "/metrics", "/api/v1/namespaces"] {
            let refused = try await runCommand("/usr/bin/curl", ["-sS", "--cacert", server.caPath, server.url + path])
            #expect(
                refused.output
                    == #"{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"Unauthorized","reason":"Unauthorized","code":401}"#
                    + "\n",
                "\(path): \(refused.output)")
        }
        let authorized = try await runCommand(
            "/usr/bin/curl", ["-sS", "--cacert", server.caPath, "-H", "Authorization: Bearer \(try server.adminToken)", server.url + "/status"])
        #expect(authorized.output.contains(#""backend":"sqlite""#), "\(authorized.output)")
        // Without the CA the certificate is not trusted: it is Capstan's own.
        let untrusted = try await runCommand("/usr/bin/curl", ["-sS", server.url + "/healthz"])
        #expect(untrusted.status != 0 && untrusted.output.contains("certificate"), "\(untrusted.output)")
    }

    @Test func secretsReadBackForTheAdminButAreNotInTheDatabaseFile() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let value = "s3cr3t-value-that-must-not-leak-9c1e"
        let encoded = Base64.encode(Array(value.utf8))
        // Applied as JSON (`kubectl create secret` would send the same object as protobuf).
        let secretFile = try server.write(
            "secret.yaml",
            """
            apiVersion: v1
            kind: Secret
            metadata: {name: db-credentials}
            data: {password: \(encoded)}
            """)
        var result = try await server.kubectl("apply", "-f", secretFile)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("apply", "-f", try server.write("cm.yaml", configMap))
        #expect(result.status == 0, "\(result.output)")

        result = try await server.kubectl("get", "secret", "db-credentials", "-o", "yaml")
        #expect(result.status == 0 && result.output.contains("password: \(encoded)") && result.output.contains("kind: Secret"), "\(result.output)")

        let bytes = try storeBytes(server)
        // Reading the files works (the ConfigMap is there in plain text), and the Secret is not.
        #expect(contains(bytes, "plaintext-configmap-marker-4711"))
        #expect(contains(bytes, "k8s:enc:aesgcm:v1:key1:"))
        #expect(!contains(bytes, value))
        #expect(!contains(bytes, encoded))
        #expect(!contains(bytes, #""kind":"Secret""#))
    }

    @Test func nodeTokenWritesOnlyItsOwnNodeAndPods() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let node = try await server.writeKubeconfig(token: try await server.token(role: "node", node: "worker-1"), name: "node.kubeconfig")
        func nodeManifest(_ name: String) throws -> String {
            try server.write("\(name).yaml", "apiVersion: v1\nkind: Node\nmetadata: {name: \(name)}\n")
        }
        func pod(_ name: String, on nodeName: String) throws -> String {
            try server.write(
                "\(name).yaml",
                """
                apiVersion: v1
                kind: Pod
                metadata: {name: \(name)}
                spec:
                  nodeName: \(nodeName)
                  containers: [{name: c, image: localhost/capstan/busybox:1.35}]
                """)
        }
        var result = try await server.kubectl(kubeconfig: node, ["create", "-f", try nodeManifest("worker-1")])
        #expect(result.status == 0 && result.output.contains("node/worker-1 created"), "\(result.output)")
        result = try await server.kubectl(kubeconfig: node, ["label", "node", "worker-1", "ready=yes"])
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl(kubeconfig: node, ["create", "-f", try nodeManifest("worker-2")])
        #expect(
            result.status != 0 && result.output.contains(#"a node may only create the object named "worker-1", not "worker-2""#), "\(result.output)")
        result = try await server.kubectl("create", "-f", try nodeManifest("worker-2"))
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl(kubeconfig: node, ["label", "node", "worker-2", "stolen=yes"])
        #expect(
            result.output.contains(
                #"nodes "worker-2" is forbidden: User "system:node:worker-1" cannot patch resource "nodes" in API group "" at the cluster scope"#),
            "\(result.output)")

        _ = try await server.kubectl("create", "-f", try pod("mine", on: "worker-1"))
        _ = try await server.kubectl("create", "-f", try pod("theirs", on: "worker-2"))
        let running = #"{"status":{"phase":"Running"}}"#
        result = try await server.kubectl(kubeconfig: node, ["patch", "pod", "mine", "--subresource=status", "--type=merge", "-p", running])
        #expect(result.status == 0 && result.output.contains("patched"), "\(result.output)")
        result = try await server.kubectl(kubeconfig: node, ["patch", "pod", "theirs", "--subresource=status", "--type=merge", "-p", running])
        #expect(result.status != 0 && result.output.contains(#"the pod is bound to node "worker-2", not "worker-1""#), "\(result.output)")
        result = try await server.kubectl("get", "pods", "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.phase};{end}")
        #expect(result.output.contains("mine=Running") && !result.output.contains("theirs=Running"), "\(result.output)")

        // It reads the Secrets its pods use, by name; never the list of all Secrets, nor others' Secrets.
        result = try await server.kubectl(kubeconfig: node, ["get", "secrets", "-A"])
        #expect(result.status != 0 && result.output.contains("(Forbidden)"), "\(result.output)")
        _ = try await server.kubectl(
            "apply", "-f", "-", input: "apiVersion: v1\nkind: Secret\nmetadata: {name: unused, namespace: default}\nstringData: {k: v}\n")
        result = try await server.kubectl(kubeconfig: node, ["get", "secret", "unused"])
        #expect(result.status != 0 && result.output.contains(#"no pod bound to node "worker-1" uses secrets "unused""#), "\(result.output)")
        _ = try await server.kubectl(
            "apply", "-f", "-",
            input: """
                apiVersion: v1
                kind: Secret
                metadata: {name: used, namespace: default}
                stringData: {k: v}
                ---
                apiVersion: v1
                kind: Pod
                metadata: {name: user, namespace: default}
                spec:
                  nodeName: worker-1
                  containers: [{name: c, image: localhost/capstan/busybox:1.35, env: [{name: K, valueFrom: {secretKeyRef: {name: used, key: k}}}]}]
                """)
        result = try await server.kubectl(kubeconfig: node, ["get", "secret", "used", "-o", "jsonpath={.metadata.name}"])
        #expect(result.status == 0 && result.output == "used", "\(result.output)")
        result = try await server.kubectl(kubeconfig: node, ["delete", "pod", "theirs"])
        #expect(result.status != 0 && result.output.contains("(Forbidden)"), "\(result.output)")
    }

    @Test func pythonClientTrustsTheGeneratedCertificate() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let script = """
            import ssl, sys
            from kubernetes import client, config
            config.load_kube_config(config_file=sys.argv[1])
            names = sorted(ns.metadata.name for ns in client.CoreV1Api().list_namespace().items)
            print(" ".join(names))
            """
        let result = try await runCommand("/usr/bin/env", ["python3", "-c", script, server.kubeconfig], timeout: .seconds(60))
        #expect(result.status == 0 && result.output.contains("default kube-node-lease kube-public kube-system"), "\(result.output)")
    }

    /// An address pods cannot use is refused before anything starts.
    @Test(arguments: [
        (
            ["--listen", "127.0.0.1:0", "--advertise-address", "192.0.2.10"],
            "--advertise-address needs a server pods can reach: --listen 127.0.0.1:0 is loopback only"
        ),
        (["--listen", "0.0.0.0:0", "--advertise-address", "127.0.0.1"], "--advertise-address 127.0.0.1 is loopback"),
        (["--listen", "0.0.0.0:0", "--advertise-address", "node-1"], "--advertise-address must be an IP address, not 'node-1'"),
    ])
    func advertiseAddressesPodsCannotUseAreRefused(flags: [String], message: String) async throws {
        let refused = try await runCommand(RunningServer.capstanBinary, ["server", "--data-dir", "/nonexistent/capstan"] + flags)
        #expect(refused.status != 0 && refused.output.contains(message), "\(refused.output)")
    }

    @Test func plainHTTPIsOptInAndLoopbackOnly() async throws {
        let refused = try await runCommand(
            RunningServer.capstanBinary, ["server", "--insecure-http", "--listen", "0.0.0.0:0", "--data-dir", "/nonexistent/capstan"])
        #expect(refused.status != 0 && refused.output.contains("--insecure-http needs a loopback --listen address"), "\(refused.output)")

        let server = try await RunningServer(insecureHTTP: true)
        defer { server.stop() }
        #expect(server.url.hasPrefix("http://"))
        #expect(!FileManager.default.fileExists(atPath: server.caPath))
        let result = try await server.kubectl("get", "namespaces", "-o", "name")
        #expect(result.status == 0 && result.output.contains("namespace/default"), "\(result.output)")
        // No authentication on the loopback-only plain port: curl needs no token either.
        let raw = try await runCommand("/usr/bin/curl", ["-sS", server.url + "/api/v1/namespaces/default"])
        #expect(raw.output.contains(#""name":"default""#), "\(raw.output)")

        // What a web page on this machine could send is refused: an Origin, a
        // rebinding host name, a form post. Nothing is created by any of them.
        let configMap = #"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"from-a-page"}}"#
        let path = "/api/v1/namespaces/default/configmaps"
        var response = try await server.http(
            "POST", path, body: configMap, headers: ["Origin": "http://evil.example", "Content-Type": "application/json"])
        #expect(response.status == 403 && response.body.contains("Origin header"), "\(response)")
        response = try await server.http(
            "POST", path, body: configMap, headers: ["Host": "rebound.evil.example:\(server.port)", "Content-Type": "application/json"])
        #expect(response.status == 403 && response.body.contains("loopback host"), "\(response)")
        response = try await server.http("POST", path, body: configMap, headers: ["Content-Type": "text/plain"])
        #expect(response.status == 415, "\(response)")
        response = try await server.http("POST", path, body: configMap, headers: ["Content-Type": "application/x-www-form-urlencoded"])
        #expect(response.status == 415, "\(response)")
        #expect(try await server.http("GET", path + "/from-a-page").status == 404)
        response = try await server.http("POST", path, body: configMap, headers: ["Content-Type": "application/json"])
        #expect(response.status == 201, "\(response)")

        // The listen address is an IP address, decided as one: a name that looks loopback is not.
        let named = try await runCommand(
            RunningServer.capstanBinary, ["server", "--insecure-http", "--listen", "127.evil.example:6443", "--data-dir", "/nonexistent/capstan"])
        #expect(named.status != 0 && named.output.contains("--listen needs an IP address as HOST"), "\(named.output)")
    }

    /// The data directory and the store are the owner's alone; keys and tokens 0600.
    @Test func theDataDirectoryIsPrivate() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1) & 0o777
        }
        #expect(try mode(server.dataDirectory) == 0o700)
        #expect(try mode(server.storeDirectory) == 0o700)
        for directory in ["pki", "auth"] { #expect(try mode(server.dataDirectory + "/" + directory) == 0o700, "\(directory)") }
        for file in ["secrets.key", "admin.kubeconfig", "auth/tokens.json", "pki/ca.key", "pki/server.key"] {
            #expect(try mode(server.dataDirectory + "/" + file) == 0o600, "\(file)")
        }
    }
}
