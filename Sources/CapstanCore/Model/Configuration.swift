/// A ConfigMap: non-secret configuration as keys and values.
public struct ConfigMap: TypedObject {
    public static let kindInfo = BuiltinKinds.configMap
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var data: [String: String] {
        get { self[stringMap: "data"] }
        set { self[stringMap: "data"] = newValue }
    }
    /// Base64 text, as on the wire.
    public var binaryData: [String: String] {
        get { self[stringMap: "binaryData"] }
        set { self[stringMap: "binaryData"] = newValue }
    }
    public var immutable: Bool {
        get { self[bool: "immutable"] ?? false }
        set { self[bool: "immutable"] = newValue }
    }
}

/// A Secret: like a ConfigMap, but values are base64 on the wire and encrypted at rest.
public struct Secret: TypedObject {
    public static let kindInfo = BuiltinKinds.secret
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    /// Defaults to `Opaque`.
    public var type: String {
        get { self[string: "type"] ?? "Opaque" }
        set { self[string: "type"] = newValue }
    }
    /// Base64 text, as on the wire.
    public var data: [String: String] {
        get { self[stringMap: "data"] }
        set { self[stringMap: "data"] = newValue }
    }
    /// Plain text that the API server folds into `data` on write.
    public var stringData: [String: String] {
        get { self[stringMap: "stringData"] }
        set { self[stringMap: "stringData"] = newValue }
    }
    public var immutable: Bool {
        get { self[bool: "immutable"] ?? false }
        set { self[bool: "immutable"] = newValue }
    }
}

/// A ServiceAccount: an identity for Pods.
public struct ServiceAccount: TypedObject {
    public static let kindInfo = BuiltinKinds.serviceAccount
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }
}
