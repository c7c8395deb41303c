import CapstanCore
import OrderedCollections

/// The subset of kustomize's `kustomization.yaml` that Capstan renders itself:
/// `resources` (files and folders inside the repository), `namespace`,
/// `namePrefix`, `nameSuffix`, `commonLabels`, `labels`, `commonAnnotations`,
/// `images`, `replicas`, `configMapGenerator`, `secretGenerator` and
/// `generatorOptions`. Anything else is refused with its line, never ignored.
struct Kustomization {
    struct ImageOverride {
        var name: String
        var newName: String?
        var newTag: String?
        var digest: String?
    }

    struct Generator {
        var isSecret: Bool
        var name: String
        var namespace: String?
        var type: String?
        var literals: [String] = []
        var files: [String] = []
        var envs: [String] = []
        var hashSuffix: Bool
        var labels: [String: String] = [:]
        var annotations: [String: String] = [:]
        var path: FieldPath
    }

    var file: String
    var directory: String
    var source: YAMLDocument
    var resources: [(path: String, field: FieldPath)] = []
    var namespace: String?
    var namePrefix = ""
    var nameSuffix = ""
    var labels: [String: String] = [:]
    /// Labels that also go into selectors and templates (`commonLabels`, or `labels` with `includeSelectors`).
    var selectorLabels: [String: String] = [:]
    var annotations: [String: String] = [:]
    var images: [ImageOverride] = []
    var replicas: [(name: String, count: Int64)] = []
    var generators: [Generator] = []

    static let fileNames = ["kustomization.yaml", "kustomization.yml", "Kustomization"]

    static let unsupported: [String: String] = [
        "patches": "patches are not supported yet; change the manifests in git instead",
        "patchesStrategicMerge": "patches are not supported yet; change the manifests in git instead",
        "patchesJson6902": "patches are not supported yet; change the manifests in git instead",
        "components": "components are not supported",
        "helmCharts": "Helm charts are not rendered by Capstan; commit the rendered manifests",
        "bases": "bases were removed from kustomize; list them under resources",
        "crds": "crds are not supported; list CustomResourceDefinitions under resources",
        "vars": "vars are not supported",
        "replacements": "replacements are not supported",
        "transformers": "transformer plugins are not supported",
        "generators": "generator plugins are not supported",
        "openapi": "openapi is not supported",
        "configurations": "configurations are not supported",
    ]

