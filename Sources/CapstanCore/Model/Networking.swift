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
