import CapstanCore
package import CapstanSystem
import CoreFoundation
import Crypto
package import Foundation
import OrderedCollections
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Bearer tokens, kept as SHA-256 hashes in `<data-dir>/auth/tokens.json`
/// (mode 0600): a copy of the file does not give away a token. A token is
/// shown once, when it is minted.
///
/// The server re-reads the file when it changes on disk, so a token minted by
/// `capstan token create` works at once without a restart.
package final class TokenStore: Sendable {
    /// One stored token: who it authenticates and the hash to match.
    package struct Entry: Hashable, Sendable {
        package var id: String
        package var sha256: String
        package var user: User
        package var created: String
    }

    package let path: String
    private let state: Mutex<(stamp: FileStamp?, byHash: [String: Entry])>

    /// Loads the token file; a missing file is an empty store.
    package init(path: String) throws(PrivateFileError) {
        self.path = path
        let stamp = FileStamp(path)
        let entries = try Self.load(path)
        state = Mutex((stamp, Dictionary(entries.map { ($0.sha256, $0) }, uniquingKeysWith: { first, _ in first })))
    }

    /// The user a presented token authenticates, or nil for an unknown token.
    package func authenticate(_ token: String) -> User? {
        let hash = Self.hash(token)
        reloadIfChanged()
        return state.withLock { $0.byHash[hash]?.user }
    }

    /// All stored tokens (hashes only).
    package var entries: [Entry] {
        reloadIfChanged()
        return state.withLock { $0.byHash.values.sorted { $0.created == $1.created ? $0.id < $1.id : $0.created < $1.created } }
    }

    /// Makes a new random token for `user`, stores its hash and returns the
    /// token itself: the only time it is ever seen.
    package func mint(for user: User, now: Date = Date()) throws -> String {
        let token = Self.randomToken()
        let entry = Entry(id: String(Self.hash(token).prefix(12)), sha256: Self.hash(token), user: user, created: ResourceRegistry.format(now))
        try PrivateFile.makeDirectory((path as NSString).deletingLastPathComponent)
        try PrivateFile.withLock(path) {
            var entries = try Self.load(path)
            entries.append(entry)
            try PrivateFile.write(Data(JSONSerializer.bytes(Self.document(entries), pretty: true)), to: path)
        }
        state.withLock { state in
            state.byHash[entry.sha256] = entry
            state.stamp = FileStamp(path)
        }
        return token
    }

    /// Removes the tokens whose id (or whole hash) is `id`; returns how many.
    /// A running server stops accepting them at its next request.
    @discardableResult
    package func revoke(id: String) throws -> Int {
        let id = id.lowercased()
        var removed = 0
        try PrivateFile.withLock(path) {
            let entries = try Self.load(path)
            let kept = entries.filter { $0.id != id && $0.sha256 != id }
            removed = entries.count - kept.count
            if removed > 0 { try PrivateFile.write(Data(JSONSerializer.bytes(Self.document(kept), pretty: true)), to: path) }
        }
        state.withLock { state in
            state.byHash = state.byHash.filter { $0.value.id != id && $0.key != id }
            state.stamp = FileStamp(path)
        }
        return removed
    }

    // MARK: File

    private func reloadIfChanged() {
        let stamp = FileStamp(path)
        guard state.withLock({ $0.stamp != stamp }) else { return }
        // A file being rewritten by `capstan token create` is replaced
        // atomically, so a failed read means a broken file: keep what we had.
        guard let entries = try? Self.load(path) else { return }
        state.withLock { state in
            state.stamp = stamp
            state.byHash = Dictionary(entries.map { ($0.sha256, $0) }, uniquingKeysWith: { first, _ in first })
        }
    }

    static func load(_ path: String) throws(PrivateFileError) -> [Entry] {
        guard let data = try PrivateFile.read(path) else { return [] }
        let document: JSONValue
        do {
            document = try JSONParser().parse(Array(data))
        } catch {
            throw PrivateFileError(path: path, "is not valid JSON: \(error)")
        }
        guard let items = document["tokens"]?.arrayValue else {
            throw PrivateFileError(path: path, "has no \"tokens\" array")
        }
        var entries: [Entry] = []
        for (index, item) in items.enumerated() {
            guard let hash = item["sha256"]?.stringValue, hash.count == 64, let name = item["user"]?.stringValue,
                let roleName = item["role"]?.stringValue
            else {
                throw PrivateFileError(path: path, "tokens[\(index)] needs \"sha256\" (64 hex digits), \"user\" and \"role\"")
            }
            let role: Role
            switch roleName {
            case "admin": role = .admin
            case "viewer": role = .viewer
            case "node":
                guard let node = item["node"]?.stringValue, !node.isEmpty else {
                    throw PrivateFileError(path: path, "tokens[\(index)] has role \"node\" but no \"node\" name")
                }
                role = .node(node)
            default:
                throw PrivateFileError(path: path, "tokens[\(index)] has unknown role \"\(roleName)\" (admin, viewer or node)")
            }
            entries.append(
                Entry(
                    id: item["id"]?.stringValue ?? String(hash.prefix(12)), sha256: hash.lowercased(), user: User(name: name, role: role),
                    created: item["created"]?.stringValue ?? ""))
        }
        return entries
    }

    static func document(_ entries: [Entry]) -> JSONValue {
        let items: [JSONValue] = entries.map { entry in
            var object: JSONObject = ["id": .string(entry.id), "sha256": .string(entry.sha256), "user": .string(entry.user.name)]
            switch entry.user.role {
            case .admin: object["role"] = "admin"
            case .viewer: object["role"] = "viewer"
            case .node(let node):
                object["role"] = "node"
                object["node"] = .string(node)
            case .rbacOnly:
                // Never minted: service accounts carry signed tokens, not stored ones.
                object["role"] = "rbac"
            }
            object["created"] = .string(entry.created)
            return .object(object)
        }
        return ["tokens": .array(items)]
    }

    // MARK: Tokens

    static func hash(_ token: String) -> String {
        SHA256.hash(data: Data(token.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    /// 256 random bits, base64url without padding (43 characters).
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Base64.encode(bytes).replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
            .replacingOccurrences(of: "=", with: "")
    }
}

/// A file's identity and modification time, to notice it was replaced.
struct FileStamp: Equatable {
    var inode: UInt64
    var modified: Int
    var modifiedNanos: Int
    var size: Int64

    init?(_ path: String) {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        inode = UInt64(info.st_ino)
        #if canImport(Darwin)
            modified = Int(info.st_mtimespec.tv_sec)
            modifiedNanos = Int(info.st_mtimespec.tv_nsec)
        #else
            modified = Int(info.st_mtim.tv_sec)
            modifiedNanos = Int(info.st_mtim.tv_nsec)
        #endif
        size = Int64(info.st_size)
    }
}
