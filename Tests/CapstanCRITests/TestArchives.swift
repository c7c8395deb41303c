import Foundation

/// Builds tar archives byte by byte, so tests can make the hostile ones no archiver writes.
struct TestTar {
    private(set) var data = Data()

    /// Appends one ustar entry. `type` is the typeflag character ("0" file, "1" hard link,
    /// "2" symlink, "5" folder, "x" PAX header, "L" GNU long name, …).
    mutating func add(
        _ name: String, type: Character = "0", content: Data = Data(), link: String = "", declaredSize: Int? = nil,
        corruptChecksum: Bool = false
    ) {
        var header = [UInt8](repeating: 0, count: 512)
        func put(_ text: String, at offset: Int, width: Int) {
            for (index, byte) in text.utf8.prefix(width).enumerated() { header[offset + index] = byte }
        }
        func octal(_ value: Int, width: Int) -> String {
            let digits = String(value, radix: 8)
            return String(repeating: "0", count: max(0, width - 1 - digits.count)) + digits
        }
        put(name, at: 0, width: 100)
        put(octal(type == "5" ? 0o755 : 0o644, width: 8), at: 100, width: 7)
        put(octal(0, width: 8), at: 108, width: 7)
        put(octal(0, width: 8), at: 116, width: 7)
        put(octal(declaredSize ?? content.count, width: 12), at: 124, width: 11)
        put(octal(0, width: 12), at: 136, width: 11)
        header[156] = type.asciiValue!
        put(link, at: 157, width: 100)
        put("ustar\0", at: 257, width: 6)
        put("00", at: 263, width: 2)
        for index in 148..<156 { header[index] = UInt8(ascii: " ") }
        var sum = header.reduce(0) { $0 + Int($1) }
        if corruptChecksum { sum += 1 }
        put(octal(sum, width: 7) + "\0 ", at: 148, width: 8)
        data.append(contentsOf: header)
        data.append(content)
        data.append(Data(count: (512 - content.count % 512) % 512))
    }

    /// A PAX extended header applying `records` to the next entry.
    mutating func addPAX(_ records: [String: String], global: Bool = false) {
        var body = Data()
        for (key, value) in records.sorted(by: { $0.key < $1.key }) {
            let payload = " \(key)=\(value)\n"
            var length = payload.utf8.count + 1
            while String(length).count + payload.utf8.count != length { length += 1 }
            body.append(Data("\(length)\(payload)".utf8))
        }
        add("PaxHeaders/entry", type: global ? "g" : "x", content: body)
    }

    /// The archive with its end-of-archive marker.
    var finished: Data { data + Data(count: 1024) }
}

/// Compresses with the real gzip, as registries' layers are.
func gzip(_ data: Data) throws -> Data {
    let input = FileManager.default.temporaryDirectory.appending(path: "capstan-gzip-\(UUID().uuidString)")
    try data.write(to: input)
    defer {
        try? FileManager.default.removeItem(at: input)
        try? FileManager.default.removeItem(at: URL(fileURLWithPath: input.path + ".gz"))
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["gzip", "-n", "-f", input.path]
    try process.run()
    process.waitUntilExit()
    return try Data(contentsOf: URL(fileURLWithPath: input.path + ".gz"))
}

/// A fresh temporary folder, removed by `body`'s end whatever happens.
func withTemporaryFolder<T>(_ body: (URL) async throws -> T) async throws -> T {
    let folder = FileManager.default.temporaryDirectory.appending(path: "capstan-cri-test-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: folder) }
    return try await body(folder)
}
