import Foundation
import NIOHTTP1
import NIOSSL
import Testing

@testable import CapstanCRI

/// The registry client over real TLS: a Python HTTPS server on 127.0.0.1 with a certificate
/// made by openssl for this test.
struct RegistryHTTPClientTests {
    static let server = """
        import http.server, ssl, sys
        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args): pass
            def do_GET(self):
                body = b"hello over tls " + self.path.encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)
        httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[1], sys.argv[2])
        httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
        print(httpd.server_address[1], flush=True)
        httpd.serve_forever()
        """

    /// Runs `body` with the port of an HTTPS server and the PEM of its certificate.
    func withTLSServer(_ body: (Int, String) async throws -> Void) async throws {
        try await withTemporaryFolder { folder in
            let certificate = folder.appending(path: "cert.pem").path
            let key = folder.appending(path: "key.pem").path
            let openssl = Process()
            openssl.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            openssl.arguments = [
                "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                "-keyout", key, "-out", certificate, "-days", "1", "-subj", "/CN=127.0.0.1",
                "-addext", "subjectAltName=IP:127.0.0.1",
            ]
            openssl.standardError = FileHandle.nullDevice
            try openssl.run()
            openssl.waitUntilExit()
            try #require(openssl.terminationStatus == 0)
            let script = folder.appending(path: "server.py")
            try Data(Self.server.utf8).write(to: script)
            let python = Process()
            python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            python.arguments = ["python3", script.path, certificate, key]
            let output = Pipe()
            python.standardOutput = output
            try python.run()
            defer {
                kill(python.processIdentifier, SIGKILL)
                python.waitUntilExit()
            }
            // The server prints its port once it listens.
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")), let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty {
                line.append(byte)
            }
            let port = try #require(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
            try await body(port, try String(contentsOfFile: certificate, encoding: .utf8))
        }
    }

    @Test func speaksVerifiedTLS() async throws {
        try await withTLSServer { port, pem in
            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .certificates([try NIOSSLCertificate(bytes: Array(pem.utf8), format: .pem)])
            let client = RegistryHTTPClient(readTimeout: .seconds(120), tls: tls)
            let url = try #require(RegistryURL("https://127.0.0.1:\(port)/v2/"))
            let text = try await client.get(url, headers: []) { head, body in
                #expect(head.status.code == 200)
                return String(decoding: try await body.collect(limit: 1024, what: "the answer"), as: UTF8.self)
            }
            #expect(text == "hello over tls /v2/")
        }
    }

    @Test func refusesCertificatesItCannotVerify() async throws {
        try await withTLSServer { port, _ in
            let client = RegistryHTTPClient(readTimeout: .seconds(120))
            let url = try #require(RegistryURL("https://127.0.0.1:\(port)/v2/"))
            let error = await #expect(throws: CRIError.self) {
                try await client.get(url, headers: []) { _, _ in Issue.record("a response over an unverified connection") }
            }
            #expect(error?.kind == .unavailable)
            #expect(error?.message.hasPrefix("cannot talk to registry 127.0.0.1:\(port): ") == true, "\(error?.message ?? "")")
        }
    }

    @Test func dropsARegistryThatSendsNothing() async throws {
        try await withTemporaryFolder { folder in
            // Accepts connections and never answers.
            let script = folder.appending(path: "silent.py")
            try Data(
                """
                import socket, time
                listener = socket.socket()
                listener.bind(("127.0.0.1", 0))
                listener.listen()
                print(listener.getsockname()[1], flush=True)
                held = []
                while True:
                    held.append(listener.accept()[0])
                """.utf8
            ).write(to: script)
            let python = Process()
            python.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            python.arguments = ["python3", script.path]
            let output = Pipe()
            python.standardOutput = output
            try python.run()
            defer {
                kill(python.processIdentifier, SIGKILL)
                python.waitUntilExit()
            }
            var line = Data()
            while !line.contains(UInt8(ascii: "\n")), let byte = try output.fileHandleForReading.read(upToCount: 1), !byte.isEmpty {
                line.append(byte)
            }
            let port = try #require(Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)))
            let client = RegistryHTTPClient(readTimeout: .milliseconds(300))
            let url = try #require(RegistryURL("http://127.0.0.1:\(port)/v2/"))
            let error = await #expect(throws: CRIError.self) {
                try await client.get(url, headers: []) { _, _ in Issue.record("a response from a silent server") }
            }
            #expect(error?.kind == .unavailable)
            #expect(error?.message.contains("registry 127.0.0.1:\(port) sent nothing for") == true, "\(error?.message ?? "")")
        }
    }
}
