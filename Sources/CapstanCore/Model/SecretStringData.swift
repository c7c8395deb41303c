public import OrderedCollections

/// A Secret's write-only `stringData`, as the Kubernetes API server treats it:
/// each key is folded into `data` as base64, replacing a `data` entry of the
/// same key, and `stringData` itself is never stored nor returned.
public enum SecretStringData {
    /// Folds `stringData` into `data` and removes it. A `stringData` that is
    /// not a map of strings (or a `data` that is not a map) is left as it is,
    /// for validation to report with its path.
    public static func fold(_ secret: inout JSONObject) {
        guard let stringData = secret["stringData"] else { return }
        if stringData == .null {
            secret.removeValue(forKey: "stringData")
            return
        }
        guard case .object(let entries) = stringData, entries.values.allSatisfy({ $0.stringValue != nil }) else { return }
        var data: JSONObject
        switch secret["data"] {
        case nil, .null?: data = [:]
        case .object(let existing)?: data = existing
        default: return
        }
        for (key, value) in entries { data[key] = .string(Base64.encode(Array(value.stringValue!.utf8))) }
        secret.removeValue(forKey: "stringData")
        if !data.isEmpty || secret["data"] != nil { secret["data"] = .object(data) }
    }

    /// `secret` with its `stringData` folded (``fold(_:)``); anything but an object is returned unchanged.
    public static func folded(_ secret: JSONValue) -> JSONValue {
        guard case .object(var object) = secret else { return secret }
        fold(&object)
        return .object(object)
    }
}
