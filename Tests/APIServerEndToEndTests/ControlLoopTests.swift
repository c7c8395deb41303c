import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

/// The scheduler and controllers inside `capstan server`, seen through kubectl.
@Suite struct ControlLoopTests {

    @Test func aDeploymentBecomesAReplicaSetAndPodsThatWaitForANodeAndDeletionCascades() async throws {
        let server = try await RunningServer()
        defer { server.stop() }
        let manifest = try server.write(
            "web.yaml",
            """
            apiVersion: apps/v1
            kind: Deployment
            metadata: {name: web}
            spec:
              replicas: 2
              selector: {matchLabels: {app: web}}
              template:
                metadata: {labels: {app: web}}
                spec:
                  containers:
                  - {name: web, image: localhost/web:1, resources: {requests: {cpu: 100m}}}
            """)
        var result = try await server.kubectl("apply", "-f", manifest)
        #expect(result.status == 0, "\(result.output)")
        try await eventually("two pods exist") {
            try await server.kubectl("get", "pods", "-l", "app=web", "-o", "name").output.split(separator: "\n").count == 2
        }
        result = try await server.kubectl("get", "replicasets", "-o", "jsonpath={.items[0].metadata.ownerReferences[0].name}")
        #expect(result.output == "web", "\(result.output)")

        // No node has registered: the scheduler says so on each pod.
        try await eventually("FailedScheduling is recorded") {
            try await server.kubectl("get", "events", "--field-selector", "reason=FailedScheduling").output.contains(
                "no nodes available to schedule pods")
        }
        result = try await server.kubectl("get", "pods", "-l", "app=web", "-o", "jsonpath={.items[0].status.conditions[0].reason}")
        #expect(result.output == "Unschedulable", "\(result.output)")

        // Deleting the Deployment removes its ReplicaSet and pods (garbage collection).
        result = try await server.kubectl("delete", "deployment", "web")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the pods are gone") {
            try await server.kubectl("get", "pods", "-l", "app=web", "-o", "name").output.isEmpty
        }
        #expect(try await server.kubectl("get", "replicasets", "-o", "name").output.isEmpty)

        // --cascade=orphan: the Deployment goes, its ReplicaSet stays, no longer owned.
        result = try await server.kubectl("apply", "-f", manifest)
        try await eventually("a ReplicaSet exists") { try await !server.kubectl("get", "replicasets", "-o", "name").output.isEmpty }
        result = try await server.kubectl("delete", "deployment", "web", "--cascade=orphan")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the Deployment is gone") { try await server.kubectl("get", "deployment", "web").status != 0 }
        try await eventually("the ReplicaSet is released") {
            try await server.kubectl("get", "replicasets", "-o", "jsonpath={.items[0].metadata.ownerReferences}").output.isEmpty
        }
        #expect(try await server.kubectl("get", "replicasets", "-o", "name").output.contains("replicaset.apps/web-"))
        // --cascade=foreground: the Deployment (adopting the released ReplicaSet again) waits for its dependents.
        result = try await server.kubectl("apply", "-f", manifest)
        try await eventually("the ReplicaSet is owned again") {
            try await server.kubectl("get", "replicasets", "-o", "jsonpath={.items[0].metadata.ownerReferences[0].name}").output == "web"
        }
        result = try await server.kubectl("delete", "deployment", "web", "--cascade=foreground", "--wait=false")
        #expect(result.status == 0, "\(result.output)")
        try await eventually("the Deployment and its dependents are gone") {
            let deployment = try await server.kubectl("get", "deployment", "web").status
            let sets = try await server.kubectl("get", "replicasets", "-o", "name").output
            return deployment != 0 && sets.isEmpty
        }
        // A policy that does not exist is refused.
        result = try await server.kubectl("delete", "replicasets", "--all", "--cascade=sideways")
        #expect(result.status != 0, "\(result.output)")
    }
}
