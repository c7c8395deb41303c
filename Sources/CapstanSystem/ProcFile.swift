#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Files under `/proc`, read whole. The kernel reports their size as 0 and
/// hands them out a page or so per `read`; Foundation's
/// `String(contentsOfFile:)` stops after the first read, so on a machine with
/// many mounts `/proc/self/mountinfo` came back cut short after about 4 KiB,
/// and mounts past that point looked absent.
package enum ProcFile {
    /// The file's contents up to end of file; nil when it cannot be opened or read.
    package static func read(_ path: String) -> String? {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else { return nil }
        defer { close(descriptor) }
        var contents: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            let count = buffer.withUnsafeMutableBytes { systemRead(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                return nil
            }
            if count == 0 { break }
            contents.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: contents, as: UTF8.self)
    }
}

#if canImport(Glibc)
    private let systemRead = Glibc.read
#elseif canImport(Darwin)
    private let systemRead = Darwin.read
#endif
