package import Foundation

/// Loads images into an `ImageStore` from an OCI image layout folder or a `docker save` tarball.
package struct ImageImporter: Sendable {
    package let store: ImageStore

    package init(store: ImageStore) { self.store = store }

    /// Imports every image at `path` (an OCI layout folder, or a tar file holding an OCI
    /// layout or `docker save` output).
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
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: staging) }
        try await Subprocess.check("tar", ["-x", "-f", path.path, "-C", staging.path])
        if FileManager.default.fileExists(atPath: staging.appending(path: "index.json").path) {
            return try await importLayout(staging, name: name)
        }
        return try await importDockerArchive(staging, name: name)
    }

    private func importLayout(_ layout: URL, name: ImageReference?) async throws -> [ImageRecord] {
        let index = try JSONDecoder().decode(OCIIndex.self, from: Data(contentsOf: layout.appending(path: "index.json")))
        func blob(_ digest: String) throws -> Data {
            guard Digest.isValid(digest) else { throw CRIError.invalidArgument("bad digest \(digest) in \(layout.path)") }
            return try Data(contentsOf: layout.appending(path: "blobs/sha256/\(Digest.hex(digest))"))
        }
        var records: [ImageRecord] = []
        for entry in index.manifests {
            var manifestDescriptor = entry
            if MediaType.isIndex(entry.mediaType) {
                let nested = try JSONDecoder().decode(OCIIndex.self, from: blob(entry.digest))
                guard let chosen = PlatformChooser.choose(from: nested.manifests) else {
                    throw CRIError.notFound("no linux/\(hostArchitecture) image in \(entry.digest)")
                }
                manifestDescriptor = chosen
            }
            let manifestData = try blob(manifestDescriptor.digest)
            let manifest = try JSONDecoder().decode(OCIManifest.self, from: manifestData)
            for descriptor in [manifest.config] + manifest.layers where !store.hasBlob(descriptor.digest) {
                let source = layout.appending(path: "blobs/sha256/\(Digest.hex(descriptor.digest))")
                let copy = store.temporaryURL()
                try FileManager.default.copyItem(at: source, to: copy)
                try store.putBlobFile(copy, expectedDigest: descriptor.digest)
            }
            try store.putBlob(manifestData, expectedDigest: manifestDescriptor.digest)
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
            records.append(try await store.register(manifestDigest: manifestDescriptor.digest, names: names))
        }
        return records
    }

    private struct DockerArchiveEntry: Decodable {
        var Config: String
        var RepoTags: [String]?
        var Layers: [String]
    }

    private func importDockerArchive(_ folder: URL, name: ImageReference?) async throws -> [ImageRecord] {
        let manifestURL = folder.appending(path: "manifest.json")
        guard let data = try? Data(contentsOf: manifestURL) else {
            throw CRIError.invalidArgument("not an OCI layout or docker save archive (no index.json or manifest.json)")
        }
        let entries = try JSONDecoder().decode([DockerArchiveEntry].self, from: data)
        var records: [ImageRecord] = []
        for entry in entries {
            let configData = try Data(contentsOf: folder.appending(path: entry.Config))
            let configDigest = try store.putBlob(configData)
            var layers: [OCIDescriptor] = []
            for layer in entry.Layers {
                let file = folder.appending(path: layer)
                let digest = try sha256(ofFile: file)
                let size = try FileManager.default.attributesOfItem(atPath: file.path)[.size] as? Int64 ?? 0
                if !store.hasBlob(digest) {
                    let copy = store.temporaryURL()
                    try FileManager.default.copyItem(at: file, to: copy)
                    try store.putBlobFile(copy, expectedDigest: digest)
                }
                layers.append(OCIDescriptor(mediaType: MediaType.ociLayer, digest: digest, size: size))
            }
            let manifest = OCIManifest(
                mediaType: MediaType.ociManifest,
                config: OCIDescriptor(mediaType: MediaType.ociConfig, digest: configDigest, size: Int64(configData.count)),
                layers: layers)
            let manifestDigest = try store.putBlob(try JSONEncoder.sorted.encode(manifest))
            var names = (entry.RepoTags ?? []).compactMap(ImageReference.init)
            if let name, entries.count == 1 { names = [name] }
            records.append(try await store.register(manifestDigest: manifestDigest, names: names))
        }
        return records
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
