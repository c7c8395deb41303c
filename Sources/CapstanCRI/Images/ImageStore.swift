import CapstanSystem
import Crypto
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One image the store holds.
package struct ImageRecord: Codable, Hashable, Sendable {
    /// The image id: the digest of its configuration blob (what `docker images --digests` calls IMAGE ID).
    package var id: String
    /// Normalised `registry/repository:tag` names.
    package var repoTags: [String]
    /// `registry/repository@sha256:…` names (manifest digests).
    package var repoDigests: [String]
    package var manifestDigest: String
    /// Layer blob digests, bottom layer first.
    package var layers: [String]
    /// Bytes of the compressed blobs (config + layers), as registries report size.
    package var size: Int64
}

/// A content-addressed image store under one directory (0700, as are its folders):
///
/// ```
/// blobs/sha256/<hex>      every blob (manifests, configs, compressed layers), verified on write
/// layers/<hex>/           each layer unpacked once, keyed by its blob digest, shared read-only
///                         by every container's overlay mount
/// tmp/                    blobs being downloaded and layers being unpacked
/// images.json             the image records (names → manifest, config, layers)
/// ```
///
/// Only a validated ``Digest`` becomes a path here. Writes go to a temporary name in `tmp/`
/// and are renamed into place, so a crash leaves either the old or the new state, and a
/// failed pull leaves nothing behind. Layers are unpacked through ``LayerUnpacker``, which
/// refuses entries that would land outside the layer's folder and stops at
/// ``ImageLimits/maxUnpackedLayerBytes``. Layers no image refers to are deleted when an
/// image is removed.
package actor ImageStore {
    package let root: URL
    package nonisolated let limits: ImageLimits
    private var images: [ImageRecord]
    /// Modification time of images.json when last read: `capstan image import` may change
    /// the file while a shim has the store open, so readers reload when it moves.
    private var loadedModification: Date?

    /// Opens (creating if needed, 0700) the store at `root`.
    package init(root: URL, limits: ImageLimits = ImageLimits()) throws {
        self.root = root
        self.limits = limits
        for folder in ["blobs/sha256", "layers", "tmp"] {
            try makeDirectories(root.appending(path: folder), mode: 0o700)
        }
        (images, loadedModification) = try Self.load(root)
    }

    private static func load(_ root: URL) throws -> ([ImageRecord], Date?) {
        let index = root.appending(path: "images.json")
        let modification = (try? FileManager.default.attributesOfItem(atPath: index.path))?[.modificationDate] as? Date
        guard let data = try? Data(contentsOf: index) else { return ([], modification) }
        return (try JSONDecoder().decode([ImageRecord].self, from: data), modification)
    }

    private func refresh() {
        let index = root.appending(path: "images.json")
        let modification = (try? FileManager.default.attributesOfItem(atPath: index.path))?[.modificationDate] as? Date
        if modification != loadedModification, let (records, loaded) = try? Self.load(root) {
            images = records
            loadedModification = loaded
        }
    }

    /// Runs `body` holding an exclusive lock on the store, after reloading the records, so
    /// a CLI import and a running shim never overwrite each other's changes.
    private func withStoreLock<T>(_ body: () async throws -> T) async throws -> T {
        let fd = open(root.appending(path: "images.lock").path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw CRIError.internal("cannot open the image store lock: \(errnoText())") }
        defer { close(fd) }
        // Another process holds it only for one registration; wait in short steps.
        while flock(fd, LOCK_EX | LOCK_NB) != 0 {
            try await Task.sleep(for: .milliseconds(5))
        }
        defer { flock(fd, LOCK_UN) }
        refresh()
        return try await body()
    }

    /// Every image, in the order they were added.
    package func list() -> [ImageRecord] {
        refresh()
        return images
    }

    /// Finds an image by id (full or `sha256:` prefix of at least 12 hex), name, or digest name.
    package func find(_ text: String) -> ImageRecord? {
        refresh()
        if Digest(text) != nil, let image = images.first(where: { $0.id == text }) { return image }
        let bareHex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        if bareHex.count >= 12, bareHex.allSatisfy(\.isHexDigit) {
            let matches = images.filter { $0.id.dropFirst(7).hasPrefix(bareHex) }
            if matches.count == 1 { return matches[0] }
        }
        guard let reference = ImageReference(text) else { return nil }
        if let digest = reference.digest {
            return images.first {
                $0.repoDigests.contains("\(reference.name)@\(digest)")
                    || $0.manifestDigest == digest.description && $0.repoTags.contains(where: { $0.hasPrefix(reference.name + ":") })
            }
        }
        guard let tagged = reference.taggedName else { return nil }
        return images.first { $0.repoTags.contains(tagged) }
    }

    /// The parsed configuration of `image`.
    package func configuration(of image: ImageRecord) throws -> OCIImageConfiguration {
        let digest = try Digest(validating: image.id, of: "the record of image \(image.repoTags.first ?? image.id)")
        return try JSONDecoder().decode(OCIImageConfiguration.self, from: readDocument(digest, what: "image configuration \(digest)"))
    }

    /// Unpacked layer folders of `image`, bottom layer first.
    package func layerDirectories(of image: ImageRecord) throws -> [URL] {
        try image.layers.enumerated().map { index, text in
            layerURL(try Digest(validating: text, of: "layer \(index + 1) in the record of image \(image.id)"))
        }
    }

    package nonisolated func blobURL(_ digest: Digest) -> URL {
        root.appending(path: "blobs/sha256/\(digest.hex)")
    }

    package nonisolated func layerURL(_ digest: Digest) -> URL {
        root.appending(path: "layers/\(digest.hex)")
    }

    /// Whether a verified blob is present.
    package nonisolated func hasBlob(_ digest: Digest) -> Bool {
        FileManager.default.fileExists(atPath: blobURL(digest).path)
    }

    /// Reads a stored manifest, index or configuration, refusing one over the document limit.
    package nonisolated func readDocument(_ digest: Digest, what: @autoclosure () -> String) throws -> Data {
        let url = blobURL(digest)
        guard let handle = FileHandle(forReadingAtPath: url.path) else {
            throw CRIError.notFound("\(what()) is not in the image store")
        }
        defer { try? handle.close() }
        let data = try handle.read(upToCount: limits.maxDocumentBytes + 1) ?? Data()
        guard data.count <= limits.maxDocumentBytes else {
            throw CRIError(.resourceExhausted, "\(what()) is larger than the \(limits.maxDocumentBytes)-byte limit")
        }
        return data
    }

    /// Stores `data` (a manifest or configuration) as a blob after checking it hashes to
    /// `expected` (when given).
    /// - Returns: the blob's digest.
    @discardableResult
    package nonisolated func putBlob(_ data: Data, expected: Digest? = nil, what: String = "blob") throws -> Digest {
        let writer = try blobWriter(what: what, expected: expected, declaredSize: Int64(data.count))
        try data.withUnsafeBytes { try writer.write($0) }
        return try writer.commit()
    }

    /// A writer that streams one blob into the store (see ``BlobWriter``).
    /// - Parameter declaredSize: the size the descriptor declares; exactly this many bytes
    ///   must arrive. Without one, at most `maxBlobBytes` may.
    package nonisolated func blobWriter(what: String, expected: Digest?, declaredSize: Int64?) throws -> BlobWriter {
        try BlobWriter(
            what: what, expected: expected, declaredSize: declaredSize, limit: limits.maxBlobBytes,
            temporaryFolder: root.appending(path: "tmp"), destinationFolder: root.appending(path: "blobs/sha256"))
    }

    /// Copies the regular file `file` into the store, streaming and verifying it.
    /// - Returns: the blob's digest.
    @discardableResult
    package nonisolated func importBlob(from file: URL, expected: Digest?, what: String) throws -> Digest {
        let fd = open(file.path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw CRIError.notFound("cannot read \(what) at \(file.path): \(errnoText())") }
        defer { close(fd) }
        var status = stat()
        guard fstat(fd, &status) == 0, (status.st_mode & S_IFMT) == S_IFREG else {
            throw CRIError.invalidArgument("\(what) at \(file.path) is not a regular file")
        }
        let writer = try blobWriter(what: what, expected: expected, declaredSize: Int64(status.st_size))
        var buffer = [UInt8](repeating: 0, count: 1 << 20)
        while true {
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress!, $0.count) }
            if count < 0 && errno == EINTR { continue }
            guard count >= 0 else { throw CRIError.internal("cannot read \(what) at \(file.path): \(errnoText())") }
            if count == 0 { break }
            try buffer.withUnsafeBytes { try writer.write(UnsafeRawBufferPointer(rebasing: $0[0..<count])) }
        }
        return try writer.commit()
    }

    /// A fresh path in the store's temporary folder (same filesystem as the blobs).
    package nonisolated func temporaryURL() -> URL {
        root.appending(path: "tmp/\(UUID().uuidString)")
    }

    /// Registers an image whose manifest, config and layer blobs are already stored: unpacks
    /// missing layers, then adds (or merges the names of) its record.
    /// - Returns: the stored record.
    @discardableResult
    package func register(manifestDigest: Digest, names: [ImageReference]) async throws -> ImageRecord {
        try await withStoreLock { try await registerLocked(manifestDigest: manifestDigest, names: names) }
    }

    private func registerLocked(manifestDigest: Digest, names: [ImageReference]) async throws -> ImageRecord {
        let manifest = try JSONDecoder().decode(
            OCIManifest.self, from: readDocument(manifestDigest, what: "manifest \(manifestDigest)"))
        let descriptors = try ManifestDescriptors(manifest, manifestDigest: manifestDigest)
        try limits.checkImageSize(descriptors.sizes)
        for (what, digest) in descriptors.all where !hasBlob(digest) {
            throw CRIError.invalidArgument("\(what) (\(digest)) is missing from the image store")
        }
        for (index, layer) in descriptors.layers.enumerated() {
            try await unpackLayer(layer, what: "layer \(index + 1) (\(layer)) of manifest \(manifestDigest)")
        }
        var record = ImageRecord(
            id: descriptors.config.description, repoTags: [], repoDigests: [], manifestDigest: manifestDigest.description,
            layers: descriptors.layers.map(\.description),
            size: descriptors.sizes.reduce(0) { $0 + $1.size })
        for name in names {
            if let tagged = name.taggedName {
                // A tag names one image: take it away from any other image.
                for index in images.indices { images[index].repoTags.removeAll { $0 == tagged } }
                record.repoTags.append(tagged)
            }
            if name.registry != "localhost" || name.digest != nil {
                record.repoDigests.append("\(name.name)@\(manifestDigest)")
            }
        }
        if let existing = images.firstIndex(where: { $0.id == record.id }) {
            record.repoTags = Array(Set(images[existing].repoTags + record.repoTags)).sorted()
            record.repoDigests = Array(Set(images[existing].repoDigests + record.repoDigests)).sorted()
            images[existing] = record
        } else {
            images.append(record)
        }
        images.removeAll { $0.repoTags.isEmpty && $0.repoDigests.isEmpty && $0.id != record.id }
        try save()
        return record
    }

    /// Removes an image and the blobs and layers no other image uses. Absent images are fine.
    package func remove(_ text: String) async throws {
        try await withStoreLock { try removeLocked(text) }
    }

    private func removeLocked(_ text: String) throws {
        guard let image = find(text) else { return }
        images.removeAll { $0.id == image.id }
        try save()
        let stillUsed = Set(images.flatMap { $0.layers + [$0.id, $0.manifestDigest] })
        // A record is ours, but it is read back from disk: only valid digests become paths.
        for text in image.layers + [image.id, image.manifestDigest] where !stillUsed.contains(text) {
            guard let digest = Digest(text) else { continue }
            try? FileManager.default.removeItem(at: blobURL(digest))
        }
        for text in image.layers where !stillUsed.contains(text) {
            guard let digest = Digest(text) else { continue }
            try? FileManager.default.removeItem(at: layerURL(digest))
        }
    }

    /// Bytes and inodes used by the store, for ImageFsInfo.
    package nonisolated func usage() -> (bytes: UInt64, inodes: UInt64) {
        diskUsage(of: root)
    }

    private func unpackLayer(_ digest: Digest, what: String) async throws {
        let target = layerURL(digest)
        if FileManager.default.fileExists(atPath: target.path) { return }
        let staging = temporaryURL()
        // 0755: the folder becomes the root folder of containers' file systems, unless the
        // layer sets its own mode with a `./` entry.
        try makeDirectories(staging, mode: 0o755)
        do {
            try await LayerUnpacker.unpack(blobURL(digest), into: staging, limit: limits.maxUnpackedLayerBytes, what: what)
            try Whiteouts.convertToOverlay(in: staging)
            try FileManager.default.moveItem(at: staging, to: target)
        } catch {
            try? FileManager.default.removeItem(at: staging)
            throw error
        }
    }

    private func save() throws {
        let data = try JSONEncoder.sorted.encode(images)
        let index = root.appending(path: "images.json")
        try data.writeAtomically(to: index, mode: 0o600)
        loadedModification = (try? FileManager.default.attributesOfItem(atPath: index.path))?[.modificationDate] as? Date
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hex of the bytes.
    package var hexString: String { map { String(format: "%02x", $0) }.joined() }
}

