import OrderedCollections

/// A CustomResourceDefinition (`apiextensions.k8s.io/v1`) as Capstan reads
/// it: the names, scope and versions of one custom kind. Parsing checks what
/// Kubernetes checks of a definition before it serves its kind, with
/// Kubernetes' messages; the schemas of its versions are kept as written.
public struct CustomResourceDefinition: Hashable, Sendable {
    public struct Names: Hashable, Sendable {
        public var plural: String
        public var singular: String
        public var kind: String
        public var listKind: String
        public var shortNames: [String]
        public var categories: [String]
    }

    /// One column of `kubectl get` (`additionalPrinterColumns`).
    public struct PrinterColumn: Hashable, Sendable {
        public var name: String
        /// `integer`, `number`, `string`, `boolean` or `date`.
        public var type: String
        public var format: String
        public var description: String
        public var priority: Int
        public var jsonPath: String
    }

    /// Where a custom kind keeps its replica counts, for the `scale` subresource.
    public struct ScaleSubresource: Hashable, Sendable {
        public var specReplicasPath: String
        public var statusReplicasPath: String
        public var labelSelectorPath: String?
    }

    public struct Version: Hashable, Sendable {
        public var name: String
        public var served: Bool
        /// The version objects are stored as (exactly one version has it).
        public var storage: Bool
        public var deprecated: Bool
        public var deprecationWarning: String?
        /// `schema.openAPIV3Schema`, as written.
        public var schema: JSONValue?
        public var hasStatusSubresource: Bool
        public var scale: ScaleSubresource?
        public var printerColumns: [PrinterColumn]
    }

    /// `metadata.name`: `<plural>.<group>`.
    public var name: String
    public var group: String
    public var names: Names
    public var namespaced: Bool
    public var versions: [Version]

    public static let supportedScopes = ["Cluster", "Namespaced"]

    /// Reads a definition; throws every problem found, at the field it is in.
    public init(_ object: JSONValue) throws(ValidationErrors) {
        var errors: [FieldError] = []
        let spec = object["spec"] ?? .object([:])
        name = object[path: ["metadata", "name"]]?.stringValue ?? ""
        group = spec["group"]?.stringValue ?? ""
        let namesJSON = spec["names"] ?? .object([:])
        let plural = namesJSON["plural"]?.stringValue ?? ""
        let kind = namesJSON["kind"]?.stringValue ?? ""
        names = Names(
            plural: plural, singular: namesJSON["singular"]?.stringValue ?? kind.lowercased(), kind: kind,
            listKind: namesJSON["listKind"]?.stringValue ?? (kind.isEmpty ? "" : kind + "List"),
            shortNames: (namesJSON["shortNames"]?.arrayValue ?? []).compactMap(\.stringValue),
            categories: (namesJSON["categories"]?.arrayValue ?? []).compactMap(\.stringValue))
        let scope = spec["scope"]?.stringValue ?? ""
        namespaced = scope == "Namespaced"
        versions = (spec["versions"]?.arrayValue ?? []).map(Self.version)

        let specPath = FieldPath("spec")
        if group.isEmpty {
            errors.append(.required(specPath.child("group")))
        } else if !group.contains(".") {
            errors.append(.invalid(specPath.child("group"), .string(group), "should be a domain with at least one dot"))
        } else if let problem = nameProblem(NameRules.dns1123Subdomain(group)) {
            errors.append(.invalid(specPath.child("group"), .string(group), problem))
        }
        if scope.isEmpty {
            errors.append(.required(specPath.child("scope")))
        } else if !Self.supportedScopes.contains(scope) {
            errors.append(.notSupported(specPath.child("scope"), .string(scope), supported: Self.supportedScopes))
        }
        errors += names.errors(at: specPath.child("names"))
        if !plural.isEmpty, !group.isEmpty, name != "\(plural).\(group)" {
            errors.append(.invalid(FieldPath("metadata", "name"), .string(name), "must be spec.names.plural+\".\"+spec.group"))
        }
        errors += Self.versionErrors(versions, spec["versions"]?.arrayValue ?? [], at: specPath.child("versions"))
        guard errors.isEmpty else { throw ValidationErrors(errors) }
    }