    init(document: YAMLDocument, directory: String) throws(ManifestErrors) {
        self.file = document.file
        self.directory = directory
        self.source = document
        var errors: [ManifestError] = []
        func fail(_ path: FieldPath, _ message: String) {
            errors.append(
                ManifestError(
                    file: document.file, position: document.sourceMap.position(of: path), message: path.isRoot ? message : "\(path): \(message)"))
        }
        guard case .object(let object) = document.value else {
            throw ManifestErrors([ManifestError(file: document.file, position: document.position, message: "a kustomization must be a mapping")])
        }
        let known: Set<String> = [
            "apiVersion", "kind", "metadata", "resources", "namespace", "namePrefix", "nameSuffix", "commonLabels", "labels",
            "commonAnnotations", "images", "replicas", "configMapGenerator", "secretGenerator", "generatorOptions", "sortOptions",
        ]
        for key in object.keys where !known.contains(key) {
            fail(FieldPath(key), Self.unsupported[key] ?? "unknown kustomization field \"\(key)\"")
        }
        func strings(_ key: String) -> [String] {
            guard let value = object[key] else { return [] }
            guard case .array(let items) = value, items.allSatisfy({ $0.stringValue != nil }) else {
                fail(FieldPath(key), "must be a list of strings")
                return []
            }
            return items.compactMap(\.stringValue)
        }
        func stringMap(_ value: JSONValue?, _ path: FieldPath) -> [String: String] {
            guard let value else { return [:] }
            guard case .object(let map) = value else {
                fail(path, "must be a mapping of strings")
                return [:]
            }
            var result: [String: String] = [:]
            for (key, member) in map {
                guard let text = member.stringValue else {
                    fail(path.key(key), "must be a string (quote it)")
                    continue
                }
                result[key] = text
            }
            return result
        }
        func string(_ value: JSONValue?, _ path: FieldPath) -> String? {
            guard let value else { return nil }
            guard let text = value.stringValue else {
                fail(path, "must be a string")
                return nil
            }
            return text
        }

        for (index, resource) in strings("resources").enumerated() {
            if resource.contains("://") || resource.hasPrefix("github.com/") || resource.hasPrefix("git@") {
                fail(FieldPath("resources").index(index), "remote resources are not supported; Capstan renders only what is in this repository")
            } else {
                resources.append((resource, FieldPath("resources").index(index)))
            }
        }
        namespace = string(object["namespace"], FieldPath("namespace"))
        namePrefix = string(object["namePrefix"], FieldPath("namePrefix")) ?? ""
        nameSuffix = string(object["nameSuffix"], FieldPath("nameSuffix")) ?? ""
        selectorLabels = stringMap(object["commonLabels"], FieldPath("commonLabels"))
        labels = selectorLabels
        if let entries = object["labels"] {
            for (index, entry) in (entries.arrayValue ?? []).enumerated() {
                let path = FieldPath("labels").index(index)
                let pairs = stringMap(entry["pairs"], path.child("pairs"))
                labels.merge(pairs) { $1 }
                if entry["includeSelectors"]?.boolValue == true { selectorLabels.merge(pairs) { $1 } }
            }
        }
        annotations = stringMap(object["commonAnnotations"], FieldPath("commonAnnotations"))
        for (index, entry) in (object["images"]?.arrayValue ?? []).enumerated() {
            let path = FieldPath("images").index(index)
            guard let name = string(entry["name"], path.child("name")) else {
                fail(path.child("name"), "required")
                continue
            }
            images.append(
                ImageOverride(
                    name: name, newName: string(entry["newName"], path.child("newName")),
                    newTag: string(entry["newTag"], path.child("newTag")) ?? entry["newTag"]?.intValue.map(String.init),
                    digest: string(entry["digest"], path.child("digest"))))
        }
        for (index, entry) in (object["replicas"]?.arrayValue ?? []).enumerated() {
            let path = FieldPath("replicas").index(index)
            guard let name = string(entry["name"], path.child("name")), let count = entry["count"]?.intValue, count >= 0 else {
                fail(path, "needs a name and a non-negative count")
                continue
            }
            replicas.append((name, count))
        }
        let disableHash = object["generatorOptions"]?["disableNameSuffixHash"]?.boolValue ?? false
        let generatorLabels = stringMap(object["generatorOptions"]?["labels"], FieldPath("generatorOptions", "labels"))
        for (key, isSecret) in [("configMapGenerator", false), ("secretGenerator", true)] {
            for (index, entry) in (object[key]?.arrayValue ?? []).enumerated() {
                let path = FieldPath(key).index(index)
                guard let name = string(entry["name"], path.child("name")) else {
                    fail(path.child("name"), "required")
                    continue
                }
                if let behavior = entry["behavior"]?.stringValue, behavior != "create" {
                    fail(path.child("behavior"), "only behavior: create is supported")
                }
                var generator = Generator(
                    isSecret: isSecret, name: name, namespace: string(entry["namespace"], path.child("namespace")),
                    type: string(entry["type"], path.child("type")),
                    hashSuffix: !(entry["options"]?["disableNameSuffixHash"]?.boolValue ?? disableHash), path: path)
                generator.literals = entry["literals"]?.arrayValue?.compactMap(\.stringValue) ?? []
                generator.files = entry["files"]?.arrayValue?.compactMap(\.stringValue) ?? []
                generator.envs = (entry["envs"]?.arrayValue?.compactMap(\.stringValue) ?? []) + (entry["env"]?.stringValue.map { [$0] } ?? [])
                generator.labels = generatorLabels.merging(stringMap(entry["options"]?["labels"], path.child("options").child("labels"))) { $1 }
                generator.annotations = stringMap(entry["options"]?["annotations"], path.child("options").child("annotations"))
                generators.append(generator)
            }
        }
        if !errors.isEmpty { throw ManifestErrors(errors) }
    }
}
