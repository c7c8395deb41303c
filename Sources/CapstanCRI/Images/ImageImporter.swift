import CapstanSystem
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Loads images into an `ImageStore` from an OCI image layout folder or a `docker save` tarball.
package struct ImageImporter: Sendable {
    package let store: ImageStore

    package init(store: ImageStore) { self.store = store }

    /// Imports every image at `path` (an OCI layout folder, or a tar file holding an OCI
    /// layout or `docker save` output, plain or gzip-compressed).
    ///
    /// Archives are unpacked through ``LayerUnpacker`` into the store's `tmp/` (entries that
    /// would land outside are refused), every file is read only from inside the layout or
    /// archive (no absolute paths, `..` or symbolic links out of it), and every digest is
    /// validated before it names a file.
    /// - Parameter name: names the image when the source carries no name (or overrides it
    ///   when it holds exactly one image).
    /// - Returns: the imported records.
    package func importImages(from path: URL, name: ImageReference? = nil) async throws -> [ImageRecord] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path.path, isDirectory: &isDirectory) else {
            throw CRIError.notFound("no such file or folder: \(path.path)")
        }
        if isDirectory.boolValue {
            return try await importLayout(path, name: name)
        }
        let staging = store.temporaryURL()
        try makeDirectories(staging, mode: 0o700)
        defer { try? FileManager.default.removeItem(at: staging) }
        try await LayerUnpacker.unpack(path, into: staging, limit: store.limits.maxImageBytes, what: "archive \(path.path)")
        if FileManager.default.fileExists(atPath: staging.appending(path: "index.json").path) {
            return try await importLayout(staging, name: name)
        }
        return try await importDockerArchive(staging, name: name)
    }

    private func importLayout(_ layout: URL, name: ImageReference?) async throws -> [ImageRecord] {
        let folder = try ConfinedFolder(layout)
        let limit = store.limits.maxDocumentBytes
        let index = try decode(OCIIndex.self, folder.read("index.json", limit: limit), what: "index.json in \(layout.path)")
        func blob(_ digest: Digest) throws -> URL { try folder.file("blobs/sha256/\(digest.hex)") }
        var records: [ImageRecord] = []
        for (position, entry) in index.manifests.enumerated() {
            var manifestDigest = try entry.validatedDigest("entry \(position + 1) of index.json in \(layout.path)")
            if MediaType.isIndex(entry.mediaType) {
                let nested = try decode(
                    OCIIndex.self, folder.read("blobs/sha256/\(manifestDigest.hex)", limit: limit), what: "index \(manifestDigest)")
                guard let chosen = PlatformChooser.choose(from: nested.manifests) else {
                    throw CRIError.notFound("no linux/\(hostArchitecture) image in \(manifestDigest)")
                }
                manifestDigest = try chosen.validatedDigest("the linux/\(hostArchitecture) entry of index \(manifestDigest)")
            }
            let manifestData = try folder.read("blobs/sha256/\(manifestDigest.hex)", limit: limit)
            let manifest = try decode(OCIManifest.self, manifestData, what: "manifest \(manifestDigest)")
            let descriptors = try ManifestDescriptors(manifest, manifestDigest: manifestDigest)
            try store.limits.checkImageSize(descriptors.sizes)
            for (what, digest) in descriptors.all where !store.hasBlob(digest) {
                try store.importBlob(from: blob(digest), expected: digest, what: "\(what) of manifest \(manifestDigest)")
            }
            try store.putBlob(manifestData, expected: manifestDigest, what: "manifest \(manifestDigest)")
            var names: [ImageReference] = []
            if let name, index.manifests.count == 1 {
                names = [name]
            } else if let full = entry.annotations?["io.containerd.image.name"], let reference = ImageReference(full) {
                names = [reference]
            } else if let annotated = entry.annotations?["org.opencontainers.image.ref.name"] {
                // ref.name is usually just a tag; it names an image only with a name given
                // on the command line, or when it is a full reference itself.
                if annotated.contains("/"), let reference = ImageReference(annotated) {
                    names = [reference]
                } else if let name, var reference = ImageReference(name.name) {
                    reference.tag = annotated
                    reference.digest = nil
                    names = [reference]
                }
            }
            records.append(try await store.register(manifestDigest: manifestDigest, names: names))
        }
        return records
    }

    /// One entry of a `docker save` archive's manifest.json (Docker's key spelling).
    private struct DockerArchiveEntry: Decodable {
        var config: String
        var repoTags: [String]?
        var layers: [String]

        enum CodingKeys: String, CodingKey {
            case config = "Config"
            case repoTags = "RepoTags"
            case layers = "Layers"
        }
    }

    private func importDockerArchive(_ staging: URL, name: ImageReference?) async throws -> [ImageRecord] {
        let folder = try ConfinedFolder(staging)
        let limit = store.limits.maxDocumentBytes
        guard FileManager.default.fileExists(atPath: staging.appending(path: "manifest.json").path) else {
            throw CRIError.invalidArgument("not an OCI layout or docker save archive (no index.json or manifest.json)")
        }
        let entries = try decode([DockerArchiveEntry].self, folder.read("manifest.json", limit: limit), what: "manifest.json")
        var records: [ImageRecord] = []
        for entry in entries {
            let configData = try folder.read(entry.config, limit: limit)
            let configDigest = try store.putBlob(configData, what: "configuration \(entry.config.prefix(100))")
            var layers: [OCIDescriptor] = []
            for layer in entry.layers {
                let file = try folder.file(layer)
                let digest = try store.importBlob(from: file, expected: nil, what: "layer \(layer.prefix(100))")
                let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64 ?? 0
                layers.append(OCIDescriptor(mediaType: MediaType.ociLayer, digest: digest.description, size: size))
            }
            let manifest = OCIManifest(
                mediaType: MediaType.ociManifest,
                config: OCIDescriptor(mediaType: MediaType.ociConfig, digest: configDigest.description, size: Int64(configData.count)),
                layers: layers)
            let manifestDigest = try store.putBlob(try JSONEncoder.sorted.encode(manifest), what: "manifest")
            var names = (entry.repoTags ?? []).compactMap(ImageReference.init)
            if let name, entries.count == 1 { names = [name] }
            records.append(try await store.register(manifestDigest: manifestDigest, names: names))
        }
        return records
    }

    private func decode<T: Decodable>(_ type: T.Type, _ data: Data, what: String) throws -> T {
        do {
            return try JSONDecoder().decode(type, from: data)
        } catch {
            throw CRIError.invalidArgument("\(what) is not valid: \(error)")
        }
    }
}

