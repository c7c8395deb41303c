import CapstanTestSupport
import Foundation
import Testing

/// `capstan store serve` beyond loopback: TLS with client-certificate
/// authentication, as etcd's `--client-cert-auth`, checked with Debian's etcdctl.
@Suite struct StoreTLSTests {
    /// A CA, a server certificate for 127.0.0.1, a client certificate it signs,
    /// and a client certificate from another CA, made with openssl.
    static func makeCertificates(in directory: TemporaryDirectory) async throws {
        let script = """
            set -e
            cd "$1"
            key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1" 2>/dev/null; }
            for ca in ca other-ca; do
              key $ca.key
              openssl req -x509 -new -key $ca.key -out $ca.crt -days 1 -subj "/CN=$ca"
            done
            printf 'subjectAltName=IP:127.0.0.1\\nextendedKeyUsage=serverAuth\\n' > server.ext
            printf 'extendedKeyUsage=clientAuth\\n' > client.ext
            sign() { key $1.key; openssl req -new -key $1.key -out $1.csr -subj "/CN=$1"; \
              openssl x509 -req -in $1.csr -CA $2.crt -CAkey $2.key -CAcreateserial -out $1.crt -days 1 -extfile $3 2>/dev/null; }
            sign server ca server.ext
            sign client ca client.ext
            sign stranger other-ca client.ext
            """
        let result = try await runCommand("/bin/bash", ["-c", script, "certificates", directory.path])
        guard result.status == 0 else { throw StoreE2EError("openssl: \(result.output)") }
    }

    func etcdctl(_ port: Int, _ flags: [String], _ arguments: [String]) async throws -> (status: Int32, output: String) {
        var environment = ProcessInfo.processInfo.environment
        environment["ETCDCTL_API"] = "3"
        return try await runCommand(
            EtcdctlTests.etcdctl, ["--endpoints=https://127.0.0.1:\(port)", "--dial-timeout=3s", "--command-timeout=5s"] + flags + arguments,
            environment: environment)
    }

    @Test func clientsWithoutACertificateFromTheTrustedCAAreRefused() async throws {
        try await TemporaryDirectory.with { directory in
            try await Self.makeCertificates(in: directory)
            let file = { (name: String) in directory.appending(name) }
            let server = try await CapstanStoreServer(
                dataDirectory: directory.appending("data"), logPath: directory.appending("server.log"),
                extraArguments: ["--cert-file", file("server.crt"), "--key-file", file("server.key"), "--trusted-ca-file", file("ca.crt")])
            defer { server.kill() }

            let trusted = ["--cacert", file("ca.crt"), "--cert", file("client.crt"), "--key", file("client.key")]
            var result = try await etcdctl(server.port, trusted, ["put", "k", "v"])
            #expect(result.status == 0 && result.output == "OK\n", "\(result.output)")
            result = try await etcdctl(server.port, trusted, ["get", "k", "--print-value-only"])
            #expect(result.output == "v\n", "\(result.output)")

            // No client certificate, or one another CA signed: the handshake fails, nothing is read or written.
            result = try await etcdctl(server.port, ["--cacert", file("ca.crt")], ["put", "k", "anonymous"])
            #expect(result.status != 0, "\(result.output)")
            result = try await etcdctl(
                server.port, ["--cacert", file("ca.crt"), "--cert", file("stranger.crt"), "--key", file("stranger.key")], ["put", "k", "stranger"])
            #expect(result.status != 0, "\(result.output)")
            result = try await etcdctl(server.port, trusted, ["get", "k", "--print-value-only"])
            #expect(result.output == "v\n", "\(result.output)")
        }
    }

    @Test(arguments: [
        (["--listen", "0.0.0.0:0"], "is not a loopback address: serving the store to other machines needs --cert-file"),
        (["--listen", "127.evil.example:2379"], "--listen needs an IP address as HOST"),
        (["--cert-file", "/etc/hostname"], "--cert-file, --key-file and --trusted-ca-file go together"),
    ])
    func plainGRPCIsForLoopbackOnly(arguments: [String], message: String) async throws {
        try await TemporaryDirectory.with { directory in
            let result = try await runCommand(
                try CapstanStoreServer.executable(), ["store", "serve", "--data-dir", directory.appending("data")] + arguments)
            #expect(result.status != 0 && result.output.contains(message), "\(result.output)")
            #expect(!FileManager.default.fileExists(atPath: directory.appending("data")), "a refused start creates nothing")
        }
    }
}
