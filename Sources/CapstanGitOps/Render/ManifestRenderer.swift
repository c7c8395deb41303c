package import CapstanCore

/// Everything one commit says the cluster should hold, or why it cannot be applied.
package struct RenderedCommit: Sendable {
    package var config: RepositoryConfig
    package var manifests: [Manifest]
    /// Any error means the commit must not be applied at all.
    package var errors: [ManifestError]
    /// Render units (plain files and kustomizations) read and parsed anew…
    package var unitsRendered: Int
    /// …and reused unchanged from the previous render.
    package var unitsReused: Int
    /// The render units in order, each with a fingerprint of the file
    /// versions it read and how many of ``manifests`` it produced; while the
    /// commit is valid, ``manifests`` is exactly these units' output in order.
    /// Lets callers cache per-object work across commits.
    package var units: [RenderedUnit] = []

    package var isValid: Bool { errors.isEmpty }
}

/// One render unit (a file, or a kustomization) of a ``RenderedCommit``.
package struct RenderedUnit: Sendable, Hashable {
    /// `file:<path>` or `kustomize:<dir>` plus the content ids it read: equal fingerprints, equal output.
    package var fingerprint: String
    package var manifestCount: Int
}

/// Turns a commit's files into validated objects: plain manifests under the
/// configured paths, and kustomizations built with Capstan's kustomize subset.
///
/// Results are cached per unit together with the content ids they read, so a
/// commit that changes one file re-parses that file (or the one
/// kustomization using it) and reuses everything else.
package actor ManifestRenderer {
    struct Unit {
        /// The files the unit read, by path, with their content ids.
        var dependencies: [String: String]
        var manifests: [Manifest]
        var errors: [ManifestError]
    }

    private var cache: [String: Unit] = [:]
    private let loader = ManifestLoader(validates: false)

    package init() {}

    package func render(_ input: RenderInput) async -> RenderedCommit {
        let filesByPath = Dictionary(input.files.map { ($0.path, $0) }, uniquingKeysWith: { first, _ in first })
        var reader = FileReader(files: filesByPath, read: input.read)
        var rendered = RenderedCommit(config: RepositoryConfig(), manifests: [], errors: [], unitsRendered: 0, unitsReused: 0)

        if let configFile = filesByPath[RepositoryConfig.fileName] {
            do {
                rendered.config = try RepositoryConfig(file: configFile.path, contents: try await reader.bytes(configFile.path))
            } catch let error as ManifestErrors {
                rendered.errors += error.errors
                return rendered
            } catch {
                rendered.errors.append(
                    ManifestError(file: configFile.path, position: SourcePosition(line: 1, column: 1), message: "cannot read: \(error)"))
                return rendered
            }
        }

        var nextCache: [String: Unit] = [:]
        var all: [Manifest] = []
        for key in units(for: rendered.config, files: filesByPath) {
            let unit: Unit
            if let cached = cache[key], cached.dependencies.allSatisfy({ filesByPath[$0.key]?.blobID == $0.value }) {
                unit = cached
                rendered.unitsReused += 1
            } else {
                unit = await renderUnit(key, reader: &reader)
                rendered.unitsRendered += 1
            }
            nextCache[key] = unit
            let fingerprint = key + "@" + unit.dependencies.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: ",")
            rendered.units.append(RenderedUnit(fingerprint: fingerprint, manifestCount: unit.manifests.count))
            all += unit.manifests
            rendered.errors += unit.errors
        }
        cache = nextCache
        // Objects of namespaced kinds this commit or the cluster defines go to `default` too, as kubectl sends them.
        let namespacedCustomKinds = Set(
            (CustomResourceDefinition.kinds(definedIn: all.map(\.object.jsonValue))
                + input.servedKinds.filter { $0.group != "" && BuiltinKinds.apiVersions(ofKind: $0.kind).isEmpty })
                .filter(\.namespaced).map { "\($0.apiVersion)/\($0.kind)" })
        for index in all.indices where namespacedCustomKinds.contains("\(all[index].object.apiVersion)/\(all[index].object.kind)") {
            if all[index].object.metadata.namespace?.isEmpty ?? true { all[index].object.metadata.namespace = "default" }
        }
        let (unique, duplicates) = ManifestLoader.removingDuplicates(all)
        rendered.manifests = unique
        rendered.errors +=
            duplicates + ManifestLoader.errors(unservedKindsIn: unique, served: input.servedKinds)
            + ManifestLoader.errors(checkingCustomResourcesIn: unique)
        return rendered
    }

    /// Unit keys: `kustomize:<dir>` for folders with a kustomization, `file:<path>` for other manifests.
    private func units(for config: RepositoryConfig, files: [String: GitTreeFile]) -> [String] {
        let policies = config.policiesPath.trimmingSlashes
        var kustomizeDirectories = Set<String>()
        for path in files.keys {
            let (directory, name) = path.splitDirectory
            if Kustomization.fileNames.contains(name) { kustomizeDirectories.insert(directory) }
        }
        var keys: [String] = []
        var seen = Set<String>()
        for root in config.paths.map(\.trimmingSlashes) {
            for path in files.keys.sorted() {
                guard path.isInside(root), !path.hasHiddenComponent, path != RepositoryConfig.fileName else { continue }
                if !policies.isEmpty, path.isInside(policies), policies != root { continue }
                // A file belongs to the closest kustomization at or above it (inside this root).
                if let owner = path.ancestors.first(where: { kustomizeDirectories.contains($0) && $0.isInside(root) }) {
                    let key = "kustomize:" + owner
                    if seen.insert(key).inserted { keys.append(key) }
                    continue
                }
                guard ManifestLoader.isManifestFile(path) else { continue }
                let key = "file:" + path
                if seen.insert(key).inserted { keys.append(key) }
            }
        }
        return keys
    }

    private func renderUnit(_ key: String, reader: inout FileReader) async -> Unit {
        reader.resetDependencies()
        var manifests: [Manifest] = []
        var errors: [ManifestError] = []
        if key.hasPrefix("file:") {
            let path = String(key.dropFirst("file:".count))
            do {
                let loaded = loader.load(file: path, contents: try await reader.bytes(path))
                manifests = loaded.manifests
                errors = loaded.errors
            } catch {
                errors.append(ManifestError(file: path, position: SourcePosition(line: 1, column: 1), message: "cannot read: \(error)"))
            }
        } else {
            var builder = KustomizeBuilder(reader: reader, loader: loader)
            (manifests, errors) = await builder.build(directory: String(key.dropFirst("kustomize:".count)))
            reader = builder.reader
        }
        var valid: [Manifest] = []
        for var manifest in manifests {
            manifest.defaultNamespace()
            let problems = ManifestLoader.errors(validating: manifest)
            if problems.isEmpty { valid.append(manifest) } else { errors += problems }
        }
        return Unit(dependencies: reader.dependencies, manifests: valid, errors: errors)
    }
}

