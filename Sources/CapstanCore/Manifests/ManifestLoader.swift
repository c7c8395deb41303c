import OrderedCollections

/// Reads manifest files into Kubernetes objects and checks them, reporting
/// every problem at its `file:line:column`.
///
/// Pure: callers hand in file names and bytes (from disk, or from a git tree),
/// so the same code serves `capstan validate` and the GitOps render step.
public struct ManifestLoader: Sendable {
    public var yaml: YAMLLoader
    /// Run ``ObjectValidator`` on each object (the API server's create-time checks).
    public var validates: Bool

    public init(yaml: YAMLLoader = YAMLLoader(), validates: Bool = true) {
        self.yaml = yaml
        self.validates = validates
    }

    /// Whether a path names a manifest file (`.yaml`, `.yml` or `.json`).
    public static func isManifestFile(_ path: String) -> Bool {
        let lower = path.lowercased()
        return lower.hasSuffix(".yaml") || lower.hasSuffix(".yml") || lower.hasSuffix(".json")
    }

    /// Loads and checks a set of files. Objects defined twice across the set
    /// are reported at the second definition.
    public func load(files: [(path: String, contents: [UInt8])]) -> ManifestSet {
        var set = ManifestSet()
        var loaded: [Manifest] = []
        for (path, contents) in files {
            let (manifests, errors, documentCount) = loadFile(path, contents)
            set.errors += errors
            set.documentCount += documentCount
            loaded += manifests
        }
        let (unique, duplicates) = Self.removingDuplicates(loaded)
        set.manifests = unique
        set.errors += duplicates
        return set
    }

    /// Keeps the first definition of each object; later ones become errors
    /// pointing back at the first.
    public static func removingDuplicates(_ manifests: [Manifest]) -> (manifests: [Manifest], errors: [ManifestError]) {
        var firstDefinitions: [ObjectIdentity: Manifest] = [:]
        var unique: [Manifest] = []
        var errors: [ManifestError] = []
        for manifest in manifests {
            let identity = manifest.identity
            if !identity.name.isEmpty, let first = firstDefinitions[identity] {
                errors.append(
                    ManifestError(
                        file: manifest.file, position: manifest.position(of: .root), subject: identity.description,
                        message: "defined twice: first at \(first.file):\(first.position(of: .root))"))
                continue
            }
            firstDefinitions[identity] = manifest
            unique.append(manifest)
        }
        return (unique, errors)
    }

    /// Objects of kinds no Capstan server serves, each reported at its `kind`
    /// with Kubernetes' words (`no matches for kind "Deploymnet" in version
    /// "apps/v1"`), so a typo in a kind stops a commit before anything is
    /// applied rather than failing halfway through the apply. A kind served
    /// at another version is left to ``ObjectValidator``, which names the
    /// versions that are served.
    ///
    /// Kinds defined by the CustomResourceDefinitions among `manifests`, or
    /// in `served` (a cluster's own), are served.
    public static func errors(unservedKindsIn manifests: [Manifest], served: [KindInfo] = []) -> [ManifestError] {
        let custom = Set(
            (CustomResourceDefinition.kinds(definedIn: manifests.map(\.object.jsonValue)) + served).map { "\($0.apiVersion)/\($0.kind)" })
        return manifests.compactMap { manifest in
            let object = manifest.object
            guard !object.kind.isEmpty, !object.apiVersion.isEmpty, BuiltinKinds.apiVersions(ofKind: object.kind).isEmpty,
                !custom.contains("\(object.apiVersion)/\(object.kind)")
            else { return nil }
            return ManifestError(
                file: manifest.file, position: manifest.position(of: FieldPath("kind")), subject: object.displayName,
                message: "kind: no matches for kind \"\(object.kind)\" in version \"\(object.apiVersion)\""
                    + (KubernetesSchemas.definitionName(apiVersion: object.apiVersion, kind: object.kind) != nil
                        ? " (a Kubernetes kind Capstan does not serve yet)" : "; ensure CRDs are installed first"))
        }
    }

