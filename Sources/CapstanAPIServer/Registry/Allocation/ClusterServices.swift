import CapstanAPI
import CapstanCore
import Logging
import OrderedCollections

/// The Services every cluster has from its start, at the well-known
/// addresses of the service range, as kube-apiserver's bootstrap controller
/// and kubeadm's DNS add-on make them:
///
/// - `default/kubernetes`: the API at the range's first address, port 443
///   (`https`), its Endpoints (and EndpointSlice) the address pods reach the
///   server at, or none when the server listens on loopback alone;
/// - `kube-system/kube-dns`: the cluster DNS at the range's tenth address,
///   port 53 over UDP and TCP. It selects no pods: every node answers it
///   itself (CapstanDNS), and the node's proxy sends the address there.
///
/// Both are reconciled at every start: a changed port or address is put back,
/// anything else someone added (labels, say) is kept.
struct ClusterServices {
    let registry: ResourceRegistry
    /// The address pods reach the API server at, or nil when they cannot.
    let advertiseAddress: String?

    static let fieldManager = "capstan-apiserver"

    func reconcile(apiServerPort: Int) async throws(APIError) {
        let network = registry.serviceNetwork
        try await ensure(
            namespace: "default", name: "kubernetes", labels: ["component": "apiserver", "provider": "kubernetes"],
            spec: [
                "type": "ClusterIP", "clusterIP": .string(network.apiServerServiceIP), "sessionAffinity": "None",
                "ports": [["name": "https", "port": 443, "protocol": "TCP", "targetPort": .int(Int64(apiServerPort))]],
            ])
        try await ensure(
            namespace: "kube-system", name: "kube-dns",
            labels: ["k8s-app": "kube-dns", "kubernetes.io/cluster-service": "true", "kubernetes.io/name": "CapstanDNS"],
            spec: [
                "type": "ClusterIP", "clusterIP": .string(network.dnsServiceIP), "sessionAffinity": "None",
                "ports": [
                    ["name": "dns", "port": 53, "protocol": "UDP", "targetPort": 53],
                    ["name": "dns-tcp", "port": 53, "protocol": "TCP", "targetPort": 53],
                ],
            ])
        try await publishAPIServerEndpoints(port: apiServerPort)
    }

    /// ``reconcile(apiServerPort:)`` again and again, with backoff up to 30 s, until it
    /// succeeds or the server stops.
    func reconcileUntilDone(apiServerPort port: Int, logger: Logger) async {
        var backoff: Duration = .seconds(1)
        while !Task.isCancelled {
            do {
                try await Task.sleep(for: backoff)
                try await reconcile(apiServerPort: port)
                logger.info("published the kubernetes and kube-dns Services")
                return
            } catch is CancellationError {
                return
            } catch {
                logger.warning("cannot publish the kubernetes and kube-dns Services yet", metadata: ["error": "\(error)"])
                backoff = min(backoff * 2, .seconds(30))
            }
        }
    }

    /// Applies the fields Capstan owns, forcing them back if someone changed them.
    private func ensure(namespace: String, name: String, labels: JSONObject, spec: JSONObject) async throws(APIError) {
        let service: JSONValue = [
            "apiVersion": "v1", "kind": "Service",
            "metadata": ["name": .string(name), "namespace": .string(namespace), "labels": .object(labels)],
            "spec": .object(spec),
        ]
        _ = try await registry.apply(
            BuiltinKinds.service, namespace: namespace, name: name, configuration: service,
            options: WriteOptions(fieldManager: Self.fieldManager), force: true)
    }

    private func publishAPIServerEndpoints(port: Int) async throws(APIError) {
        let subsets: [JSONValue] =
            advertiseAddress.map { address in
                [["addresses": [["ip": .string(address)]], "ports": [["name": "https", "port": .int(Int64(port)), "protocol": "TCP"]]]]
            } ?? []
        let endpoints: JSONValue = [
            "apiVersion": "v1", "kind": "Endpoints",
            "metadata": ["name": "kubernetes", "namespace": "default", "labels": ["endpointslice.kubernetes.io/skip-mirror": "true"]],
            "subsets": .array(subsets),
        ]
        _ = try await registry.apply(
            BuiltinKinds.endpoints, namespace: "default", name: "kubernetes", configuration: endpoints,
            options: WriteOptions(fieldManager: Self.fieldManager), force: true)
        let slice: JSONValue = [
            "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
            "metadata": ["name": "kubernetes", "namespace": "default", "labels": [.init(EndpointSlice.serviceNameLabel): "kubernetes"]],
            "addressType": "IPv4",
            "endpoints": .array(
                advertiseAddress.flatMap { IPAddress.isIPv4($0) ? $0 : nil }.map {
                    [["addresses": [.string($0)], "conditions": ["ready": true, "serving": true, "terminating": false]]]
                } ?? []),
            "ports": [["name": "https", "port": .int(Int64(port)), "protocol": "TCP"]],
        ]
        _ = try await registry.apply(
            BuiltinKinds.endpointSlice, namespace: "default", name: "kubernetes", configuration: slice,
            options: WriteOptions(fieldManager: Self.fieldManager), force: true)
    }
}
