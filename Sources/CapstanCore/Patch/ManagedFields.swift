import OrderedCollections

/// One entry of `metadata.managedFields`: the fields one manager set, by
/// apply or by an ordinary update.
public struct ManagedFieldsEntry: Hashable, Sendable {
    public var manager: String
    /// `Apply` or `Update`.
    public var operation: String
    public var apiVersion: String
    public var time: String
    public var subresource: String?
    public var fields: FieldSet

    public init(manager: String, operation: String, apiVersion: String, time: String, subresource: String? = nil, fields: FieldSet) {
        self.manager = manager
        self.operation = operation
        self.apiVersion = apiVersion
        self.time = time
        self.subresource = subresource
        self.fields = fields
    }

    public init(json: JSONValue) throws(PatchError) {
        guard case .object(let object) = json else { throw PatchError("managedFields entries must be objects") }
        manager = object["manager"]?.stringValue ?? ""
        operation = object["operation"]?.stringValue ?? "Update"
        apiVersion = object["apiVersion"]?.stringValue ?? ""
        time = object["time"]?.stringValue ?? ""
        subresource = object["subresource"]?.stringValue
        fields = try FieldSet(fieldsV1: object["fieldsV1"] ?? .object([:]))
    }

    public var json: JSONValue {
        var object: JSONObject = [
            "manager": .string(manager), "operation": .string(operation), "apiVersion": .string(apiVersion), "time": .string(time),
            "fieldsType": "FieldsV1", "fieldsV1": fields.fieldsV1,
        ]
        if let subresource { object["subresource"] = .string(subresource) }
        return .object(object)
    }

    /// The entries of an object's metadata.
    public static func entries(of object: JSONValue) throws(PatchError) -> [ManagedFieldsEntry] {
        var result: [ManagedFieldsEntry] = []
        for entry in object["metadata"]?["managedFields"]?.arrayValue ?? [] {
            result.append(try ManagedFieldsEntry(json: entry))
        }
        return result
    }
}

extension FieldSet.Element {
    /// Kubernetes' path spelling in conflict messages: `.spec.replicas`,
    /// `.spec.containers[name="web"].image`, `.metadata.finalizers[="a"]`.
    static func describe(_ path: [FieldSet.Element]) -> String {
        var text = ""
        for element in path {
            switch element {
            case .field(let name): text += "." + name
            case .key(let fields): text += "[" + fields.map { "\($0.name)=\(JSONSerializer.string($0.value))" }.joined(separator: ",") + "]"
            case .value(let value): text += "[=\(JSONSerializer.string(value))]"
            }
        }
        return text
    }
}

extension JSONValue {
    /// The value at a field-set path, if the object has it.
    func value(at path: [FieldSet.Element]) -> JSONValue? {
        var current = self
        for element in path {
            switch element {
            case .field(let name):
                guard let next = current[name] else { return nil }
                current = next
            case .key(let fields):
                guard let match = current.arrayValue?.first(where: { candidate in fields.allSatisfy { keyMatches(candidate, $0) } }) else {
                    return nil
                }
                current = match
            case .value(let value):
                guard current.arrayValue?.contains(value) == true else { return nil }
                current = value
            }
        }
        return current
    }

    private func keyMatches(_ candidate: JSONValue, _ field: FieldSet.Element.KeyField) -> Bool {
        if let value = candidate[field.name] { return value == field.value }
        return field.name == "protocol" && field.value == "TCP"
    }

    /// Removes the value at a field-set path; removing a keyed element or set member drops it from its list.
    mutating func remove(at path: [FieldSet.Element]) {
        guard let first = path.first else { return }
        let rest = Array(path.dropFirst())
        switch (first, self) {
        case (.field(let name), .object(var object)):
            self = .null
            if rest.isEmpty {
                object.removeValue(forKey: name)
            } else if var child = object[name] {
                object[name] = .null
                child.remove(at: rest)
                object[name] = child
            }
            self = .object(object)
        case (.key(let fields), .array(var array)):
            guard let index = array.firstIndex(where: { candidate in fields.allSatisfy { keyMatches(candidate, $0) } }) else { return }
            self = .null
            if rest.isEmpty {
                array.remove(at: index)
            } else {
                array[index].remove(at: rest)
            }
            self = .array(array)
        case (.value(let value), .array(var array)):
            self = .null
            array.removeAll { $0 == value }
            self = .array(array)
        default:
            return
        }
    }
}
