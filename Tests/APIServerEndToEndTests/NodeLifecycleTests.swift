import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

/// Node health, taint eviction and namespace deletion inside `capstan server`, seen through kubectl.
@Suite struct NodeLifecycleEndToEndTests {

    static func microTime(_ date: Date) -> String {
        let formatter = ISO8601DateFormatter()
        formatter.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        return formatter.string(from: date)
    }

    @Test func aSilentNodeGoesNotReadyItsPodsAreEvictedAndANamespaceDeletesItsContent() async throws {
        let server = try await RunningServer(arguments: ["--node-monitor-grace-period", "3", "--default-toleration-seconds", "2"])
        defer { server.stop() }
        let now = Self.microTime(Date())
        // What a node agent registers: the Node, its Lease, a Ready status; then it goes quiet.
        let manifest = try server.write(
            "node.yaml",
            """
            apiVersion: v1
            kind: Node
            metadata: {name: n1}
            ---
            apiVersion: coordination.k8s.io/v1
            kind: Lease
            metadata: {name: n1, namespace: kube-node-lease}
            spec: {holderIdentity: n1, leaseDurationSeconds: 40, renewTime: "\(now)"}
            ---
            apiVersion: v1
            kind: Namespace
            metadata: {name: team}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: web}
            spec:
              nodeName: n1
              containers: [{name: web, image: localhost/web:1}]
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: held, namespace: team}
            spec:
              nodeName: n1
              tolerations: [{operator: Exists}]
              containers: [{name: web, image: localhost/web:1}]
            ---
            apiVersion: v1
            kind: ConfigMap
            metadata: {name: settings, namespace: team}
            data: {a: "1"}
            """)
        var result = try await server.kubectl("apply", "-f", manifest)
        #expect(result.status == 0, "\(result.output)")
        let status =
            #"{"status":{"conditions":[{"type":"Ready","status":"True","reason":"KubeletReady","lastHeartbeatTime":"\#(now)","lastTransitionTime":"\#(now)"}]}}"#
        result = try await server.kubectl("patch", "node", "n1", "--subresource=status", "--type=merge", "-p", status)
        #expect(result.status == 0, "\(result.output)")
        // The API server added the default tolerations (2 s here).
        result = try await server.kubectl("get", "pod", "web", "-o", "jsonpath={.spec.tolerations[*].tolerationSeconds}")
        #expect(result.output == "2 2", "\(result.output)")

        try await eventually("the node is NotReady") {
            try await server.kubectl("get", "node", "n1", "--no-headers").output.contains("NotReady")
        }
        result = try await server.kubectl("get", "node", "n1", "-o", "jsonpath={.status.conditions[0].reason} {.spec.taints[*].key}")
        #expect(result.output.hasPrefix("NodeStatusUnknown node.kubernetes.io/unreachable"), "\(result.output)")
        try await eventually("the pod is evicted") {
            try await !server.kubectl("get", "pod", "web", "-o", "jsonpath={.metadata.deletionTimestamp}").output.isEmpty
        }
        result = try await server.kubectl("get", "events", "--field-selector", "reason=TaintManagerEviction", "-o", "jsonpath={.items[*].message}")
        #expect(result.output.contains("Marking for deletion Pod default/web"), "\(result.output)")
        // The pod that tolerates everything stays.
        #expect(try await server.kubectl("get", "pod", "held", "-n", "team", "-o", "jsonpath={.metadata.deletionTimestamp}").output.isEmpty)

        // Deleting the namespace: Terminating while the pod on the (silent) node holds it.
        result = try await server.kubectl("delete", "namespace", "team", "--wait=false")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the ConfigMap is gone and the pod terminating") {
            let maps = try await server.kubectl("get", "configmaps", "-n", "team", "-o", "name").output
            let pod = try await server.kubectl("get", "pod", "held", "-n", "team", "-o", "jsonpath={.metadata.deletionTimestamp}").output
            return maps.isEmpty && !pod.isEmpty
        }
        result = try await server.kubectl("get", "namespace", "team", "--no-headers")
        #expect(result.output.contains("Terminating"), "\(result.output)")
        let late = try server.write("late.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: late, namespace: team}\n")
        result = try await server.kubectl("create", "-f", late)
        #expect(result.status != 0)
        #expect(result.output.contains("unable to create new content in namespace team because it is being terminated"), "\(result.output)")
        // The node is gone for good: force the pod away, and the namespace follows.
        result = try await server.kubectl("delete", "pod", "held", "-n", "team", "--grace-period=0", "--force")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the namespace is gone") { try await server.kubectl("get", "namespace", "team").status != 0 }

        // `kubectl delete namespace` waits until the content and the namespace are gone.
        let quick = try server.write(
            "quick.yaml",
            """
            apiVersion: v1
            kind: Namespace
            metadata: {name: quick}
            ---
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web, namespace: quick}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec: {containers: [{name: web, image: localhost/web:1}]}
            ---
            apiVersion: v1
            kind: Secret
            metadata: {name: token, namespace: quick}
            stringData: {token: abc}
            """)
        result = try await server.kubectl("apply", "-f", quick)
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the Deployment's pods exist") {
            try await server.kubectl("get", "pods", "-n", "quick", "-o", "name").output.split(separator: "\n").count == 2
        }
        result = try await server.kubectl("delete", "namespace", "quick", "--cascade=foreground", "--timeout=30s")
        #expect(result.status == 0, "\(result.output)")
        #expect(try await server.kubectl("get", "namespace", "quick").status != 0)
        #expect(try await server.kubectl("get", "pods,replicasets,deployments,secrets", "-n", "quick", "-o", "name").output.isEmpty)

        // A namespace stuck on content that will never go can be let go by hand, through `finalize`.
        let stuck = try server.write(
            "stuck.yaml",
            """
            apiVersion: v1
            kind: Namespace
            metadata: {name: stuck}
            ---
            apiVersion: v1
            kind: Pod
            metadata: {name: held, namespace: stuck}
            spec:
              nodeName: n1
              tolerations: [{operator: Exists}]
              containers: [{name: web, image: localhost/web:1}]
            """)
        result = try await server.kubectl("apply", "-f", stuck)
        #expect(result.status == 0, "\(result.output)")
        result = try await server.kubectl("delete", "namespace", "stuck", "--wait=false")
        #expect(result.status == 0, "\(result.output)")
        let finalize = try server.write(
            "finalize.json", #"{"apiVersion":"v1","kind":"Namespace","metadata":{"name":"stuck"},"spec":{"finalizers":[]}}"#)
        result = try await server.kubectl("replace", "--raw", "/api/v1/namespaces/stuck/finalize", "-f", finalize)
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the finalized namespace is gone") { try await server.kubectl("get", "namespace", "stuck").status != 0 }

        result = try await server.kubectl("delete", "namespace", "kube-system")
        #expect(result.status != 0)
        #expect(result.output.contains(#"namespaces "kube-system" is forbidden: this namespace may not be deleted"#), "\(result.output)")
    }
}
