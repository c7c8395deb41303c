import CapstanAPI
import CapstanClient
import CapstanCore
import Logging
import OrderedCollections

/// Publishes the API server's CA certificate as the ConfigMap `kube-root-ca.crt`
/// (key `ca.crt`) in every namespace, as Kubernetes' root-CA publisher does:
/// the service-account token volume of every pod projects it, so an in-cluster
/// client can verify the server it talks to.
///
/// Keyed by namespace, like the service-account controller: a pass creates the
/// ConfigMap when it is missing and puts the certificate back when someone
/// changed it. A namespace being deleted is left alone.
struct RootCAPublisher: Reconciler {
    static let fieldManager = "root-ca-cert-publisher"
    static let configMapName = "kube-root-ca.crt"
    static let description =
        "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters."

    let client: any ClusterClient
    /// The CA certificate, PEM; nil (a server without TLS has none) publishes nothing.
    let certificate: String?
    let logger: Logger

    func reconcile(_ key: ObjectKey) async throws -> ReconcileResult {
        guard let certificate else { return .done }
        guard let namespace = try await client.fetch(Namespace.self, ObjectKey(namespace: nil, name: key.name)),
            namespace.metadata.deletionTimestamp == nil, namespace.phase != "Terminating"
        else { return .done }
        let name = namespace.metadata.name
        let options = WriteOptions(fieldManager: Self.fieldManager)
        do {
            if let existing = try await client.fetch(ConfigMap.self, ObjectKey(namespace: name, name: Self.configMapName)) {
                guard existing.json["data"]?["ca.crt"]?.stringValue != certificate else { return .done }
                var object = existing.json
                object["data"] = ["ca.crt": .string(certificate)]
                _ = try await client.update(ConfigMap.kindInfo, namespace: name, name: Self.configMapName, object: .object(object), options: options)
                logger.info("put the root CA certificate back", metadata: ["namespace": "\(name)"])
            } else {
                let configMap: JSONValue = [
                    "apiVersion": "v1", "kind": "ConfigMap",
                    "metadata": ["name": .string(Self.configMapName), "annotations": ["kubernetes.io/description": .string(Self.description)]],
                    "data": ["ca.crt": .string(certificate)],
                ]
                _ = try await client.create(ConfigMap.kindInfo, namespace: name, object: configMap, options: options)
            }
        } catch let error as APIError {
            // 409: written meanwhile; look again. 403: the namespace began
            // terminating between our read and the write.
            if error.code == 409 { return .requeueAfter(.milliseconds(100)) }
            guard error.code == 403 else { throw error }
        }
        return .done
    }
}
