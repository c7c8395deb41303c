import OrderedCollections

/// RFC 6902 JSON Patch: a list of `add`, `remove`, `replace`, `move`, `copy`
/// and `test` operations on JSON pointers, applied all or nothing.
public enum JSONPatch {
    /// Applies `patch` (the JSON array of operations) to `document`.
    public static func apply(_ patch: JSONValue, to document: JSONValue) throws(PatchError) -> JSONValue {
        guard case .array(let operations) = patch else {
            throw PatchError("a JSON patch must be an array of operations, not \(patch.typeName)")
        }
        var result = document
        for (index, operation) in operations.enumerated() {
            guard case .object(let fields) = operation else { throw PatchError("operation \(index) must be an object") }
            guard let op = fields["op"]?.stringValue else { throw PatchError("operation \(index) has no \"op\"") }
            guard let pathText = fields["path"]?.stringValue else { throw PatchError("operation \(index) (\(op)) has no \"path\"") }
            let path = try JSONPointer(pathText)
            switch op {
            case "add":
                guard let value = fields["value"] else { throw PatchError("operation \(index) (add) has no \"value\"") }
                try path.add(value, to: &result)
            case "remove":
                _ = try path.remove(from: &result)
            case "replace":
                guard let value = fields["value"] else { throw PatchError("operation \(index) (replace) has no \"value\"") }
                _ = try path.remove(from: &result)
                try path.add(value, to: &result)
            case "move", "copy":
                guard let fromText = fields["from"]?.stringValue else { throw PatchError("operation \(index) (\(op)) has no \"from\"") }
                let from = try JSONPointer(fromText)
                if op == "move", path.tokens.starts(with: from.tokens), path.tokens.count > from.tokens.count {
                    throw PatchError("operation \(index) (move): cannot move \(fromText) into its own child \(pathText)")
                }
                let value = op == "move" ? try from.remove(from: &result) : try from.value(in: result)
                try path.add(value, to: &result)
            case "test":
                guard let expected = fields["value"] else { throw PatchError("operation \(index) (test) has no \"value\"") }
                guard try path.value(in: result) == expected else {
                    throw PatchError("operation \(index) (test) failed: \(pathText) is not \(expected)")
                }
            default:
                throw PatchError("operation \(index) has unknown op \"\(op)\"")
            }
        }
        return result
    }
}

/// An RFC 6901 JSON pointer (`/spec/containers/0/image`, `~1` for `/`, `~0` for `~`).
public struct JSONPointer: Hashable, Sendable, CustomStringConvertible {
    public var tokens: [String]

    public init(_ text: String) throws(PatchError) {
        if text.isEmpty {
            tokens = []
            return
        }
        guard text.hasPrefix("/") else { throw PatchError("JSON pointer \"\(text)\" must start with '/'") }
        tokens = text.dropFirst().split(separator: "/", omittingEmptySubsequences: false).map {
            String($0).replacing("~1", with: "/").replacing("~0", with: "~")
        }
    }

    public init(tokens: [String]) {
        self.tokens = tokens
    }

    public var description: String {
        tokens.map { "/" + $0.replacing("~", with: "~0").replacing("/", with: "~1") }.joined()
    }

    public func value(in document: JSONValue) throws(PatchError) -> JSONValue {
        var current = document
        for token in tokens {
            switch current {
            case .object(let object):
                guard let next = object[token] else { throw PatchError("\(self): no field \"\(token)\"") }
                current = next
            case .array(let array):
                guard let index = Int(token), array.indices.contains(index) else { throw PatchError("\(self): no element \(token)") }
                current = array[index]
            default:
                throw PatchError("\(self): cannot descend into \(current.typeName)")
            }
        }
        return current
    }

    func add(_ value: JSONValue, to document: inout JSONValue) throws(PatchError) {
        guard let last = tokens.last else {
            document = value
            return
        }
        try modifyParent(of: &document) { parent throws(PatchError) in
            switch parent {
            case .object(var object):
                parent = .null
                object[last] = value
                parent = .object(object)
            case .array(var array):
                if last == "-" {
                    array.append(value)
                } else {
                    guard let index = Int(last), index >= 0, index <= array.count else {
                        throw PatchError("\(self): index \(last) is out of range")
                    }
                    array.insert(value, at: index)
                }
                parent = .array(array)
            default:
                throw PatchError("\(self): cannot add to \(parent.typeName)")
            }
        }
    }

    func remove(from document: inout JSONValue) throws(PatchError) -> JSONValue {
        guard let last = tokens.last else { throw PatchError("cannot remove the whole document") }
        var removed: JSONValue = .null
        try modifyParent(of: &document) { parent throws(PatchError) in
            switch parent {
            case .object(var object):
                guard let value = object.removeValue(forKey: last) else { throw PatchError("\(self): no field \"\(last)\" to remove") }
                removed = value
                parent = .object(object)
            case .array(var array):
                guard let index = Int(last), array.indices.contains(index) else { throw PatchError("\(self): no element \(last) to remove") }
                removed = array.remove(at: index)
                parent = .array(array)
            default:
                throw PatchError("\(self): cannot remove from \(parent.typeName)")
            }
        }
        return removed
    }

    private func modifyParent(of document: inout JSONValue, _ body: (inout JSONValue) throws(PatchError) -> Void) throws(PatchError) {
        func descend(_ value: inout JSONValue, _ depth: Int) throws(PatchError) {
            if depth == tokens.count - 1 {
                try body(&value)
                return
            }
            let token = tokens[depth]
            switch value {
            case .object(var object):
                guard var child = object[token] else { throw PatchError("\(self): no field \"\(token)\"") }
                value = .null
                object[token] = .null
                try descend(&child, depth + 1)
                object[token] = child
                value = .object(object)
            case .array(var array):
                guard let index = Int(token), array.indices.contains(index) else { throw PatchError("\(self): no element \(token)") }
                var child = array[index]
                value = .null
                array[index] = .null
                try descend(&child, depth + 1)
                array[index] = child
                value = .array(array)
            default:
                throw PatchError("\(self): cannot descend into \(value.typeName)")
            }
        }
        try descend(&document, 0)
    }
}

/// RFC 7386 JSON Merge Patch: objects merge key by key, `null` deletes, anything else replaces.
public enum JSONMergePatch {
    public static func apply(_ patch: JSONValue, to document: JSONValue) -> JSONValue {
        guard case .object(let patchObject) = patch else { return patch }
        var result: JSONObject = document.objectValue ?? [:]
        for (key, value) in patchObject {
            if value.isNull {
                result.removeValue(forKey: key)
            } else {
                result[key] = apply(value, to: result[key] ?? .null)
            }
        }
        return .object(result)
    }

    /// The merge patch that turns `original` into `modified`.
    public static func diff(from original: JSONValue, to modified: JSONValue) -> JSONValue? {
        guard case .object(let old) = original, case .object(let new) = modified else {
            return original == modified ? nil : modified
        }
        var patch = JSONObject()
        for (key, value) in new {
            if let previous = old[key] {
                if let change = diff(from: previous, to: value) { patch[key] = change }
            } else {
                patch[key] = value
            }
        }
        for key in old.keys where !new.keys.contains(key) { patch[key] = JSONValue.null }
        return patch.isEmpty ? nil : .object(patch)
    }
}
