import CapstanStore
import CapstanTestSupport
import Foundation
import Testing

/// A full disk: writes fail clearly, reads keep working, nothing is corrupted.
/// Uses a 2 MiB tmpfs, so it needs root (as CI and the dev machines run).
@Suite(.enabled(if: getuid() == 0, "mounting a small tmpfs needs root"))
struct DiskFullTests {
    @Test func writesFailWithNotWritableAndReadsKeepWorking() async throws {
        try await TemporaryDirectory.with { directory in
            let mountPoint = directory.appending("small-disk")
            try FileManager.default.createDirectory(atPath: mountPoint, withIntermediateDirectories: true)
            let mounted = try await runCommand("/usr/bin/mount", ["-t", "tmpfs", "-o", "size=2m", "tmpfs", mountPoint])
            try #require(mounted.status == 0, "mount tmpfs failed: \(mounted.output)")
            do {
                try await fillAndCheck(mountPoint)
            } catch {
                _ = try? await runCommand("/usr/bin/umount", ["-l", mountPoint])
                throw error
            }
            _ = try await runCommand("/usr/bin/umount", [mountPoint])
        }
    }

    private func fillAndCheck(_ path: String) async throws {
        let store = try SQLiteStore(directory: path, logger: Backend.logger)
        let value = Data(repeating: 0x7a, count: 64 * 1024)
        var acknowledged: [String: Revision] = [:]
        var failure: StoreError?
        for index in 0..<100 {
            do {
                acknowledged["k\(index)"] = try await store.put(PutRequest(key: "k\(index)".bytes, value: value)).revision
            } catch {
                failure = error
                break
            }
        }
        guard case .notWritable(let reason)? = failure else {
            Issue.record("expected notWritable once the disk filled, got \(String(describing: failure))")
            return
        }
        #expect(reason.contains("full"), "\(reason)")
        #expect(acknowledged.count > 5)

        // Reads keep working and see exactly what was acknowledged.
        let kvs = try await store.range(RangeRequest(.prefix("k".bytes), keysOnly: true)).kvs
        #expect(Dictionary(uniqueKeysWithValues: kvs.map { ($0.key.text, $0.modRevision) }) == acknowledged)
        #expect(try await store.status().revision == acknowledged.values.max())
        await #expect(throws: StoreError.self) { try await store.put(PutRequest(key: "more".bytes, value: value)) }
        store.close()

        let check = try await runCommand(
            "/usr/bin/sqlite3", ["-readonly", (path as NSString).appendingPathComponent(SQLiteStore.fileName), "PRAGMA integrity_check"])
        #expect(check.output == "ok\n")
    }
}
