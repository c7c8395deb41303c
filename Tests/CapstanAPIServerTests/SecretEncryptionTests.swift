import CapstanAPI
import CapstanCore
import CapstanStore
import CapstanSystem
import CapstanTestSupport
import Foundation
import Logging
import OrderedCollections
import Testing

@testable import CapstanAPIServer

private let writer = WriteOptions(fieldManager: "test")
private let secretValue = "correct-horse-battery-staple"

private func secret(_ name: String) -> JSONValue {
    [
        "apiVersion": "v1", "kind": "Secret", "metadata": ["name": .string(name)],
        "data": ["password": .string(Base64.encode(Array(secretValue.utf8)))],
    ]
}

private func encryption() throws -> SecretEncryption {
    SecretEncryption(primary: try .init(name: "key1", bytes: (0..<32).map { UInt8($0) }))
}

private func withStore(_ body: (SQLiteStore, String) async throws -> Void) async throws {
    try await TemporaryDirectory.with(prefix: "capstan-encryption") { directory in
        let store = try SQLiteStore(directory: directory.appending("store"), options: .init(durability: .normal), logger: Logger(label: "test"))
        defer { store.close() }
        try await body(store, directory.path)
    }
}

private func raw(_ store: SQLiteStore, _ key: String) async throws -> Data? {
    try await store.range(RangeRequest(.single(Data(key.utf8)))).kvs.first?.value
}

