import OrderedCollections

/// Checks a value against a schema node the way the API server validates a
/// custom resource (kube-openapi's validator, converted to field errors by
/// apiextensions-apiserver), with Kubernetes' wording:
/// `spec.replicas: Invalid value: "string": spec.replicas in body must be of type integer: "string"`.
struct ValueValidator {
    let rules: RuleHook?
    var errors: [FieldError] = []

    init(rules: RuleHook?) {
        self.rules = rules
    }

    /// The structural pass: type first (a value of the wrong type is not looked into), then the node's
    /// value validations, then its children, list uniqueness, embedded resources and CEL rules.
    mutating func validate(_ value: JSONValue, _ node: SchemaNode, old: JSONValue?, path: FieldPath, isResourceRoot: Bool = false) {
        if value == .null {
            if !node.nullable && (!node.type.isEmpty || node.intOrString) { errors.append(Self.typeError(path, node, actual: "null")) }
            return
        }
        guard node.admitsType(of: value) else {
            errors.append(Self.typeError(path, node, actual: value.typeName))
            return
        }
        errors += Self.valueErrors(value, node, path: path)
        switch value {
        case .object(let object):
            for (key, member) in object {
                if isResourceRoot, key == "metadata" {
                    validateRootMetadata(member, node.properties[key], path: path.child(key))
                    continue
                }
                guard let child = node.properties[key] ?? node.additionalProperties else { continue }
                validate(member, child, old: old?[key], path: path.child(key))
            }
            if node.embeddedResource {
                for field in ["apiVersion", "kind"] where (object[field]?.stringValue ?? "").isEmpty {
                    errors.append(.required(path.child(field), "must not be empty"))
                }
            }
        case .array(let elements):
            if let items = node.items {
                let oldElements = OldElements(old: old?.arrayValue, node: node)
                for (index, element) in elements.enumerated() {
                    validate(element, items, old: oldElements.counterpart(of: element), path: path.index(index))
                }
            }
            checkListUniqueness(elements, node, path: path)
        default:
            break
        }
        if let rules, !node.rules.isEmpty { errors += rules(node.rules, value, old, path) }
    }

    /// Only `name` and `generateName` of the root's metadata follow the schema; the rest is ObjectMeta's business.
    mutating func validateRootMetadata(_ metadata: JSONValue, _ node: SchemaNode?, path: FieldPath) {
        guard let node, case .object(let object) = metadata else { return }
        for name in ["name", "generateName"] {
            guard let field = node.properties[name], let value = object[name] else { continue }
            validate(value, field, old: nil, path: path.child(name))
        }
    }

    /// A `set` holds each value once; a `map` holds each combination of its key fields once.
    mutating func checkListUniqueness(_ elements: [JSONValue], _ node: SchemaNode, path: FieldPath) {
        switch node.listType {
        case "set":
            var seen: Set<JSONValue> = []
            for (index, element) in elements.enumerated() where !seen.insert(element).inserted {
                errors.append(.duplicate(path.index(index), element))
            }
        case "map":
            var seen: Set<JSONValue> = []
            for (index, element) in elements.enumerated() {
                guard let key = Self.mapKey(of: element, keys: node.listMapKeys) else { continue }
                if !seen.insert(key).inserted { errors.append(.duplicate(path.index(index), key)) }
            }
        default:
            break
        }
    }

    /// An element's key fields as one object (`{"name": "a"}`); nil for a non-object.
    static func mapKey(of element: JSONValue, keys: [String]) -> JSONValue? {
        guard case .object(let object) = element else { return nil }
        var key = JSONObject()
        for name in keys { key[name] = object[name] ?? .null }
        return .object(key)
    }

    /// The old list's elements, found again by what identifies them, for transition rules.
    struct OldElements {
        let byKey: [JSONValue: JSONValue]
        let keys: [String]?

