import CapstanSystem
import Foundation

/// TCP and HTTP checks against a pod's address, as the kubelet's prober
/// makes them: a TCP probe succeeds when the connection opens; an HTTP probe
/// when the status is 200–399. Each check runs its blocking socket on
/// Capstan's ``BlockingPool``, never on Swift's cooperative threads; the
/// probe's timeout bounds how long it holds a pool thread.
enum NetworkProbe {

    static func tcp(host: String, port: Int, timeout: Duration) async -> ProbeOutcome {
        await onBlockingPool {
            switch connect(host: host, port: port, timeout: timeout) {
            case .success(let socket):
                close(socket)
                return .success
            case .failure(let message):
                return .failure(message)
            }
        }
    }

    static func http(scheme: String, host: String, port: Int, path: String, headers: [(String, String)], timeout: Duration) async -> ProbeOutcome {
        guard scheme.uppercased() == "HTTP" else { return .failure("HTTPS probes are not supported by the capstan agent") }
        return await onBlockingPool {
            let socket: Int32
            switch connect(host: host, port: port, timeout: timeout) {
            case .success(let opened): socket = opened
            case .failure(let message): return .failure(message)
            }
            defer { close(socket) }
            let target = path.isEmpty ? "/" : path.hasPrefix("/") ? path : "/" + path
            var request = "GET \(target) HTTP/1.1\r\nHost: \(host.contains(":") ? "[\(host)]" : host):\(port)\r\n"
            var sawUserAgent = false
            var sawAccept = false
            for (name, value) in headers {
                sawUserAgent = sawUserAgent || name.lowercased() == "user-agent"
                sawAccept = sawAccept || name.lowercased() == "accept"
                request += "\(name): \(value)\r\n"
            }
            if !sawUserAgent { request += "User-Agent: kube-probe/1.32\r\n" }
            if !sawAccept { request += "Accept: */*\r\n" }
            request += "Connection: close\r\n\r\n"
            let bytes = Array(request.utf8)
            guard bytes.withUnsafeBytes({ send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
                return .failure("Get \"http://\(host):\(port)\(target)\": write failed")
            }
            var response: [UInt8] = []
            var buffer = [UInt8](repeating: 0, count: 1024)
            // Bounds a blocking read on a real socket, so it is real time, not the agent's injected clock.
            let deadline = Date().addingTimeInterval(Double(min(timeout.components.seconds, 86_400)) + 1)
            while !response.contains(UInt8(ascii: "\n")), response.count < 4096, Date() < deadline {
                let count = buffer.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
                if count <= 0 { break }
                response += buffer[..<count]
            }
            let statusLine = String(decoding: response.prefix(while: { $0 != UInt8(ascii: "\r") && $0 != UInt8(ascii: "\n") }), as: UTF8.self)
            let parts = statusLine.split(separator: " ")
            guard parts.count >= 2, parts[0].hasPrefix("HTTP/"), let code = Int(parts[1]) else {
                return .failure(
                    "Get \"http://\(host):\(port)\(target)\": "
                        + (response.isEmpty
                            ? "context deadline exceeded (Client.Timeout exceeded while awaiting headers)" : "malformed HTTP response"))
            }
            return (200..<400).contains(code) ? .success : .failure("HTTP probe failed with statuscode: \(code)")
        }
    }

    private static func onBlockingPool(_ work: @escaping @Sendable () -> ProbeOutcome) async -> ProbeOutcome {
        do {
            return try await BlockingPool.shared.run(work)
        } catch {
            // Only cancellation before the check started: the pod is going away.
            return .failure("probe cancelled before it ran")
        }
    }

    private enum Connection {
        case success(Int32)
        case failure(String)
    }

    /// A connected socket with send and receive timeouts, or why not.
    private static func connect(host: String, port: Int, timeout: Duration) -> Connection {
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICHOST
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let info = list else {
            return .failure("dial tcp \(host):\(port): invalid address")
        }
        defer { freeaddrinfo(list) }
        let socket = Glibc.socket(info.pointee.ai_family, info.pointee.ai_socktype, info.pointee.ai_protocol)
        guard socket >= 0 else { return .failure("dial tcp \(host):\(port): \(String(cString: strerror(errno)))") }
        // Hostile specs ask for absurd timeouts; a probe waits a day at most.
        let milliseconds = Int32(clamping: min(timeout.components.seconds, 86_400) * 1000 + timeout.components.attoseconds / 1_000_000_000_000_000)
        var interval = timeval(tv_sec: Int(milliseconds / 1000), tv_usec: Int(milliseconds % 1000) * 1000)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(socket, SOL_SOCKET, SO_SNDTIMEO, &interval, socklen_t(MemoryLayout<timeval>.size))
        let flags = fcntl(socket, F_GETFL)
        _ = fcntl(socket, F_SETFL, flags | O_NONBLOCK)
        var result = Glibc.connect(socket, info.pointee.ai_addr, info.pointee.ai_addrlen)
        if result != 0 && errno == EINPROGRESS {
            var descriptor = pollfd(fd: socket, events: Int16(POLLOUT), revents: 0)
            if poll(&descriptor, 1, milliseconds) == 1 {
                var error: Int32 = 0
                var length = socklen_t(MemoryLayout<Int32>.size)
                getsockopt(socket, SOL_SOCKET, SO_ERROR, &error, &length)
                result = error == 0 ? 0 : -1
                errno = error
            } else {
                close(socket)
                return .failure("dial tcp \(host):\(port): i/o timeout")
            }
        }
        guard result == 0 else {
            let message = String(cString: strerror(errno)).lowercased()
            close(socket)
            return .failure("dial tcp \(host):\(port): connect: \(message)")
        }
        _ = fcntl(socket, F_SETFL, flags)
        return .success(socket)
    }
}

/// One probe's answer.
enum ProbeOutcome: Equatable, Sendable {
    case success
    case failure(String)
}
