import CapstanCore
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A minimal HTTP/1.1 client over one loopback TCP connection, non-blocking
/// so it never holds a cooperative thread while the in-process server needs
/// one. Raw sockets because some tests must misbehave as clients do: send
/// huge bodies, hold watches open, or stop reading.
final class TestHTTPConnection {
    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]
        var json: JSONValue? { try? JSONParser().parse(body) }
        var text: String { String(decoding: body, as: UTF8.self) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    let fd: Int32
    private var pending: [UInt8] = []

    /// - Parameter receiveBuffer: a small SO_RCVBUF makes a client that does not read back-pressure the server quickly.
    init(port: Int, receiveBuffer: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: errno \(errno)") }
        if var size = receiveBuffer {
            setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size))
        }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else {
            close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): errno \(errno)")
        }
        _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
    }

    deinit { close(fd) }

    /// Sends a request; `body` as given, with its Content-Length.
    func send(_ method: String, _ path: String, body: [UInt8]? = nil, contentType: String = "application/json", timeout: Duration = .seconds(30))
        async throws
    {
        var head = "\(method) \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: capstan-tests/1\r\nAccept: application/json\r\n"
        if let body { head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n" }
        head += "\r\n"
        var bytes = Array(head.utf8)
        if let body { bytes += body }
        var offset = 0
        let deadline = ContinuousClock.now + timeout
        while offset < bytes.count {
            let written = bytes[offset...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written > 0 {
                offset += written
            } else if written < 0, errno == EAGAIN || errno == EWOULDBLOCK {
                guard ContinuousClock.now < deadline else { throw Failure(description: "timed out sending \(method) \(path)") }
                try await Task.sleep(for: .milliseconds(2))
            } else {
                // The server may answer (413) and close before reading everything.
                return
            }
        }
    }

    /// One request and its whole response.
    func request(_ method: String, _ path: String, json: JSONValue? = nil) async throws -> Response {
        try await send(method, path, body: json.map { JSONSerializer.bytes($0) })
        return try await readResponse()
    }

    func request(_ method: String, _ path: String, body: [UInt8], contentType: String) async throws -> Response {
        try await send(method, path, body: body, contentType: contentType)
        return try await readResponse()
    }

    /// Reads a response: status line, headers, and a Content-Length or chunked body.
    func readResponse(timeout: Duration = .seconds(30)) async throws -> Response {
        let deadline = ContinuousClock.now + timeout
        let (status, headers) = try await readHead(deadline: deadline)
        var body: [UInt8] = []
        if let length = headers["content-length"].flatMap(Int.init) {
            body = try await readBytes(length, deadline: deadline)
        } else if headers["transfer-encoding"]?.lowercased() == "chunked" {
            while let chunk = try await readChunk(deadline: deadline) { body += chunk }
        }
        return Response(status: status, headers: headers, body: body)
    }

    /// Reads just the head of a streaming response (a watch).
    func readHead(deadline: ContinuousClock.Instant) async throws -> (Int, [String: String]) {
        let head = try await readUntil(Array("\r\n\r\n".utf8), deadline: deadline)
        let lines = String(decoding: head, as: UTF8.self).components(separatedBy: "\r\n")
        let parts = lines[0].split(separator: " ")
        guard parts.count >= 2, let status = Int(parts[1]) else { throw Failure(description: "bad status line \(lines[0])") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() where !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    /// The next chunk of a chunked body; nil at its end.
    func readChunk(deadline: ContinuousClock.Instant) async throws -> [UInt8]? {
        let sizeLine = String(decoding: try await readUntil(Array("\r\n".utf8), deadline: deadline), as: UTF8.self)
        guard let size = Int(sizeLine.trimmingCharacters(in: .whitespacesAndNewlines).split(separator: ";")[0], radix: 16) else {
            throw Failure(description: "bad chunk size \(sizeLine)")
        }
        let chunk = try await readBytes(size, deadline: deadline)
        _ = try await readBytes(2, deadline: deadline)
        return size == 0 ? nil : chunk
    }

    /// Watch events (JSON lines) from a chunked stream until `count` have arrived.
    func readEvents(_ count: Int, timeout: Duration = .seconds(20)) async throws -> [JSONValue] {
        let deadline = ContinuousClock.now + timeout
        var text: [UInt8] = []
        var events: [JSONValue] = []
        while events.count < count {
            guard let chunk = try await readChunk(deadline: deadline) else { break }
            text += chunk
            while let newline = text.firstIndex(of: UInt8(ascii: "\n")) {
                events.append(try JSONParser().parse(Array(text[..<newline])))
                text.removeSubrange(...newline)
            }
        }
        return events
    }

    private func readUntil(_ terminator: [UInt8], deadline: ContinuousClock.Instant) async throws -> [UInt8] {
        while true {
            if let range = pending.firstRange(of: terminator) {
                let head = Array(pending[..<range.lowerBound])
                pending.removeSubrange(..<range.upperBound)
                return head
            }
            try await fill(deadline: deadline)
        }
    }

    private func readBytes(_ count: Int, deadline: ContinuousClock.Instant) async throws -> [UInt8] {
        while pending.count < count { try await fill(deadline: deadline) }
        defer { pending.removeSubrange(..<count) }
        return Array(pending[..<count])
    }

    /// True once the server has closed the connection (reading and discarding what is left).
    func isClosedByServer() -> Bool {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count == 0 { return true }
            if count < 0 { return false }
        }
    }

    private func fill(deadline: ContinuousClock.Instant) async throws {
        var buffer = [UInt8](repeating: 0, count: 65536)
        while true {
            let count = recv(fd, &buffer, buffer.count, 0)
            if count > 0 {
                pending += buffer[..<count]
                return
            }
            if count == 0 { throw Failure(description: "the server closed the connection") }
            guard errno == EAGAIN || errno == EWOULDBLOCK else { throw Failure(description: "recv: errno \(errno)") }
            guard ContinuousClock.now < deadline else { throw Failure(description: "timed out reading a response") }
            try await Task.sleep(for: .milliseconds(2))
        }
    }
}