    /// `spec.conversion` of a definition as written: `None` (objects change
    /// only their apiVersion between versions), or `Webhook` where no
    /// conversion can happen — one version served, stored and ever stored:
    /// Capstan does not call conversion webhooks, and says so rather than serve
    /// versions it cannot convert. Checked by the API server when a definition
    /// is created or its versions or conversion change, not when it is parsed,
    /// so one stored before this check keeps being served.
    public static func conversionErrors(_ object: JSONValue) -> [FieldError] {
        guard let conversion = object[path: ["spec", "conversion"]], !conversion.isNull else { return [] }
        let path = FieldPath("spec", "conversion")
        let strategy = conversion["strategy"]?.stringValue ?? "None"
        switch strategy {
        case "None":
            return []
        case "Webhook":
            var versions = Set<String>()
            for version in object[path: ["spec", "versions"]]?.arrayValue ?? [] where version["served"] == true || version["storage"] == true {
                versions.insert(version["name"]?.stringValue ?? "")
            }
            for stored in object[path: ["status", "storedVersions"]]?.arrayValue ?? [] { versions.insert(stored.stringValue ?? "") }
            guard versions.count > 1 else { return [] }
            return [
                .invalid(
                    path.child("strategy"), .string(strategy),
                    "Capstan does not call conversion webhooks: with more than one version served or stored the strategy must be None")
            ]
        default:
            return [.notSupported(path.child("strategy"), .string(strategy), supported: ["None", "Webhook"])]
        }
    }

    /// The versions served now, storage version first.
    public var servedVersions: [Version] {
        versions.filter(\.served).sorted { $0.storage && !$1.storage }
    }

    public var storageVersion: Version? { versions.first(where: \.storage) }

    /// The kind as served at `version`.
    public func kindInfo(_ version: Version) -> KindInfo {
        KindInfo(group: group, version: version.name, kind: names.kind, resource: names.plural, namespaced: namespaced, shortNames: names.shortNames)
    }

    public func version(named name: String) -> Version? { versions.first { $0.name == name } }

    /// The kinds, at every served version, that the valid definitions among
    /// `objects` define: what a set of manifests serves once applied.
    public static func kinds(definedIn objects: [JSONValue]) -> [KindInfo] {
        objects.flatMap { object -> [KindInfo] in
            guard object["kind"]?.stringValue == BuiltinKinds.customResourceDefinition.kind,
                object["apiVersion"]?.stringValue == BuiltinKinds.customResourceDefinition.apiVersion,
                let definition = try? CustomResourceDefinition(object)
            else { return [] }
            return definition.servedVersions.map(definition.kindInfo)
        }
    }

    private static func version(_ json: JSONValue) -> Version {
        let subresources = json["subresources"]
        var scale: ScaleSubresource?
        if let scaleJSON = subresources?["scale"], case .object = scaleJSON {
            scale = ScaleSubresource(
                specReplicasPath: scaleJSON["specReplicasPath"]?.stringValue ?? "",
                statusReplicasPath: scaleJSON["statusReplicasPath"]?.stringValue ?? "",
                labelSelectorPath: scaleJSON["labelSelectorPath"]?.stringValue)
        }
        let columns = (json["additionalPrinterColumns"]?.arrayValue ?? []).map { column in
            PrinterColumn(
                name: column["name"]?.stringValue ?? "", type: column["type"]?.stringValue ?? "", format: column["format"]?.stringValue ?? "",
                description: column["description"]?.stringValue ?? "", priority: Int(column["priority"]?.intValue ?? 0),
                jsonPath: column["jsonPath"]?.stringValue ?? "")
        }
        var hasStatus = false
        if case .object? = subresources?["status"] { hasStatus = true }
        return Version(
            name: json["name"]?.stringValue ?? "", served: json["served"]?.boolValue ?? false, storage: json["storage"]?.boolValue ?? false,
            deprecated: json["deprecated"]?.boolValue ?? false, deprecationWarning: json["deprecationWarning"]?.stringValue,
            schema: json[path: ["schema", "openAPIV3Schema"]], hasStatusSubresource: hasStatus, scale: scale, printerColumns: columns)
    }

    private static let columnTypes = ["integer", "number", "string", "boolean", "date"]

    /// Why a version's schema cannot be served: not structural, or not readable at all.
    private static func schemaErrors(_ schema: JSONValue, at path: FieldPath) -> [FieldError] {
        do {
            return try StructuralSchema(schema).structuralErrors().map { $0.prefixed(by: path) }
        } catch {
            return error.errors.map { $0.prefixed(by: path) }
        }
    }