        init(old: [JSONValue]?, node: SchemaNode) {
            guard let old else {
                byKey = [:]
                keys = nil
                return
            }
            var byKey: [JSONValue: JSONValue] = [:]
            switch node.listType {
            case "map":
                keys = node.listMapKeys
                for element in old { if let key = mapKey(of: element, keys: node.listMapKeys) { byKey[key] = element } }
            case "set":
                keys = []
                for element in old { byKey[element] = element }
            default:
                keys = nil  // atomic lists have no identity to correlate by
            }
            self.byKey = byKey
        }

        func counterpart(of element: JSONValue) -> JSONValue? {
            guard let keys else { return nil }
            if keys.isEmpty { return byKey[element] }
            return mapKey(of: element, keys: keys).flatMap { byKey[$0] }
        }
    }
}

// MARK: - Value validations

extension ValueValidator {
    static func typeError(_ path: FieldPath, _ node: SchemaNode, actual: String) -> FieldError {
        FieldError(
            .typeInvalid, path, value: .string(actual), "\(inBody(path)) must be of type \(node.typeDescription): \"\(actual)\"")
    }

    /// Kubernetes names the failing field inside its message: `spec.replicas in body`.
    static func inBody(_ path: FieldPath) -> String {
        path.isRoot ? "in body" : "\(path) in body"
    }

    /// Go's `%v` of a float64: integral values without a fraction.
    static func show(_ number: Double) -> String {
        if number.rounded() == number, abs(number) < 1e15 { return String(Int64(number)) }
        return "\(number)"
    }

    /// The node's own value validations (and those of its junctors) for a value already of the right type.
    static func valueErrors(_ value: JSONValue, _ node: SchemaNode, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let name = inBody(path)
        if let allowed = node.enumValues, !allowed.contains(value) {
            let supported = allowed.map { $0.stringValue ?? JSONSerializer.string($0) }
            errors.append(.notSupported(path, value, supported: supported))
        }
        if let problem = formatProblem(value, node.format) {
            errors.append(.invalid(path, value, "\(name) must be of type \(node.format): \"\(problem)\""))
        }
        if let number = value.doubleValue, value.boolValue == nil {
            if let minimum = node.minimum {
                if node.exclusiveMinimum ? number <= minimum : number < minimum {
                    let relation = node.exclusiveMinimum ? "greater than" : "greater than or equal to"
                    errors.append(.invalid(path, value, "\(name) should be \(relation) \(show(minimum))"))
                }
            }
            if let maximum = node.maximum {
                if node.exclusiveMaximum ? number >= maximum : number > maximum {
                    let relation = node.exclusiveMaximum ? "less than" : "less than or equal to"
                    errors.append(.invalid(path, value, "\(name) should be \(relation) \(show(maximum))"))
                }
            }
            if let factor = node.multipleOf, factor > 0 {
                let quotient = number / factor
                if quotient.rounded() != quotient { errors.append(.invalid(path, value, "\(name) should be a multiple of \(show(factor))")) }
            }
        }
        if case .string(let text) = value {
            // Lengths count characters (runes), as Go's utf8.RuneCountInString does.
            let length = Int64(text.unicodeScalars.count)
            if let minLength = node.minLength, length < minLength {
                errors.append(.invalid(path, value, "\(name) should be at least \(minLength) chars long"))
            }
            if let maxLength = node.maxLength, length > maxLength {
                errors.append(FieldError(.tooLong, path, value: value, "may not be longer than \(maxLength)"))
            }
            if let pattern = node.pattern, !pattern.matches(text) {
                errors.append(.invalid(path, value, "\(name) should match '\(pattern.source)'"))
            }
        }
        if case .array(let elements) = value {
            if let minItems = node.minItems, elements.count < minItems {
                errors.append(.invalid(path, .int(Int64(elements.count)), "\(name) should have at least \(minItems) items"))
            }
            if let maxItems = node.maxItems, elements.count > maxItems {
                errors.append(.tooMany(path, count: elements.count, max: Int(maxItems)))
            }
            if node.uniqueItems, Set(elements).count != elements.count {
                errors.append(.invalid(path, "", "\(name) shouldn't contain duplicates"))
            }
        }
        if case .object(let object) = value {
            for field in node.required where object[field] == nil { errors.append(.required(path.child(field))) }
            if let minProperties = node.minProperties, object.count < minProperties {
                errors.append(.invalid(path, .int(Int64(object.count)), "\(name) should have at least \(minProperties) properties"))
            }
            if let maxProperties = node.maxProperties, object.count > maxProperties {
                errors.append(.tooMany(path, count: object.count, max: Int(maxProperties)))
            }
        }
        errors += junctorErrors(value, node, path: path)
        return errors
    }

