import CapstanAPI
import CapstanClient
import CapstanCore
import Logging

/// Keeps a ServiceAccount named `default` in every namespace, as Kubernetes'
/// service-account controller does: pods that name no account run as it, and
/// `kubectl create token default` has something to mint for.
///
/// Keyed by namespace. A pass re-reads the namespace and the account and
/// creates the account when it is missing, so an account someone deleted
/// comes back on its namespace's next pass (the manager queues the namespace
/// when its `default` account is deleted). A namespace being deleted is left
/// alone: its content is going, and the registry refuses new content anyway.
struct ServiceAccountReconciler: Reconciler {
    static let fieldManager = "service-account-controller"
    static let defaultName = "default"

    let client: any ClusterClient
    let logger: Logger

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let namespace = try await client.fetch(Namespace.self, ObjectKey(namespace: nil, name: key.name)),
            namespace.metadata.deletionTimestamp == nil, namespace.phase != "Terminating"
        else { return .done }
        let name = namespace.metadata.name
        if try await client.fetch(ServiceAccount.self, ObjectKey(namespace: name, name: Self.defaultName)) != nil { return .done }
        let account: JSONValue = ["apiVersion": "v1", "kind": "ServiceAccount", "metadata": ["name": .string(Self.defaultName)]]
        do {
            _ = try await client.create(
                ServiceAccount.kindInfo, namespace: name, object: account, options: WriteOptions(fieldManager: Self.fieldManager))
            logger.info("created the default service account", metadata: ["namespace": "\(name)"])
        } catch let error as APIError {
            // 409: made meanwhile (another pass, a manifest). 403: the namespace
            // began terminating between our read and the write.
            guard error.code == 409 || error.code == 403 else { throw error }
        }
        return .done
    }
}
