import CapstanAPI
import CapstanClient
import CapstanCore
import Foundation
import Logging
import OrderedCollections

/// Registers the Node and keeps the cluster told that it lives: the Lease in
/// `kube-node-lease` renewed every interval (the cheap heartbeat the node
/// lifecycle controller watches), the Node's status posted when it changes
/// and at least once a minute.
struct NodeHeartbeat: Sendable {
    let client: any ClusterClient
    let logger: Logger
    let nodeName: String
    let leaseDurationSeconds: Int64
    /// Renewal times and condition timestamps.
    let wallClock: any WallClock

    static let leaseNamespace = "kube-node-lease"
    let manager = WriteOptions(fieldManager: "capstan-agent")

    /// Creates the Node, or takes over an existing one (labels merged, status replaced).
    func register(_ builder: NodeStatusBuilder) async throws {
        do {
            _ = try await client.create(BuiltinKinds.node, namespace: nil, object: builder.node(now: wallClock.currentDate), options: manager)
            logger.notice("node registered", metadata: ["node": "\(nodeName)"])
        } catch let error as APIError where error.code == 409 {
            _ = try await client.patch(
                BuiltinKinds.node, namespace: nil, name: nodeName,
                patch: .merge([
                    "metadata": [
                        "labels": .object(
                            JSONObject(
                                uniqueKeysWithValues: builder.allLabels.sorted { $0.key < $1.key }.map { ($0.key, JSONValue.string($0.value)) }))
                    ]
                ]), options: manager)
            try await postStatus(builder)
            logger.notice("node registered again", metadata: ["node": "\(nodeName)"])
        }
    }

    /// Writes the node's status; conditions keep their transition times.
    func postStatus(_ builder: NodeStatusBuilder) async throws {
        let current = Node(json: try await client.get(BuiltinKinds.node, namespace: nil, name: nodeName).objectValue ?? [:])
        let status = builder.status(previous: current.status.conditions, now: wallClock.currentDate)
        var patch = status.json
        patch["images"] = current.status.json["images"]
        _ = try await client.patch(
            BuiltinKinds.node, namespace: nil, name: nodeName, patch: .merge(["status": .object(patch)]), options: manager, subresource: "status")
    }

    /// Creates or renews the node's Lease.
    func renewLease() async throws {
        let now = KubeTime.formatMicro(wallClock.currentDate)
        do {
            _ = try await client.patch(
                BuiltinKinds.lease, namespace: Self.leaseNamespace, name: nodeName,
                patch: .merge([
                    "spec": ["renewTime": .string(now), "holderIdentity": .string(nodeName), "leaseDurationSeconds": .int(leaseDurationSeconds)]
                ]),
                options: manager)
        } catch let error as APIError where error.code == 404 {
            let lease: JSONValue = [
                "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                "metadata": [
                    "name": .string(nodeName), "namespace": .string(Self.leaseNamespace),
                    "ownerReferences": [["apiVersion": "v1", "kind": "Node", "name": .string(nodeName), "uid": .string(try await nodeUID())]],
                ],
                "spec": [
                    "holderIdentity": .string(nodeName), "leaseDurationSeconds": .int(leaseDurationSeconds),
                    "renewTime": .string(now), "acquireTime": .string(now),
                ],
            ]
            _ = try await client.create(BuiltinKinds.lease, namespace: Self.leaseNamespace, object: lease, options: manager)
        }
    }

    private func nodeUID() async throws -> String {
        try await client.get(BuiltinKinds.node, namespace: nil, name: nodeName)[path: ["metadata", "uid"]]?.stringValue ?? ""
    }
}
