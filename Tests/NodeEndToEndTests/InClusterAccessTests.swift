import CapstanTestSupport
import Foundation
import Testing

/// A pod talks to the API server as in-cluster clients do: with the token,
/// CA and namespace mounted at /var/run/secrets/kubernetes.io/serviceaccount
/// and the address in `KUBERNETES_SERVICE_HOST`/`PORT`, and exactly the rights
/// its ServiceAccount's RoleBinding gives. All of it comes from one commit to
/// the repository `capstan up` follows; the client is busybox's `wget`.
@Suite(.serialized, .enabled(if: getuid() == 0, "needs root: runc, CNI and mounts"))
struct InClusterAccessTests {
    static let manifests = """
        apiVersion: rbac.authorization.k8s.io/v1
        kind: Role
        metadata:
          name: pod-reader
          namespace: demo
        rules:
          - apiGroups: [""]
            resources: [pods]
            verbs: [get, list]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: RoleBinding
        metadata:
          name: default-reads-pods
          namespace: demo
        subjects:
          - kind: ServiceAccount
            name: default
            namespace: demo
        roleRef:
          apiGroup: rbac.authorization.k8s.io
          kind: Role
          name: pod-reader
        ---
        apiVersion: v1
        kind: Pod
        metadata:
          name: in-cluster-client
          namespace: demo
        spec:
          restartPolicy: Never
          containers:
            - name: client
              image: localhost/capstan/busybox:1.35
              command:
                - sh
                - -c
                - |
                  D=/var/run/secrets/kubernetes.io/serviceaccount
                  T=$(cat $D/token)
                  API=https://$KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT/api/v1/namespaces/$(cat $D/namespace)
                  echo "ca.crt: $(sha256sum $D/ca.crt | cut -d' ' -f1)"
                  echo "server: $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT"
                  wget -qO /tmp/pods --no-check-certificate --header "Authorization: Bearer $T" $API/pods
                  echo "pods: $(grep -o '"kind":"PodList"' /tmp/pods) $(grep -o '"name":"in-cluster-client"' /tmp/pods)"
                  echo "secrets: $(wget -qO- --no-check-certificate --header "Authorization: Bearer $T" $API/secrets 2>&1)"
                  echo "no token: $(wget -qO- --no-check-certificate $API/pods 2>&1)"
        """

    @Test(.timeLimit(.minutes(10)))
    func aPodListsWhatItsRoleAllowsAndIsRefusedTheRest() async throws {
        // Pods reach the server at the machine's address, so it listens on every address.
        try await UpHarness.with(listenHost: "0.0.0.0") { harness in
            try harness.git.commit(["deploy/in-cluster-client.yaml": Self.manifests], message: "A pod that reads pods through the API")
            try await harness.waitFor("the client pod to finish") {
                let phase = try await harness.kubectl("get", "pod", "in-cluster-client", "-n", "demo", "-o", "jsonpath={.status.phase}")
                return phase == "Succeeded" || phase == "Failed"
            }
            let lines = try await harness.kubectl("logs", "in-cluster-client", "-n", "demo").split(separator: "\n").map(String.init)

            // The mounted CA is the server's own.
            let hashed = try await runCommand("/usr/bin/sha256sum", [harness.dataDirectory + "/pki/ca.crt"], timeout: .seconds(10))
            let digest = try #require(hashed.output.split(separator: " ").first.map(String.init))
            #expect(digest.count == 64, "\(hashed)")
            #expect(lines.contains("ca.crt: \(digest)"), "\(lines)")
            // That CA verifies the server at the address pods are given, as client-go checks it
            // (busybox wget cannot verify, so curl does it from the host, to the same address).
            let server = try #require(lines.first { $0.hasPrefix("server: ") }.map { String($0.dropFirst("server: ".count)) })
            #expect(!server.hasPrefix("127.") && !server.hasPrefix(":"), "\(server)")
            let verified = try await runCommand(
                "/usr/bin/curl", ["--silent", "--show-error", "--cacert", harness.dataDirectory + "/pki/ca.crt", "https://\(server)/version"],
                timeout: .seconds(30))
            #expect(verified.status == 0 && verified.output.contains(#""gitVersion""#), "\(verified)")
            // Allowed by its Role: the list, holding the pod itself.
            #expect(lines.contains(#"pods: "kind":"PodList" "name":"in-cluster-client""#), "\(lines)")
            // Not in its Role: refused as Kubernetes refuses it.
            #expect(lines.contains("secrets: wget: server returned error: HTTP/1.1 403 Forbidden"), "\(lines)")
            // Without the token nobody is signed in.
            #expect(lines.contains("no token: wget: server returned error: HTTP/1.1 401 Unauthorized"), "\(lines)")

            // kubectl answers the same questions about the account.
            #expect(try await harness.kubectl("auth", "can-i", "list", "pods", "-n", "demo", "--as=system:serviceaccount:demo:default") == "yes\n")
            var environment = ProcessInfo.processInfo.environment
            environment["KUBECONFIG"] = harness.kubeconfig
            let secrets = try await runCommand(
                "/usr/bin/kubectl", ["auth", "can-i", "list", "secrets", "-n", "demo", "--as=system:serviceaccount:demo:default"],
                environment: environment, timeout: .seconds(60))
            #expect(secrets.status == 1 && secrets.output.hasPrefix("no"), "\(secrets)")
        }
    }
}