    private static func versionErrors(_ versions: [Version], _ raw: [JSONValue], at path: FieldPath) -> [FieldError] {
        guard !versions.isEmpty else { return [.required(path, "must have exactly one version marked as storage version")] }
        var errors: [FieldError] = []
        var seen: Set<String> = []
        for (index, version) in versions.enumerated() {
            let at = path.index(index)
            if version.name.isEmpty {
                errors.append(.required(at.child("name")))
            } else if let problem = nameProblem(NameRules.dns1035Label(version.name)) {
                errors.append(.invalid(at.child("name"), .string(version.name), problem))
            } else if !seen.insert(version.name).inserted {
                errors.append(.duplicate(at.child("name"), .string(version.name)))
            }
            if raw[index]["served"]?.boolValue == nil { errors.append(.required(at.child("served"))) }
            if raw[index]["storage"]?.boolValue == nil { errors.append(.required(at.child("storage"))) }
            if version.schema == nil {
                errors.append(.required(at.child("schema").child("openAPIV3Schema"), "schemas are required"))
            } else {
                errors += schemaErrors(version.schema!, at: at.child("schema").child("openAPIV3Schema"))
            }
            for (columnIndex, column) in version.printerColumns.enumerated() {
                let columnPath = at.child("additionalPrinterColumns").index(columnIndex)
                if column.name.isEmpty { errors.append(.required(columnPath.child("name"))) }
                if column.jsonPath.isEmpty {
                    errors.append(.required(columnPath.child("jsonPath")))
                } else {
                    do {
                        _ = try SimpleJSONPath(column.jsonPath)
                    } catch {
                        errors.append(.invalid(columnPath.child("jsonPath"), .string(column.jsonPath), error.reason))
                    }
                }
                if !columnTypes.contains(column.type) {
                    errors.append(.notSupported(columnPath.child("type"), .string(column.type), supported: columnTypes))
                }
            }
            if let scale = version.scale {
                let scalePath = at.child("subresources").child("scale")
                if !scale.specReplicasPath.hasPrefix(".spec.") {
                    errors.append(.invalid(scalePath.child("specReplicasPath"), .string(scale.specReplicasPath), "should be a json path under .spec"))
                }
                if !scale.statusReplicasPath.hasPrefix(".status.") {
                    errors.append(
                        .invalid(scalePath.child("statusReplicasPath"), .string(scale.statusReplicasPath), "should be a json path under .status"))
                }
            }
        }
        let storage = versions.filter(\.storage).count
        if storage != 1 {
            errors.append(.invalid(path, .int(Int64(storage)), "must have exactly one version marked as storage version"))
        }
        return errors
    }
}

/// Kubernetes' messages for a name, joined; nil when the name is valid.
private func nameProblem(_ messages: [String]) -> String? {
    messages.isEmpty ? nil : messages.joined(separator: "; ")
}

extension CustomResourceDefinition.Names {
    func errors(at path: FieldPath) -> [FieldError] {
        var errors: [FieldError] = []
        if plural.isEmpty {
            errors.append(.required(path.child("plural")))
        } else if let problem = nameProblem(NameRules.dns1035Label(plural)) {
            errors.append(.invalid(path.child("plural"), .string(plural), problem))
        }
        if !singular.isEmpty, let problem = nameProblem(NameRules.dns1035Label(singular)) {
            errors.append(.invalid(path.child("singular"), .string(singular), problem))
        }
        if kind.isEmpty {
            errors.append(.required(path.child("kind")))
        } else if kind == listKind {
            errors.append(.invalid(path.child("listKind"), .string(listKind), "kind and listKind may not be the same"))
        }
        for (index, short) in shortNames.enumerated() {
            if let problem = nameProblem(NameRules.dns1035Label(short)) {
                errors.append(.invalid(path.child("shortNames").index(index), .string(short), problem))
            }
        }
        return errors
    }
}

extension FieldError {
    /// The same error at `prefix` + its path (a schema's errors within its definition).
    func prefixed(by prefix: FieldPath) -> FieldError {
        var copy = self
        copy.path = FieldPath(prefix.components + path.components)
        if let source = sourcePath { copy.sourcePath = FieldPath(prefix.components + source.components) }
        return copy
    }
}
