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

/// A content-addressed image store under one directory:
///
/// ```
/// blobs/sha256/<hex>      every blob (manifests, configs, compressed layers), verified on write
/// layers/<hex>/           each layer unpacked once, keyed by its blob digest, shared read-only
///                         by every container's overlay mount
/// images.json             the image records (names → manifest, config, layers)
/// ```
///
/// Writes go to a temporary name and are renamed into place, so a crash leaves either the
/// old or the new state. Layers no image refers to are deleted when an image is removed.
package actor ImageStore {
    package let root: URL
    private var images: [ImageRecord]
    /// Modification time of images.json when last read: `capstan image import` may change
    /// the file while a shim has the store open, so readers reload when it moves.
    private var loadedModification: Date?

    /// Opens (creating if needed) the store at `root`.
    package init(root: URL) throws {
        self.root = root
        let fileManager = FileManager.default
        for folder in ["blobs/sha256", "layers", "tmp"] {
            try fileManager.createDirectory(at: root.appending(path: folder), withIntermediateDirectories: true)
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
        if Digest.isValid(text), let image = images.first(where: { $0.id == text }) { return image }
        let bareHex = text.hasPrefix("sha256:") ? String(text.dropFirst(7)) : text
        if bareHex.count >= 12, bareHex.allSatisfy(\.isHexDigit) {
            let matches = images.filter { Digest.hex($0.id).hasPrefix(bareHex) }
            if matches.count == 1 { return matches[0] }
        }
        guard let reference = ImageReference(text) else { return nil }
        if let digest = reference.digest {
            return images.first { $0.repoDigests.contains("\(reference.name)@\(digest)") || $0.manifestDigest == digest && $0.repoTags.contains(where: { $0.hasPrefix(reference.name + ":") }) }
        }
        guard let tagged = reference.taggedName else { return nil }
        return images.first { $0.repoTags.contains(tagged) }
    }

    /// The parsed configuration of `image`.
    package func configuration(of image: ImageRecord) throws -> OCIImageConfiguration {
        try JSONDecoder().decode(OCIImageConfiguration.self, from: Data(contentsOf: blobURL(image.id)))
    }

    /// Unpacked layer folders of `image`, bottom layer first.
    package func layerDirectories(of image: ImageRecord) -> [URL] {
        image.layers.map { layerURL($0) }
    }

    package nonisolated func blobURL(_ digest: String) -> URL {
        root.appending(path: "blobs/sha256/\(Digest.hex(digest))")
    }

    package nonisolated func layerURL(_ digest: String) -> URL {
        root.appending(path: "layers/\(Digest.hex(digest))")
    }

    /// Whether a verified blob is present.
    package nonisolated func hasBlob(_ digest: String) -> Bool {
        FileManager.default.fileExists(atPath: blobURL(digest).path)
    }

    /// Stores `data` as a blob after checking it hashes to `digest` (when given).
    /// - Returns: the blob's digest.
    @discardableResult
    package nonisolated func putBlob(_ data: Data, expectedDigest: String? = nil) throws -> String {
        let digest = "sha256:" + SHA256.hash(data: data).hexString
        if let expectedDigest, expectedDigest != digest {
            throw CRIError.invalidArgument("blob digest mismatch: expected \(expectedDigest), content hashes to \(digest)")
        }
        let target = blobURL(digest)
        if !FileManager.default.fileExists(atPath: target.path) {
            let temporary = root.appending(path: "tmp/\(UUID().uuidString)")
            try data.write(to: temporary)
            try FileManager.default.moveItem(at: temporary, to: target)
        }
        return digest
    }

    /// Moves a downloaded file into the blob store after verifying its digest.
    package nonisolated func putBlobFile(_ file: URL, expectedDigest: String) throws {
        let actual = try sha256(ofFile: file)
        guard actual == expectedDigest else {
            try? FileManager.default.removeItem(at: file)
            throw CRIError.invalidArgument("blob digest mismatch: expected \(expectedDigest), content hashes to \(actual)")
        }
        let target = blobURL(expectedDigest)
        if FileManager.default.fileExists(atPath: target.path) {
            try FileManager.default.removeItem(at: file)
        } else {
            try FileManager.default.moveItem(at: file, to: target)
        }
    }

    /// A fresh path in the store's temporary folder (same filesystem as the blobs).
    package nonisolated func temporaryURL() -> URL {
        root.appending(path: "tmp/\(UUID().uuidString)")
    }

    /// Registers an image whose manifest, config and layer blobs are already stored: unpacks
    /// missing layers, then adds (or merges the names of) its record.
    /// - Returns: the stored record.
    @discardableResult
    package func register(manifestDigest: String, names: [ImageReference]) async throws -> ImageRecord {
        try await withStoreLock { try await registerLocked(manifestDigest: manifestDigest, names: names) }
    }

    private func registerLocked(manifestDigest: String, names: [ImageReference]) async throws -> ImageRecord {
        let manifest = try JSONDecoder().decode(OCIManifest.self, from: Data(contentsOf: blobURL(manifestDigest)))
        for descriptor in [manifest.config] + manifest.layers where !hasBlob(descriptor.digest) {
            throw CRIError.invalidArgument("image is missing blob \(descriptor.digest)")
        }
        for layer in manifest.layers {
            try await unpackLayer(layer.digest)
        }
        var record = ImageRecord(
            id: manifest.config.digest, repoTags: [], repoDigests: [], manifestDigest: manifestDigest,
            layers: manifest.layers.map(\.digest),
            size: manifest.config.size + manifest.layers.reduce(0) { $0 + $1.size })
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
        for digest in image.layers + [image.id, image.manifestDigest] where !stillUsed.contains(digest) {
            try? FileManager.default.removeItem(at: blobURL(digest))
        }
        for digest in image.layers where !stillUsed.contains(digest) {
            try? FileManager.default.removeItem(at: layerURL(digest))
        }
    }

    /// Bytes and inodes used by the store, for ImageFsInfo.
    package nonisolated func usage() -> (bytes: UInt64, inodes: UInt64) {
        diskUsage(of: root)
    }

    private func unpackLayer(_ digest: String) async throws {
        let target = layerURL(digest)
        if FileManager.default.fileExists(atPath: target.path) { return }
        let staging = temporaryURL()
        try FileManager.default.createDirectory(at: staging, withIntermediateDirectories: true)
        do {
            // GNU tar detects gzip itself; numeric owners keep the image's uids and gids.
            try await Subprocess.check(
                "tar", ["-x", "--numeric-owner", "--same-permissions", "-f", blobURL(digest).path, "-C", staging.path])
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
        try data.writeAtomically(to: index)
        loadedModification = (try? FileManager.default.attributesOfItem(atPath: index.path))?[.modificationDate] as? Date
    }
}

extension Sequence where Element == UInt8 {
    /// Lowercase hex of the bytes.
    package var hexString: String { map { String(format: "%02x", $0) }.joined() }
}

/// The `sha256:` digest of a file, read in chunks.
package func sha256(ofFile url: URL) throws -> String {
    let handle = try FileHandle(forReadingFrom: url)
    defer { try? handle.close() }
    var hasher = SHA256()
    while let chunk = try handle.read(upToCount: 1 << 20), !chunk.isEmpty {
        hasher.update(data: chunk)
    }
    return "sha256:" + hasher.finalize().hexString
}