    /// Objects of kinds the CustomResourceDefinitions among `manifests`
    /// define, checked against their version's schema as the API server
    /// will check them: unknown fields, then the schema's values and CEL
    /// rules (on defaulted objects, as stored), each at its `file:line:column`.
    public static func errors(checkingCustomResourcesIn manifests: [Manifest]) -> [ManifestError] {
        var schemas: [String: StructuralSchema] = [:]
        for manifest in manifests where manifest.object.kind == BuiltinKinds.customResourceDefinition.kind {
            guard let definition = try? CustomResourceDefinition(manifest.object.jsonValue) else { continue }
            for version in definition.servedVersions {
                if let schema = version.schema.flatMap({ try? StructuralSchema($0) }) {
                    schemas["\(definition.group)/\(version.name)/\(definition.names.kind)"] = schema
                }
            }
        }
        guard !schemas.isEmpty else { return [] }
        return manifests.flatMap { manifest -> [ManifestError] in
            let object = manifest.object
            guard let schema = schemas["\(object.apiVersion)/\(object.kind)"] else { return [] }
            let pruned = schema.pruned(object.jsonValue)
            let problems =
                pruned.unknownFields.map(FieldError.unknownField)
                + schema.validate(schema.defaulted(pruned.object), old: nil, rules: ValidationRuleEvaluation.hook)
            return problems.map {
                ManifestError(
                    file: manifest.file, position: manifest.position(of: $0.locationPath), subject: object.displayName, message: $0.description)
            }
        }
    }

    /// The object's validation problems, each at its `file:line:column`, top to bottom.
    public static func errors(validating manifest: Manifest) -> [ManifestError] {
        let problems = ObjectValidator.validate(manifest.object.jsonValue)
        guard !problems.isEmpty else { return [] }
        let subject = manifest.object.displayName
        let located = problems.map {
            ManifestError(file: manifest.file, position: manifest.position(of: $0.locationPath), subject: subject, message: $0.description)
        }
        // Top to bottom, as people read the file; ties keep validation order.
        return located.enumerated().sorted { ($0.element.position, $0.offset) < ($1.element.position, $1.offset) }.map(\.element)
    }

    /// Loads one file: its objects, and every problem found in it.
    public func load(file: String, contents: [UInt8]) -> (manifests: [Manifest], errors: [ManifestError]) {
        let (manifests, errors, _) = loadFile(file, contents)
        return (manifests, errors)
    }

    private func loadFile(_ file: String, _ contents: [UInt8]) -> (manifests: [Manifest], errors: [ManifestError], documentCount: Int) {
        let documents: [YAMLDocument]
        do {
            documents = try yaml.load(contents, file: file)
        } catch {
            return ([], [ManifestError(error)], 0)
        }
        var manifests: [Manifest] = []
        var errors: [ManifestError] = []
        for document in documents {
            guard case .object(let object) = document.value else {
                errors.append(
                    ManifestError(
                        file: file, position: document.position,
                        message:
                            "document \(document.index + 1) is \(article(document.value.typeName)), not a Kubernetes object (a mapping with apiVersion, kind and metadata)"
                    ))
                continue
            }
            let unstructured = Unstructured(json: object)
            if unstructured.kind == "List", unstructured.apiVersion == "v1", let items = object["items"]?.arrayValue {
                for (index, item) in items.enumerated() {
                    appendChecked(item, document: document, listIndex: index, into: &manifests, errors: &errors)
                }
                continue
            }
            appendChecked(document.value, document: document, listIndex: nil, into: &manifests, errors: &errors)
        }
        return (manifests, errors, documents.count)
    }

    private func appendChecked(
        _ value: JSONValue, document: YAMLDocument, listIndex: Int?, into manifests: inout [Manifest], errors: inout [ManifestError]
    ) {
        guard case .object(let object) = value else {
            let position = document.sourceMap.position(of: FieldPath([.field("items"), .index(listIndex ?? 0)]))
            errors.append(
                ManifestError(file: document.file, position: position, message: "list item is \(article(value.typeName)), not a Kubernetes object"))
            return
        }
        let manifest = Manifest(object: Unstructured(json: object), source: document, listIndex: listIndex)
        if validates {
            let problems = Self.errors(validating: manifest)
            if !problems.isEmpty {
                errors += problems
                return
            }
        }
        manifests.append(manifest)
    }

    private func article(_ typeName: String) -> String {
        (typeName.first.map { "aeiou".contains($0) } ?? false ? "an " : "a ") + typeName
    }
}

/// The objects of a set of manifest files, and everything wrong with them.
public struct ManifestSet: Sendable {
    public var manifests: [Manifest] = []
    public var errors: [ManifestError] = []
    /// Documents read, including ones with errors.
    public var documentCount = 0

    public init() {}

    public var isValid: Bool { errors.isEmpty }
}
