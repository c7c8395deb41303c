import OrderedCollections

/// Which rule an object's name follows (Kubernetes differs by kind).
enum NameRule {
    case dns1123Subdomain
    case dns1123Label
    case dns1035Label
    /// Any name that is one URL path segment (RBAC kinds: `system:discovery`).
    case pathSegment

    func reasons(_ name: String) -> [String] {
        switch self {
        case .pathSegment: NameRules.pathSegment(name)
        case .dns1123Subdomain: NameRules.dns1123Subdomain(name)
        case .dns1123Label: NameRules.dns1123Label(name)
        case .dns1035Label: NameRules.dns1035Label(name)
        }
    }
}

extension FieldChecker {
    /// Total size of all annotations, keys and values together.
    static let annotationsSizeLimit = 256 * 1024

    /// `metadata` of a top-level object.
    mutating func validateObjectMeta(_ value: JSONValue?, _ path: FieldPath, nameRule: NameRule, namespaced: Bool) {
        guard let meta = object(value, path) else {
            add(.required(path.child("name"), "name or generateName is required"))
            return
        }
        let name = string(meta["name"], path.child("name"))
        let generateName = string(meta["generateName"], path.child("generateName"))
        if let name, !name.isEmpty {
            check(nameRule.reasons(name), path.child("name"), name)
        } else if let generateName, !generateName.isEmpty {
            // A generated name gets a 5-character suffix; the prefix alone must be valid.
            let prefix = generateName.hasSuffix("-") ? String(generateName.dropLast()) : generateName
            check(nameRule.reasons(prefix + "x"), path.child("generateName"), generateName)
        } else {
            add(.required(path.child("name"), "name or generateName is required"))
        }
        if let namespace = string(meta["namespace"], path.child("namespace")), !namespace.isEmpty {
            if namespaced {
                check(NameRules.dns1123Label(namespace), path.child("namespace"), namespace)
            }
        }
        validateLabels(meta["labels"], path.child("labels"))
        validateAnnotations(meta["annotations"], path.child("annotations"))
        if let finalizers = array(meta["finalizers"], path.child("finalizers")) {
            for (index, finalizer) in finalizers.enumerated() {
                if let text = string(finalizer, path.child("finalizers").index(index)) {
                    check(NameRules.qualifiedName(text), path.child("finalizers").index(index), text)
                }
            }
        }
        for (index, owner) in objects(meta["ownerReferences"], path.child("ownerReferences")) {
            let ownerPath = path.child("ownerReferences").index(index)
            for field in ["apiVersion", "kind", "name", "uid"] {
                requiredString(owner[field], ownerPath.child(field))
            }
        }
        int(meta["generation"], path.child("generation"), atLeast: 0)
    }

    /// Kubernetes reports label problems at the map's path; positions point at the label.
    mutating func validateLabels(_ value: JSONValue?, _ path: FieldPath) {
        for (key, labelValue) in stringMap(value, path) {
            check(NameRules.qualifiedName(key), path, key, at: path.key(key))
            check(NameRules.labelValue(labelValue), path, labelValue, at: path.key(key))
        }
    }

    mutating func validateAnnotations(_ value: JSONValue?, _ path: FieldPath) {
        var total = 0
        for (key, annotation) in stringMap(value, path) {
            check(NameRules.qualifiedName(key.lowercased()), path, key, at: path.key(key))
            total += key.utf8.count + annotation.utf8.count
        }
        if total > Self.annotationsSizeLimit {
            add(.tooLong(path, maxBytes: Self.annotationsSizeLimit))
        }
    }

    /// `selector` in workload specs: `matchLabels` and `matchExpressions`.
    mutating func validateLabelSelector(_ value: JSONValue?, _ path: FieldPath) {
        guard let selector = object(value, path) else { return }
        validateLabels(selector["matchLabels"], path.child("matchLabels"))
        for (index, expression) in objects(selector["matchExpressions"], path.child("matchExpressions")) {
            let expressionPath = path.child("matchExpressions").index(index)
            if let key = requiredString(expression["key"], expressionPath.child("key")) {
                check(NameRules.qualifiedName(key), expressionPath.child("key"), key)
            }
            let op = oneOf(expression["operator"], expressionPath.child("operator"), ["In", "NotIn", "Exists", "DoesNotExist"], required: true)
            let values = array(expression["values"], expressionPath.child("values")) ?? []
            switch op {
            case "In", "NotIn":
                if values.isEmpty { add(.required(expressionPath.child("values"), "must be specified when `operator` is 'In' or 'NotIn'")) }
            case "Exists", "DoesNotExist":
                if !values.isEmpty {
                    add(.forbidden(expressionPath.child("values"), "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
                }
            default: break
            }
            for (valueIndex, element) in values.enumerated() {
                if let text = string(element, expressionPath.child("values").index(valueIndex)) {
                    check(NameRules.labelValue(text), expressionPath.child("values").index(valueIndex), text)
                }
            }
        }
    }
}
