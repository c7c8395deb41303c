import OrderedCollections

/// Reads fields of a JSON object for validation, recording a Kubernetes-style
/// error whenever a field is missing, of the wrong type, or out of range.
///
/// Validators walk objects with it and keep going after a problem, so one
/// pass reports everything that is wrong, as the Kubernetes API does.
struct FieldChecker {
    var errors: [FieldError] = []

    mutating func add(_ error: FieldError) { errors.append(error) }

    mutating func add(_ kind: FieldError.Kind, _ path: FieldPath, value: JSONValue? = nil, _ detail: String = "") {
        errors.append(FieldError(kind, path, value: value, detail))
    }

    /// Records each reason a name rule gave, as `Invalid value` errors.
    mutating func check(_ reasons: [String], _ path: FieldPath, _ value: String, at sourcePath: FieldPath? = nil) {
        for reason in reasons { add(FieldError(.invalid, path, value: .string(value), reason, sourcePath: sourcePath)) }
    }

    // MARK: Typed reads (nil when absent; wrong types are recorded)

    @discardableResult
    mutating func object(_ value: JSONValue?, _ path: FieldPath) -> JSONObject? {
        guard let value, !value.isNull else { return nil }
        guard case .object(let object) = value else {
            add(.wrongType(path, value, expected: "an object"))
            return nil
        }
        return object
    }

    @discardableResult
    mutating func array(_ value: JSONValue?, _ path: FieldPath) -> [JSONValue]? {
        guard let value, !value.isNull else { return nil }
        guard case .array(let array) = value else {
            add(.wrongType(path, value, expected: "a list"))
            return nil
        }
        return array
    }

    @discardableResult
    mutating func string(_ value: JSONValue?, _ path: FieldPath) -> String? {
        guard let value, !value.isNull else { return nil }
        guard case .string(let text) = value else {
            add(.wrongType(path, value, expected: "a string"))
            return nil
        }
        return text
    }

    @discardableResult
    mutating func int(_ value: JSONValue?, _ path: FieldPath) -> Int64? {
        guard let value, !value.isNull else { return nil }
        guard let number = value.intValue else {
            add(.wrongType(path, value, expected: "an integer"))
            return nil
        }
        return number
    }

    @discardableResult
    mutating func bool(_ value: JSONValue?, _ path: FieldPath) -> Bool? {
        guard let value, !value.isNull else { return nil }
        guard case .bool(let flag) = value else {
            add(.wrongType(path, value, expected: "a boolean"))
            return nil
        }
        return flag
    }

    /// A map whose values must all be strings (labels, annotations, data).
    mutating func stringMap(_ value: JSONValue?, _ path: FieldPath) -> [(key: String, value: String)] {
        guard let object = object(value, path) else { return [] }
        var entries: [(key: String, value: String)] = []
        for (key, member) in object {
            if let text = string(member, path.key(key)) { entries.append((key, text)) }
        }
        return entries
    }

    /// An array of objects; elements that are not objects are recorded.
    mutating func objects(_ value: JSONValue?, _ path: FieldPath) -> [(index: Int, object: JSONObject)] {
        guard let array = array(value, path) else { return [] }
        var result: [(index: Int, object: JSONObject)] = []
        for (index, element) in array.enumerated() {
            if let object = object(element, path.index(index)) {
                result.append((index, object))
            } else if element.isNull {
                add(.required(path.index(index)))
            }
        }
        return result
    }

    // MARK: Requirements

    /// A string that must be present and non-empty.
    @discardableResult
    mutating func requiredString(_ value: JSONValue?, _ path: FieldPath) -> String? {
        guard let text = string(value, path) else {
            if value == nil || value?.isNull == true { add(.required(path)) }
            return nil
        }
        if text.isEmpty {
            add(.required(path))
            return nil
        }
        return text
    }

    /// A string that, when present, must be one of `allowed`.
    @discardableResult
    mutating func oneOf(_ value: JSONValue?, _ path: FieldPath, _ allowed: [String], required: Bool = false) -> String? {
        guard let text = string(value, path), !text.isEmpty else {
            if required, value == nil || value?.stringValue?.isEmpty == true { add(.required(path)) }
            return nil
        }
        guard allowed.contains(text) else {
            add(.notSupported(path, .string(text), supported: allowed))
            return nil
        }
        return text
    }

    /// An integer that, when present, must be at least `minimum`.
    @discardableResult
    mutating func int(_ value: JSONValue?, _ path: FieldPath, atLeast minimum: Int64) -> Int64? {
        guard let number = int(value, path) else { return nil }
        if number < minimum {
            add(.invalid(path, .int(number), minimum == 0 ? "must be greater than or equal to 0" : "must be greater than or equal to \(minimum)"))
        }
        return number
    }

    /// A port number: 1 to 65535. A required port of 0 is missing, as in Kubernetes.
    mutating func port(_ value: JSONValue?, _ path: FieldPath, required: Bool) {
        guard let number = int(value, path) else {
            if required, value == nil || value?.isNull == true { add(.required(path)) }
            return
        }
        if required, number == 0 {
            add(.required(path))
            return
        }
        if !(1...65535).contains(number) {
            add(.invalid(path, .int(number), "must be between 1 and 65535, inclusive"))
        }
    }

    /// Flags keys of `object` not in `known`: only for small closed structures
    /// where a typo (`imagePullPolicy` misspelled) would silently do nothing.
    mutating func unknownFields(_ object: JSONObject, _ path: FieldPath, known: Set<String>) {
        for key in object.keys where !known.contains(key) {
            add(FieldError(.notSupported, path.child(key), "unknown field \"\(key)\""))
        }
    }
}
