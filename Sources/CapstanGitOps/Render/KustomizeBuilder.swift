import CapstanCore
import Foundation
import OrderedCollections

/// Builds a kustomization folder into objects: its resources (files and
/// nested kustomizations), its generated ConfigMaps and Secrets, then its
/// transformations, in kustomize's order.
struct KustomizeBuilder {
    var reader: FileReader
    let loader: ManifestLoader
    /// Folders being built, to refuse resource cycles.
    private var building: [String] = []

    init(reader: FileReader, loader: ManifestLoader) {
        self.reader = reader
        self.loader = loader
    }

    mutating func build(directory: String) async -> (manifests: [Manifest], errors: [ManifestError]) {
        guard let fileName = Kustomization.fileNames.first(where: { reader.exists(directory.joiningPath($0) ?? $0) }),
            let path = directory.joiningPath(fileName)
        else {
            return (
                [],
                [
                    ManifestError(
                        file: directory.isEmpty ? "." : directory, position: SourcePosition(line: 1, column: 1),
                        message: "no kustomization.yaml in this folder")
                ]
            )
        }
        if building.contains(directory) {
            return (
                [],
                [
                    ManifestError(
                        file: path, position: SourcePosition(line: 1, column: 1),
                        message: "resources form a cycle: \((building + [directory]).joined(separator: " -> "))")
                ]
            )
        }
        building.append(directory)
        defer { building.removeLast() }

        let kustomization: Kustomization
        do {
            let documents = try YAMLLoader().load(try await reader.bytes(path), file: path)
            guard let document = documents.first else {
                return ([], [ManifestError(file: path, position: SourcePosition(line: 1, column: 1), message: "empty kustomization")])
            }
            kustomization = try Kustomization(document: document, directory: directory)
        } catch let error as YAMLError {
            return ([], [ManifestError(error)])
        } catch let error as ManifestErrors {
            return ([], error.errors)
        } catch {
            return ([], [ManifestError(file: path, position: SourcePosition(line: 1, column: 1), message: "cannot read: \(error)")])
        }

        var manifests: [Manifest] = []
        var errors: [ManifestError] = []
        for (resource, field) in kustomization.resources {
            let position = kustomization.source.sourceMap.position(of: field)
            guard let target = directory.joiningPath(resource) else {
                errors.append(ManifestError(file: path, position: position, message: "\(field): \"\(resource)\" is outside the repository"))
                continue
            }
            if reader.exists(target) {
                do {
                    let loaded = loader.load(file: target, contents: try await reader.bytes(target))
                    manifests += loaded.manifests
                    errors += loaded.errors
                } catch {
                    errors.append(ManifestError(file: path, position: position, message: "\(field): cannot read \(target): \(error)"))
                }
            } else if !reader.paths(under: target).isEmpty {
                let nested = await build(directory: target)
                manifests += nested.manifests
                errors += nested.errors
            } else {
                errors.append(ManifestError(file: path, position: position, message: "\(field): \"\(resource)\" does not exist"))
            }
        }
        var renames: [String: String] = [:]  // "ConfigMap/name" → generated name
        for generator in kustomization.generators {
            do {
                let generated = try await generate(generator, in: kustomization)
                renames["\(generated.object.kind)/\(generator.name)"] = generated.object.metadata.name
                manifests.append(generated)
            } catch let error as ManifestError {
                errors.append(error)
            } catch {
                errors.append(ManifestError(file: path, position: kustomization.source.sourceMap.position(of: generator.path), message: "\(error)"))
            }
        }
        transform(&manifests, with: kustomization, renames: &renames)
        return (manifests, errors)
    }

    // MARK: Generators

