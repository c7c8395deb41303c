import ArgumentParser
import CapstanCore

/// A `--listen HOST:PORT` value: HOST must be an IP address (`127.0.0.1`,
/// `0.0.0.0`, `::1`, `[::]`), never a name, so what is bound — and whether it
/// is loopback — is decided on the address itself (`127.evil.example` is a
/// name, and refused).
struct ListenAddress {
    let host: String
    let port: Int
    let isLoopback: Bool

    init(_ text: String) throws {
        guard let colon = text.lastIndex(of: ":"), let port = Int(text[text.index(after: colon)...]), (0...65535).contains(port) else {
            throw ValidationError("--listen must be HOST:PORT, not '\(text)'")
        }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard let address = IPLiteral(host) else {
            throw ValidationError("--listen needs an IP address as HOST (127.0.0.1, 0.0.0.0, ::1, [::]), not '\(host)'")
        }
        self.host = host
        self.port = port
        self.isLoopback = address.isLoopback
    }
}