    /// `allOf`, `anyOf`, `oneOf` and `not`: value validations only, applied to the same value and its children.
    static func junctorErrors(_ value: JSONValue, _ node: SchemaNode, path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        let name = inBody(path)
        for branch in node.allOf { errors += branchErrors(value, branch, path: path) }
        if !node.anyOf.isEmpty {
            let outcomes = node.anyOf.map { branchErrors(value, $0, path: path) }
            if !outcomes.contains(where: \.isEmpty) {
                errors.append(.invalid(path, "", "\(name) must validate at least one schema (anyOf)"))
                errors += outcomes.min { $0.count < $1.count } ?? []
            }
        }
        if !node.oneOf.isEmpty {
            let outcomes = node.oneOf.map { branchErrors(value, $0, path: path) }
            let passing = outcomes.filter(\.isEmpty).count
            if passing == 0 {
                errors.append(.invalid(path, "", "\(name) must validate one and only one schema (oneOf). Found none valid"))
                errors += outcomes.min { $0.count < $1.count } ?? []
            } else if passing > 1 {
                errors.append(.invalid(path, "", "\(name) must validate one and only one schema (oneOf). Found \(passing) valid alternatives"))
            }
        }
        if let not = node.not, branchErrors(value, not, path: path).isEmpty {
            errors.append(.invalid(path, "", "\(name) must not validate the schema provided"))
        }
        return errors
    }

    /// A junctor branch's findings for `value`, descending into the children the branch constrains.
    static func branchErrors(_ value: JSONValue, _ branch: SchemaNode, path: FieldPath) -> [FieldError] {
        var errors = valueErrors(value, branch, path: path)
        switch value {
        case .object(let object):
            for (key, property) in branch.properties {
                if let member = object[key], member != .null { errors += branchErrors(member, property, path: path.child(key)) }
            }
        case .array(let elements):
            if let items = branch.items {
                for (index, element) in elements.enumerated() where element != .null {
                    errors += branchErrors(element, items, path: path.index(index))
                }
            }
        default:
            break
        }
        return errors
    }

    /// What is wrong with `value` for `format`, printed as Kubernetes prints it; nil when it fits or the
    /// format is one Kubernetes does not check.
    static func formatProblem(_ value: JSONValue, _ format: String) -> String? {
        switch (format, value) {
        case ("int32", .int(let number)):
            return Int32(exactly: number) == nil ? String(number) : nil
        case ("date-time", .string(let text)):
            return looksLikeDateTime(text) ? nil : text
        case ("date", .string(let text)):
            return text.wholeMatch(of: /\d{4}-\d{2}-\d{2}/) == nil ? text : nil
        case ("uuid", .string(let text)):
            return text.wholeMatch(of: /(?i)[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}/) == nil ? text : nil
        case ("byte", .string(let text)):
            return text.wholeMatch(of: /(?:[A-Za-z0-9+\/]{4})*(?:[A-Za-z0-9+\/]{2}==|[A-Za-z0-9+\/]{3}=)?/) == nil ? text : nil
        default:
            return nil
        }
    }

    /// RFC 3339 date-times, loosely as Go's strfmt reads them: a space for `T`, no seconds fraction or zone needed.
    static func looksLikeDateTime(_ text: String) -> Bool {
        text.wholeMatch(of: /\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:?\d{2})?/) != nil
    }
}