/// The digest of a file, read in chunks.
package func sha256(ofFile url: URL) throws -> Digest {
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    var hasher = SHA256()
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
        hasher.update(data: chunk)
    }
    return Digest(hexDigits: hasher.finalize().hexString)
}

/// A manifest's descriptors with their digests validated, each named for errors.
package struct ManifestDescriptors {
    package var config: Digest
    package var layers: [Digest]
    /// (what, declared size) of the configuration and each layer.
    package var sizes: [(what: String, size: Int64)]

    /// Validates every digest in `manifest`; the error names the descriptor.
    package init(_ manifest: OCIManifest, manifestDigest: Digest) throws {
        config = try manifest.config.validatedDigest("the configuration of manifest \(manifestDigest)")
        layers = try manifest.layers.enumerated().map { index, layer in
            try layer.validatedDigest("layer \(index + 1) of manifest \(manifestDigest)")
        }
        sizes =
            [("the configuration of manifest \(manifestDigest)", manifest.config.size)]
            + manifest.layers.enumerated().map { ("layer \($0.offset + 1) of manifest \(manifestDigest)", $0.element.size) }
    }

    /// Every blob with a name for errors: configuration first, then the layers.
    package var all: [(what: String, digest: Digest)] {
        [("the configuration", config)] + layers.enumerated().map { ("layer \($0.offset + 1)", $0.element) }
    }
}
