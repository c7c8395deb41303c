internal import CapstanCore
import OrderedCollections

/// Reads typed fields out of a policy document, collecting every problem
/// at its `file:line:column` instead of stopping at the first.
struct FieldReader {
    let manifest: Manifest
    private(set) var errors: [ManifestError] = []

    init(manifest: Manifest) {
        self.manifest = manifest
    }

    mutating func report(_ path: FieldPath, _ message: String) {
        let prefix = path.isRoot ? "" : "\(path): "
        errors.append(
            ManifestError(
                file: manifest.file, position: manifest.position(of: path), subject: manifest.object.displayName,
                message: prefix + message))
    }

    mutating func report(_ path: FieldPath, _ issue: PolicyIssue) {
        report(path, issue.message)
    }

    /// Reports fields not in `known`; `refused` explains fields Kyverno has
    /// and Capstan deliberately does not support.
    mutating func checkFields(_ object: JSONObject, _ path: FieldPath, known: Set<String>, refused: [String: String] = [:]) {
        for key in object.keys where !known.contains(key) {
            if let reason = refused[key] {
                report(path.child(key), "not supported: \(reason)")
            } else {
                report(path.child(key), "unknown field \"\(key)\" (supported here: \(known.sorted().joined(separator: ", ")))")
            }
        }
    }

    mutating func object(_ value: JSONValue?, _ path: FieldPath, required: Bool = false) -> JSONObject? {
        switch value {
        case .object(let object)?: return object
        case nil, .null?:
            if required { report(path, "Required value") }
            return nil
        case let value?:
            report(path, "must be an object, not \(value.typeName)")
            return nil
        }
    }

    mutating func array(_ value: JSONValue?, _ path: FieldPath, required: Bool = false) -> [JSONValue]? {
        switch value {
        case .array(let elements)?: return elements
        case nil, .null?:
            if required { report(path, "Required value") }
            return nil
        case let value?:
            report(path, "must be a list, not \(value.typeName)")
            return nil
        }
    }

    mutating func string(_ value: JSONValue?, _ path: FieldPath, required: Bool = false) -> String? {
        switch value {
        case .string(let text)?: return text
        case nil, .null?:
            if required { report(path, "Required value") }
            return nil
        case let value?:
            report(path, "must be a string, not \(value.typeName)")
            return nil
        }
    }

    mutating func strings(_ value: JSONValue?, _ path: FieldPath) -> [String] {
        guard let elements = array(value, path) else { return [] }
        var result: [String] = []
        for (index, element) in elements.enumerated() {
            if let text = string(element, path.index(index), required: true) { result.append(text) }
        }
        return result
    }

    mutating func stringMap(_ value: JSONValue?, _ path: FieldPath) -> [String: String] {
        guard let object = object(value, path) else { return [:] }
        var result: [String: String] = [:]
        for (key, field) in object {
            if let text = string(field, path.key(key), required: true) { result[key] = text }
        }
        return result
    }

    mutating func failureAction(_ value: JSONValue?, _ path: FieldPath) -> FailureAction? {
        guard let text = string(value, path) else { return nil }
        guard let action = FailureAction(spelling: text) else {
            report(path, "Unsupported value: \"\(text)\": supported values: \"Enforce\", \"Audit\"")
            return nil
        }
        return action
    }

    mutating func template(_ value: JSONValue?, _ path: FieldPath) -> Template? {
        guard let text = string(value, path) else { return nil }
        do {
            return try Template(parsing: text)
        } catch {
            report(path, error)
            return nil
        }
    }
}
