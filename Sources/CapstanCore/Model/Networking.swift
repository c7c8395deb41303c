public import OrderedCollections

/// A Service: a stable name and virtual IP in front of the Pods its selector picks.
public struct Service: TypedObject {
    public static let kindInfo = BuiltinKinds.service
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var spec: ServiceSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
}

public struct ServiceSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    /// `ClusterIP` (the default), `NodePort`, `LoadBalancer` or `ExternalName`.
    public var type: String {
        get { self[string: "type"] ?? "ClusterIP" }
        set { self[string: "type"] = newValue }
    }
    public var selector: [String: String] {
        get { self[stringMap: "selector"] }
        set { self[stringMap: "selector"] = newValue }
    }
    public var ports: [ServicePort] {
        get { self[views: "ports"] }
        set { self[views: "ports"] = newValue }
    }
    public var clusterIP: String? {
        get { self[string: "clusterIP"] }
        set { self[string: "clusterIP"] = newValue }
    }
    public var externalName: String? {
        get { self[string: "externalName"] }
        set { self[string: "externalName"] = newValue }
    }
    public var sessionAffinity: String {
        get { self[string: "sessionAffinity"] ?? "None" }
        set { self[string: "sessionAffinity"] = newValue }
    }
}

public struct ServicePort: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var name: String? {
        get { self[string: "name"] }
        set { self[string: "name"] = newValue }
    }
    public var port: Int64 {
        get { self[int: "port"] ?? 0 }
        set { self[int: "port"] = newValue }
    }
    /// Defaults to `port` when absent.
    public var targetPort: IntOrString {
        get { self[intOrString: "targetPort"] ?? .int(port) }
        set { self[intOrString: "targetPort"] = newValue }
    }
    public var nodePort: Int64? {
        get { self[int: "nodePort"] }
        set { self[int: "nodePort"] = newValue }
    }
    public var `protocol`: String {
        get { self[string: "protocol"] ?? "TCP" }
        set { self[string: "protocol"] = newValue }
    }
}

/// Endpoints: the addresses currently behind a Service.
public struct Endpoints: TypedObject {
    public static let kindInfo = BuiltinKinds.endpoints
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var subsets: [EndpointSubset] {
        get { self[views: "subsets"] }
        set { self[views: "subsets"] = newValue }
    }
}

public struct EndpointSubset: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var addresses: [EndpointAddress] {
        get { self[views: "addresses"] }
        set { self[views: "addresses"] = newValue }
    }
    public var notReadyAddresses: [EndpointAddress] {
        get { self[views: "notReadyAddresses"] }
        set { self[views: "notReadyAddresses"] = newValue }
    }
    public var ports: [ServicePort] {
        get { self[views: "ports"] }
        set { self[views: "ports"] = newValue }
    }
}

public struct EndpointAddress: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var ip: String {
        get { self[string: "ip"] ?? "" }
        set { self[string: "ip"] = newValue }
    }
    public var nodeName: String? {
        get { self[string: "nodeName"] }
        set { self[string: "nodeName"] = newValue }
    }
    public var targetRef: JSONValue? {
        get { json["targetRef"] }
        set { set("targetRef", newValue) }
    }
}

/// An EndpointSlice (`discovery.k8s.io/v1`): up to 100 endpoints of one
/// Service with one set of ports, labelled `kubernetes.io/service-name`.
public struct EndpointSlice: TypedObject {
    public static let kindInfo = BuiltinKinds.endpointSlice
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    /// The label naming the Service a slice belongs to.
    public static let serviceNameLabel = "kubernetes.io/service-name"

    /// `IPv4`, `IPv6` or `FQDN`.
    public var addressType: String {
        get { self[string: "addressType"] ?? "" }
        set { self[string: "addressType"] = newValue }
    }
    public var endpoints: [SliceEndpoint] {
        get { self[views: "endpoints"] }
        set { self[views: "endpoints"] = newValue }
    }
    public var ports: [SlicePort] {
        get { self[views: "ports"] }
        set { self[views: "ports"] = newValue }
    }
    /// The Service this slice belongs to, from its label.
    public var serviceName: String? { metadata.labels[Self.serviceNameLabel] }
}

/// One endpoint of a slice: its addresses and conditions.
public struct SliceEndpoint: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var addresses: [String] { self[strings: "addresses"] }
    /// Ready to take new connections. Unset means ready, as consumers must read it.
    public var isReady: Bool { json["conditions"]?["ready"]?.boolValue ?? true }
    /// Answering, whether or not it is terminating; unset follows `ready`.
    public var isServing: Bool { json["conditions"]?["serving"]?.boolValue ?? isReady }
    public var isTerminating: Bool { json["conditions"]?["terminating"]?.boolValue ?? false }
    public var nodeName: String? { self[string: "nodeName"] }
    public var hostname: String? { self[string: "hostname"] }
    /// The pod behind the endpoint, when it is one: `namespace/name`.
    public var targetPod: String? {
        guard json["targetRef"]?["kind"]?.stringValue == "Pod", let name = json["targetRef"]?["name"]?.stringValue else { return nil }
        return (json["targetRef"]?["namespace"]?.stringValue ?? "") + "/" + name
    }
}

/// A port of a slice's endpoints: matched to the Service's port by name.
public struct SlicePort: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var name: String { self[string: "name"] ?? "" }
    public var port: Int64? { self[int: "port"] }
    public var `protocol`: String { self[string: "protocol"] ?? "TCP" }
}