/// A folder whose files may be named by untrusted text (an archive's `manifest.json`): a
/// name resolves only to a regular file inside the folder, after following symbolic links.
struct ConfinedFolder {
    let root: URL
    private let resolvedRoot: String

    init(_ root: URL) throws {
        self.root = root
        guard let resolved = realpath(root.path, nil) else {
            throw CRIError.notFound("cannot open \(root.path): \(errnoText())")
        }
        resolvedRoot = String(cString: resolved)
        free(resolved)
    }

    /// The file `relative` names; refuses absolute paths, `..`, and anything that resolves
    /// outside the folder or to something other than a regular file.
    func file(_ relative: String) throws -> URL {
        let components = relative.split(separator: "/")
        guard !relative.hasPrefix("/"), !components.isEmpty, !components.contains(".."), !relative.contains("\0") else {
            throw CRIError.invalidArgument("\(relative.prefix(200).debugDescription) is not a path inside \(root.path)")
        }
        guard let resolved = realpath(root.appending(path: relative).path, nil) else {
            throw CRIError.notFound("\(relative.prefix(200).debugDescription) is missing from \(root.path)")
        }
        let path = String(cString: resolved)
        free(resolved)
        guard path.hasPrefix(resolvedRoot + "/") else {
            throw CRIError.invalidArgument("\(relative.prefix(200).debugDescription) leads outside \(root.path)")
        }
        var status = stat()
        guard stat(path, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw CRIError.invalidArgument("\(relative.prefix(200).debugDescription) in \(root.path) is not a regular file")
        }
        return URL(fileURLWithPath: path)
    }

    /// The content of the file `relative` names, refused when over `limit` bytes.
    func read(_ relative: String, limit: Int) throws -> Data {
        let url = try file(relative)
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw CRIError.notFound("cannot read \(url.path)")
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: limit + 1) ?? Data()
        guard data.count <= limit else {
            throw CRIError(.resourceExhausted, "\(relative.prefix(200)) in \(root.path) is larger than the \(limit)-byte limit")
        }
        return data
    }
}

/// Picks the manifest for this host from an index or manifest list.
package enum PlatformChooser {
    /// The linux/<host arch> entry, else one without a platform; nil when neither exists.
    package static func choose(from manifests: [OCIDescriptor]) -> OCIDescriptor? {
        manifests.first { $0.platform?.os == "linux" && $0.platform?.architecture == hostArchitecture }
            ?? manifests.first { $0.platform == nil }
    }
}
