public import Foundation

/// A fresh directory under the system temp folder, removed by ``remove()``.
public struct TemporaryDirectory: Sendable {
    public let path: String

    public init(prefix: String = "capstan-test") throws {
        let template = (NSTemporaryDirectory() as NSString).appendingPathComponent("\(prefix)-XXXXXX")
        var bytes = Array(template.utf8CString)
        guard let created = mkdtemp(&bytes) else {
            throw CocoaError(.fileWriteUnknown, userInfo: [NSFilePathErrorKey: template])
        }
        path = String(cString: created)
    }

    public func appending(_ component: String) -> String {
        (path as NSString).appendingPathComponent(component)
    }

    public func remove() {
        try? FileManager.default.removeItem(atPath: path)
    }

    /// Runs `body` with a new directory and removes it afterwards, also when
    /// `body` throws.
    public static func with<Result>(
        prefix: String = "capstan-test", _ body: (TemporaryDirectory) async throws -> Result
    ) async throws -> Result {
        let directory = try TemporaryDirectory(prefix: prefix)
        defer { directory.remove() }
        return try await body(directory)
    }
}
