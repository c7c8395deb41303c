/// The address and port ranges Services are given from, as kube-apiserver's
/// `--service-cluster-ip-range` and `--service-node-port-range`, and the
/// well-known addresses in them. The API server allocates from it; node
/// agents read it to point pods at the cluster DNS and the API.
public struct ServiceNetwork: Hashable, Sendable {
    /// Where ClusterIPs come from (IPv4 only).
    public var clusterIPRange: IPv4Network
    /// Where NodePorts come from.
    public var nodePortRange: ClosedRange<Int>

    public init(clusterIPRange: IPv4Network, nodePortRange: ClosedRange<Int>) {
        self.clusterIPRange = clusterIPRange
        self.nodePortRange = nodePortRange
    }

    /// Kubernetes' defaults: `10.96.0.0/16` (kubeadm's) and 30000–32767.
    public static let standard = ServiceNetwork(clusterIPRange: IPv4Network("10.96.0.0/16")!, nodePortRange: 30000...32767)

    /// The `kubernetes` Service's address: the first of the range, as in Kubernetes.
    public var apiServerServiceIP: String { clusterIPRange.address(at: 1) }

    /// The cluster DNS Service's address: the tenth of the range, as kubeadm sets it.
    public var dnsServiceIP: String { clusterIPRange.address(at: 10) }

    /// The addresses a Service may be given: the range without its network and broadcast addresses.
    public var assignableOffsets: ClosedRange<UInt64> { 1...(clusterIPRange.size - 2) }

    /// The first offsets, kept for addresses asked for by name (Kubernetes'
    /// `ServiceIPStaticSubrange`, `calculateRangeOffset`): `min(max(16, size/16), 256)`
    /// addresses that random allocation uses only once the rest is full; none in a
    /// range of 16 addresses or fewer.
    public var staticBandSize: UInt64 {
        clusterIPRange.size <= 16 ? 0 : min(max(16, clusterIPRange.size / 16), 256)
    }

    /// Whether a Service of this type listens on every node's NodePorts.
    public static func typeHasNodePorts(_ type: String) -> Bool { type == "NodePort" || type == "LoadBalancer" }

    /// Parses `--service-node-port-range` (`30000-32767`).
    public static func nodePortRange(_ text: String) -> ClosedRange<Int>? {
        let parts = text.split(separator: "-", omittingEmptySubsequences: false)
        guard parts.count == 2, let low = Int(parts[0]), let high = Int(parts[1]), 1 <= low, low <= high, high <= 65535 else { return nil }
        return low...high
    }
}
