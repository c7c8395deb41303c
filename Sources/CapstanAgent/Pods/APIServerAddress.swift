import Foundation

/// Where pods reach the API server: what the agent puts in
/// `KUBERNETES_SERVICE_HOST` and `KUBERNETES_SERVICE_PORT`, the variables
/// in-cluster client libraries read.
package struct APIServerAddress: Sendable, Hashable {
    package var host: String
    package var port: Int

    package init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// The variables the kubelet sets in every container for the `kubernetes`
    /// Service of the `default` namespace, in the kubelet's order.
    var environment: [(name: String, value: String)] {
        let url = "tcp://\(host.contains(":") ? "[\(host)]" : host):\(port)"
        return [
            ("KUBERNETES_SERVICE_HOST", host), ("KUBERNETES_SERVICE_PORT", String(port)), ("KUBERNETES_SERVICE_PORT_HTTPS", String(port)),
            ("KUBERNETES_PORT", url), ("KUBERNETES_PORT_\(port)_TCP", url), ("KUBERNETES_PORT_\(port)_TCP_PROTO", "tcp"),
            ("KUBERNETES_PORT_\(port)_TCP_PORT", String(port)), ("KUBERNETES_PORT_\(port)_TCP_ADDR", host),
        ]
    }
}