    private mutating func generate(_ generator: Kustomization.Generator, in kustomization: Kustomization) async throws -> Manifest {
        let position = kustomization.source.sourceMap.position(of: generator.path)
        func failure(_ message: String) -> ManifestError {
            ManifestError(file: kustomization.file, position: position, message: "\(generator.path): \(message)")
        }
        var data: [(String, String)] = []
        // A Secret's literals and env lines are its values: messages name their position, never their text.
        for (number, literal) in zip(1..., generator.literals) {
            guard let equals = literal.firstIndex(of: "=") else {
                throw failure(generator.isSecret ? "literal \(number) must be KEY=VALUE" : "literal \"\(literal)\" must be KEY=VALUE")
            }
            data.append((String(literal[..<equals]), String(literal[literal.index(after: equals)...])))
        }
        for entry in generator.files {
            // `key=path` or `path` (the key is the file name).
            let (key, relative): (String?, String) =
                entry.firstIndex(of: "=").map { (String(entry[..<$0]), String(entry[entry.index(after: $0)...])) } ?? (nil, entry)
            guard let path = kustomization.directory.joiningPath(relative), reader.exists(path) else {
                throw failure("file \"\(relative)\" does not exist")
            }
            let bytes = try await reader.bytes(path)
            guard let text = String(validating: bytes, as: UTF8.self) else {
                throw failure("file \"\(relative)\" is not UTF-8 text")
            }
            data.append((key ?? path.splitDirectory.name, text))
        }
        for env in generator.envs {
            guard let path = kustomization.directory.joiningPath(env), reader.exists(path) else {
                throw failure("env file \"\(env)\" does not exist")
            }
            let text = String(decoding: try await reader.bytes(path), as: UTF8.self)
            for (number, line) in zip(1..., text.split(separator: "\n", omittingEmptySubsequences: false)) {
                let trimmed = line.trimmingCharacters(in: .whitespaces)
                guard !trimmed.isEmpty, !trimmed.hasPrefix("#") else { continue }
                guard let equals = trimmed.firstIndex(of: "=") else {
                    throw failure(generator.isSecret ? "\(env):\(number): must be KEY=VALUE" : "\(env): line \"\(trimmed)\" must be KEY=VALUE")
                }
                data.append((String(trimmed[..<equals]), String(trimmed[trimmed.index(after: equals)...])))
            }
        }
        var object = JSONObject()
        object["apiVersion"] = "v1"
        object["kind"] = .string(generator.isSecret ? "Secret" : "ConfigMap")
        var metadata: JSONObject = ["name": .string(generator.name)]
        if let namespace = generator.namespace { metadata["namespace"] = .string(namespace) }
        if !generator.labels.isEmpty {
            metadata["labels"] = .object(
                JSONObject(uniqueKeysWithValues: generator.labels.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        if !generator.annotations.isEmpty {
            metadata["annotations"] = .object(
                JSONObject(uniqueKeysWithValues: generator.annotations.sorted { $0.key < $1.key }.map { ($0.key, .string($0.value)) }))
        }
        object["metadata"] = .object(metadata)
        if generator.isSecret { object["type"] = .string(generator.type ?? "Opaque") }
        var values = JSONObject()
        for (key, value) in data {
            guard values[key] == nil else { throw failure("key \"\(key)\" is defined twice") }
            values[key] = .string(generator.isSecret ? Base64.encode(Array(value.utf8)) : value)
        }
        object["data"] = .object(values)
        if generator.hashSuffix {
            let hash = Self.nameHash(of: object)
            object["metadata"]?["name"] = .string(generator.name + "-" + hash)
        }
        let document = YAMLDocument(value: .object(object), sourceMap: SourceMap(everythingAt: position), file: kustomization.file, index: 0)
        return Manifest(object: Unstructured(json: object), source: document, listIndex: nil)
    }

    /// Kustomize's content hash suffix: ten characters of the SHA-256 of the
    /// object's kind, name and data, without vowels (so it never spells words).
    static func nameHash(of object: JSONObject) -> String {
        var hashed = JSONObject()
        for key in ["binaryData", "data", "kind"] { if let value = object[key] { hashed[key] = value } }
        hashed["name"] = object["metadata"]?["name"]
        if let type = object["type"] { hashed["type"] = type }
        let sorted = JSONObject(uniqueKeysWithValues: hashed.sorted { $0.key < $1.key }.map { ($0.key, $0.value) })
        let hex = ContentHash.sha256(JSONSerializer.bytes(.object(sorted)))
        let replacements: [Character: Character] = ["0": "g", "1": "h", "3": "k", "a": "m", "e": "t"]
        return String(hex.prefix(10).map { replacements[$0] ?? $0 })
    }

    // MARK: Transformations

    private func transform(_ manifests: inout [Manifest], with kustomization: Kustomization, renames: inout [String: String]) {
        for index in manifests.indices {
            var object = manifests[index].object
            let kind = object.kind
            // Names: prefix and suffix on everything but Namespaces and CRDs; generated names keep their hash last.
            if !kustomization.namePrefix.isEmpty || !kustomization.nameSuffix.isEmpty, kind != "Namespace", kind != "CustomResourceDefinition" {
                let original = object.metadata.name
                var renamed = kustomization.namePrefix + original + kustomization.nameSuffix
                if let generatedFrom = renames.first(where: { $0.value == original })?.key {
                    let baseName = String(generatedFrom.split(separator: "/", maxSplits: 1)[1])
                    let hash = original.dropFirst(baseName.count)
                    renamed = kustomization.namePrefix + baseName + kustomization.nameSuffix + hash
                    renames[generatedFrom] = renamed
                } else if ["ConfigMap", "Secret", "ServiceAccount", "PersistentVolumeClaim", "Service"].contains(kind) {
                    renames["\(kind)/\(original)"] = renamed
                }
                object.metadata.name = renamed
            }
            if let namespace = kustomization.namespace, kind != "Namespace",
                BuiltinKinds.lookup(apiVersion: object.apiVersion, kind: kind)?.namespaced
                    ?? (kind != "CustomResourceDefinition" && kind != "ClusterRole" && kind != "ClusterRoleBinding")
            {
                object.metadata.namespace = namespace
            }
            if !kustomization.labels.isEmpty {
                object.metadata.labels = object.metadata.labels.merging(kustomization.labels) { $1 }
            }
            if !kustomization.annotations.isEmpty {
                object.metadata.annotations = object.metadata.annotations.merging(kustomization.annotations) { $1 }
            }
            if !kustomization.selectorLabels.isEmpty { addSelectorLabels(kustomization.selectorLabels, to: &object) }
            for (name, count) in kustomization.replicas
            where name == object.metadata.name || kustomization.namePrefix + name + kustomization.nameSuffix == object.metadata.name {
                if object.json["spec"] != nil { object.json["spec"]?["replicas"] = .int(count) }
            }
            manifests[index].object = object
        }
        for index in manifests.indices {
            Self.rewritePodTemplates(in: &manifests[index].object) { spec in
                Self.rewriteReferences(in: &spec, renames: renames)
                Self.overrideImages(in: &spec, with: kustomization.images)
            }
        }
    }

    private func addSelectorLabels(_ labels: [String: String], to object: inout Unstructured) {
        let workloads = ["Deployment", "ReplicaSet", "DaemonSet", "StatefulSet"]
        if workloads.contains(object.kind) {
            var selector = object.json["spec"]?["selector"]?.objectValue.map(LabelSelectorSpec.init(json:)) ?? LabelSelectorSpec()
            selector.matchLabels = selector.matchLabels.merging(labels) { $1 }
            object.json["spec"]?["selector"] = selector.jsonValue
        }
        if object.kind == "Service", object.json["spec"]?["type"]?.stringValue != "ExternalName" {
            var spec = object.json["spec"]?.objectValue.map(ServiceSpec.init(json:)) ?? ServiceSpec()
            spec.selector = spec.selector.merging(labels) { $1 }
            object.json["spec"] = spec.jsonValue
        }
        if workloads.contains(object.kind) || object.kind == "Job",
            var template = object.json["spec"]?["template"]?.objectValue.map(PodTemplateSpec.init(json:))
        {
            template.metadata.labels = template.metadata.labels.merging(labels) { $1 }
            object.json["spec"]?["template"] = template.jsonValue
        }
    }

    /// Calls `body` with every pod spec the object holds (a Pod's own, a
    /// workload's template, a CronJob's job template).
    static func rewritePodTemplates(in object: inout Unstructured, _ body: (inout PodSpec) -> Void) {
        func apply(_ path: [String]) {
            var value: JSONValue = object.jsonValue
            guard let specValue = value[path: path], case .object(let json) = specValue else { return }
            var spec = PodSpec(json: json)
            body(&spec)
            value[path: path] = spec.jsonValue
            if case .object(let updated) = value { object.json = updated }
        }
        switch object.kind {
        case "Pod": apply(["spec"])
        case "Deployment", "ReplicaSet", "DaemonSet", "StatefulSet", "Job": apply(["spec", "template", "spec"])
        case "CronJob": apply(["spec", "jobTemplate", "spec", "template", "spec"])
        default: break
        }
    }

    /// Points references to renamed ConfigMaps, Secrets, ServiceAccounts and claims at their new names.
    static func rewriteReferences(in spec: inout PodSpec, renames: [String: String]) {
        guard !renames.isEmpty else { return }
        func renamed(_ kind: String, _ name: String?) -> String? { name.flatMap { renames["\(kind)/\($0)"] } }
        if let account = renamed("ServiceAccount", spec.serviceAccountName) { spec.serviceAccountName = account }
        var volumes = spec.volumes
        for index in volumes.indices {
            if let name = renamed("ConfigMap", volumes[index].json["configMap"]?["name"]?.stringValue) {
                volumes[index].json["configMap"]?["name"] = .string(name)
            }
            if let name = renamed("Secret", volumes[index].json["secret"]?["secretName"]?.stringValue) {
                volumes[index].json["secret"]?["secretName"] = .string(name)
            }
            if let name = renamed("PersistentVolumeClaim", volumes[index].json["persistentVolumeClaim"]?["claimName"]?.stringValue) {
                volumes[index].json["persistentVolumeClaim"]?["claimName"] = .string(name)
            }
        }
        if !volumes.isEmpty { spec.volumes = volumes }
        for containersKey in ["containers", "initContainers"] {
            var containers: [Container] = spec[views: containersKey]
            for index in containers.indices {
                var env = containers[index].env
                for envIndex in env.indices {
                    if let name = renamed("ConfigMap", env[envIndex].json["valueFrom"]?["configMapKeyRef"]?["name"]?.stringValue) {
                        env[envIndex].json["valueFrom"]?["configMapKeyRef"]?["name"] = .string(name)
                    }
                    if let name = renamed("Secret", env[envIndex].json["valueFrom"]?["secretKeyRef"]?["name"]?.stringValue) {
                        env[envIndex].json["valueFrom"]?["secretKeyRef"]?["name"] = .string(name)
                    }
                }
                if !env.isEmpty { containers[index].env = env }
                var envFrom = containers[index].envFrom
                for fromIndex in envFrom.indices {
                    if let name = renamed("ConfigMap", envFrom[fromIndex]["configMapRef"]?["name"]?.stringValue) {
                        envFrom[fromIndex]["configMapRef"]?["name"] = .string(name)
                    }
                    if let name = renamed("Secret", envFrom[fromIndex]["secretRef"]?["name"]?.stringValue) {
                        envFrom[fromIndex]["secretRef"]?["name"] = .string(name)
                    }
                }
                if !envFrom.isEmpty { containers[index].envFrom = envFrom }
            }
            if !containers.isEmpty { spec[views: containersKey] = containers }
        }
    }

    /// `images:` overrides: by image name, a new name, tag or digest.
    static func overrideImages(in spec: inout PodSpec, with overrides: [Kustomization.ImageOverride]) {
        guard !overrides.isEmpty else { return }
        for containersKey in ["containers", "initContainers"] {
            var containers: [Container] = spec[views: containersKey]
            for index in containers.indices {
                guard let image = containers[index].image else { continue }
                let reference = ImageReference(image)
                guard let override = overrides.first(where: { $0.name == reference.name }) else { continue }
                var updated = reference
                if let newName = override.newName { updated.name = newName }
                if let digest = override.digest {
                    updated.digest = digest
                    updated.tag = nil
                } else if let tag = override.newTag {
                    updated.tag = tag
                    updated.digest = nil
                }
                containers[index].image = updated.description
            }
            if !containers.isEmpty { spec[views: containersKey] = containers }
        }
    }
}

/// `registry/name:tag@digest`, split where kustomize splits it.
struct ImageReference: CustomStringConvertible {
    var name: String
    var tag: String?
    var digest: String?

    init(_ text: String) {
        var rest = Substring(text)
        if let at = rest.firstIndex(of: "@") {
            digest = String(rest[rest.index(after: at)...])
            rest = rest[..<at]
        }
        // A colon after the last slash is a tag; one before it is a registry port.
        if let colon = rest.lastIndex(of: ":"), !rest[colon...].contains("/") {
            tag = String(rest[rest.index(after: colon)...])
            rest = rest[..<colon]
        }
        name = String(rest)
    }

    var description: String {
        name + (tag.map { ":" + $0 } ?? "") + (digest.map { "@" + $0 } ?? "")
    }
}