@Suite struct SecretEncryptionTests {
    @Test func sealThenOpenRoundTrips() throws {
        let box = try encryption()
        let plain = Data(#"{"kind":"Secret"}"#.utf8)
        let sealed = try box.seal(plain, storageKey: Data("/registry/core/secrets/default/s".utf8))
        #expect(String(decoding: sealed.prefix(23), as: UTF8.self) == "k8s:enc:aesgcm:v1:key1:")
        #expect(SecretEncryption.isSealed(sealed))
        #expect(!SecretEncryption.isSealed(plain))
        #expect(try box.open(sealed, storageKey: Data("/registry/core/secrets/default/s".utf8)) == plain)
        // Sealing twice gives different bytes (a fresh nonce each time).
        #expect(try box.seal(plain, storageKey: Data("k".utf8)) != box.seal(plain, storageKey: Data("k".utf8)))
    }

    @Test func tamperingIsDetected() throws {
        let box = try encryption()
        let key = Data("/registry/core/secrets/default/s".utf8)
        let sealed = try box.seal(Data("secret bytes".utf8), storageKey: key)
        for index in [23, 30, sealed.count - 1] {
            var altered = sealed
            altered[index] ^= 0x01
            #expect(throws: SecretEncryption.Failure.self) { try box.open(altered, storageKey: key) }
        }
        // Moved under another key, it does not open either.
        #expect(throws: SecretEncryption.Failure.self) { try box.open(sealed, storageKey: Data("/registry/core/secrets/default/t".utf8)) }
        // Truncated, or sealed with a key this server lacks.
        #expect(throws: SecretEncryption.Failure.self) { try box.open(sealed.prefix(30), storageKey: key) }
        let other = SecretEncryption(primary: try .init(name: "key2", bytes: [UInt8](repeating: 7, count: 32)))
        #expect(throws: SecretEncryption.Failure.self) { try box.open(try other.seal(Data("x".utf8), storageKey: key), storageKey: key) }
        // A rotated-in server with both keys reads either.
        let rotated = SecretEncryption(primary: other.primary, others: [box.primary])
        #expect(try rotated.open(sealed, storageKey: key) == Data("secret bytes".utf8))
    }

    @Test func registryStoresSecretsSealedAndOtherKindsPlain() async throws {
        try await withStore { store, _ in
            let registry = ResourceRegistry(store: store, encryption: try encryption())
            let created = try await registry.create(BuiltinKinds.secret, namespace: "default", object: secret("db"), options: writer)
            let stored = try #require(try await raw(store, "/registry/core/secrets/default/db"))
            #expect(SecretEncryption.isSealed(stored))
            let text = String(decoding: stored, as: UTF8.self)
            #expect(!text.contains(secretValue) && !text.contains(Base64.encode(Array(secretValue.utf8))) && !text.contains("password"))
            #expect(try await registry.get(BuiltinKinds.secret, namespace: "default", name: "db") == created)
            // Updates are sealed too; lists decrypt.
            _ = try await registry.patch(BuiltinKinds.secret, namespace: "default", name: "db", options: writer) { current in
                var next = current ?? .object([:])
                next[path: ["metadata", "labels"]] = ["tier": "db"]
                return next
            }
            #expect(SecretEncryption.isSealed(try #require(try await raw(store, "/registry/core/secrets/default/db"))))
            let list = try await registry.list(BuiltinKinds.secret, namespace: "default", options: ListOptions())
            #expect(list.items.first?[path: ["metadata", "labels", "tier"]] == "db")

            let configMap: JSONValue = ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "cm"], "data": ["a": "1"]]
            _ = try await registry.create(BuiltinKinds.configMap, namespace: "default", object: configMap, options: writer)
            #expect(!SecretEncryption.isSealed(try #require(try await raw(store, "/registry/core/configmaps/default/cm"))))
        }
    }

    @Test func watchesSeeDecryptedSecrets() async throws {
        try await withStore { store, _ in
            let registry = ResourceRegistry(store: store, encryption: try encryption())
            let created = try await registry.create(BuiltinKinds.secret, namespace: "default", object: secret("w"), options: writer)
            let (changed, _) = try await registry.patch(BuiltinKinds.secret, namespace: "default", name: "w", options: writer) { current in
                var next = current ?? .object([:])
                next[path: ["metadata", "labels"]] = ["seen": "yes"]
                return next
            }
            // From the creation's revision, the store replays the change through the watch path.
            var options = ListOptions()
            options.resourceVersion = created[path: ["metadata", "resourceVersion"]]?.stringValue ?? ""
            let seen = Seen()
            await #expect(throws: StopWatching.self) {
                try await registry.watch(BuiltinKinds.secret, namespace: "default", options: options) { event in
                    await seen.add(event)
                    throw StopWatching()
                }
            }
            let event = try #require(await seen.events.first)
            #expect(event.type == .modified)
            #expect(event.object == changed)
            #expect(event.object[path: ["data", "password"]]?.stringValue == Base64.encode(Array(secretValue.utf8)))
        }
    }

    @Test func plainSecretsFromBeforeEncryptionStillRead() async throws {
        try await withStore { store, _ in
            let plainRegistry = ResourceRegistry(store: store)
            let created = try await plainRegistry.create(BuiltinKinds.secret, namespace: "default", object: secret("old"), options: writer)
            #expect(!SecretEncryption.isSealed(try #require(try await raw(store, "/registry/core/secrets/default/old"))))
            let registry = ResourceRegistry(store: store, encryption: try encryption())
            #expect(try await registry.get(BuiltinKinds.secret, namespace: "default", name: "old") == created)
            // A server without the key says so instead of returning garbage.
            _ = try await registry.create(BuiltinKinds.secret, namespace: "default", object: secret("new"), options: writer)
            await #expect {
                try await plainRegistry.get(BuiltinKinds.secret, namespace: "default", name: "new")
            } throws: { error in
                (error as? APIError)?.message.contains("is encrypted, and this server has no encryption key") == true
            }
        }
    }

    @Test func alteredStoredSecretIsAnErrorNotData() async throws {
        try await withStore { store, _ in
            let registry = ResourceRegistry(store: store, encryption: try encryption())
            _ = try await registry.create(BuiltinKinds.secret, namespace: "default", object: secret("t"), options: writer)
            let key = Data("/registry/core/secrets/default/t".utf8)
            var stored = try #require(try await raw(store, "/registry/core/secrets/default/t"))
            stored[stored.count - 5] ^= 0x80
            _ = try await store.txn(TxnRequest(compare: [], success: [.put(PutRequest(key: key, value: stored))]))
            await #expect {
                try await registry.get(BuiltinKinds.secret, namespace: "default", name: "t")
            } throws: { error in
                let message = (error as? APIError)?.message ?? ""
                return message.contains("cannot be decrypted") && !message.contains(secretValue)
            }
        }
    }

    @Test func derivedKeysAreStablePerPurposeAndRevealNothingOfThePrimary() throws {
        let box = try encryption()
        let inventory = box.derivedKey(purpose: "capstan gitops inventory digest v1")
        #expect(inventory.count == 32)
        #expect(try encryption().derivedKey(purpose: "capstan gitops inventory digest v1") == inventory, "same key, same purpose: same bytes")
        #expect(box.derivedKey(purpose: "another purpose") != inventory)
        #expect(inventory != (0..<32).map { UInt8($0) }, "never the Secrets key itself")
        let other = SecretEncryption(primary: try .init(name: "key1", bytes: [UInt8](repeating: 9, count: 32)))
        #expect(other.derivedKey(purpose: "capstan gitops inventory digest v1") != inventory)
    }

    @Test func keyFileIsMadeOnceWithMode0600() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-key") { directory in
            let path = directory.appending("secrets.key")
            let first = try SecretEncryption.loadOrCreate(path: path)
            #expect((try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue == 0o600)
            let sealed = try first.seal(Data("x".utf8), storageKey: Data("k".utf8))
            let second = try SecretEncryption.loadOrCreate(path: path)
            #expect(try second.open(sealed, storageKey: Data("k".utf8)) == Data("x".utf8))
            try "short".write(toFile: path, atomically: true, encoding: .utf8)
            #expect(throws: PrivateFileError.self) { try SecretEncryption.loadOrCreate(path: path) }
        }
    }
}

private struct StopWatching: Error {}

private actor Seen {
    var events: [WatchEvent] = []
    func add(_ event: WatchEvent) { events.append(event) }
}