/// Reads files of the input by path, remembering which ones (and which
/// versions) a unit depended on.
struct FileReader {
    let files: [String: GitTreeFile]
    let read: @Sendable (GitTreeFile) async throws -> [UInt8]
    private(set) var dependencies: [String: String] = [:]

    init(files: [String: GitTreeFile], read: @escaping @Sendable (GitTreeFile) async throws -> [UInt8]) {
        self.files = files
        self.read = read
    }

    struct Missing: Error, CustomStringConvertible {
        var path: String
        var description: String { "no such file: \(path)" }
    }

    mutating func resetDependencies() { dependencies = [:] }

    func exists(_ path: String) -> Bool { files[path] != nil }

    /// Paths of files under a folder.
    func paths(under directory: String) -> [String] {
        files.keys.filter { $0.isInside(directory) }.sorted()
    }

    mutating func bytes(_ path: String) async throws -> [UInt8] {
        guard let file = files[path] else { throw Missing(path: path) }
        dependencies[path] = file.blobID
        return try await read(file)
    }
}

extension Manifest {
    /// Built-in namespaced kinds without a namespace go to `default`, as kubectl sends them.
    mutating func defaultNamespace() {
        guard object.metadata.namespace?.isEmpty ?? true,
            let info = BuiltinKinds.lookup(apiVersion: object.apiVersion, kind: object.kind), info.namespaced
        else { return }
        object.metadata.namespace = "default"
    }
}

extension String {
    var trimmingSlashes: String {
        var text = Substring(self)
        while text.hasPrefix("./") { text = text.dropFirst(2) }
        while text.hasPrefix("/") { text = text.dropFirst() }
        while text.hasSuffix("/") { text = text.dropLast() }
        return text == "." ? "" : String(text)
    }

    /// Whether the path is `directory` itself or below it ("" is the root).
    func isInside(_ directory: String) -> Bool {
        directory.isEmpty || self == directory || hasPrefix(directory + "/")
    }

    var splitDirectory: (directory: String, name: String) {
        guard let slash = lastIndex(of: "/") else { return ("", self) }
        return (String(self[..<slash]), String(self[index(after: slash)...]))
    }

    /// The folders containing this path, closest first, ending with "" (the root).
    var ancestors: [String] {
        var result: [String] = []
        var current = self
        while let slash = current.lastIndex(of: "/") {
            current = String(current[..<slash])
            result.append(current)
        }
        result.append("")
        return result
    }

    var hasHiddenComponent: Bool {
        split(separator: "/").contains { $0.hasPrefix(".") }
    }

    /// `directory/relative` with `.` and `..` resolved; nil when it leaves the repository.
    func joiningPath(_ relative: String) -> String? {
        var parts = isEmpty ? [] : split(separator: "/").map(String.init)
        for part in relative.split(separator: "/") {
            switch part {
            case ".": continue
            case "..":
                guard !parts.isEmpty else { return nil }
                parts.removeLast()
            default: parts.append(String(part))
            }
        }
        return parts.joined(separator: "/")
    }
}
