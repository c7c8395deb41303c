import CapstanSystem
import CapstanTestSupport
import Foundation
import Testing
import X509

@testable import CapstanAPIServer

private func mode(_ path: String) throws -> Int {
    try (FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? NSNumber)?.intValue ?? -1
}

private func read(_ path: String) throws -> String {
    try String(contentsOfFile: path, encoding: .utf8)
}

@Suite struct ServerPKITests {
    @Test func firstStartMakesACAAndAServingCertificateForTheNames() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-pki") { directory in
            let pki = try ServerPKI.loadOrCreate(directory: directory.appending("pki"), names: ["127.0.0.1", "::1", "localhost", "api.example.test"])
            for path in [pki.caCertificatePath, pki.caKeyPath, pki.certificatePath, pki.privateKeyPath] {
                #expect(FileManager.default.fileExists(atPath: path), "\(path)")
            }
            #expect(try mode(pki.caKeyPath) == 0o600)
            #expect(try mode(pki.privateKeyPath) == 0o600)
            #expect(try mode(directory.appending("pki")) == 0o700)

            // openssl, as an independent reader, agrees the CA signs a server certificate for those names.
            let verify = try await runCommand(
                "/usr/bin/openssl", ["verify", "-CAfile", pki.caCertificatePath, "-purpose", "sslserver", pki.certificatePath])
            #expect(verify.status == 0 && verify.output.contains("OK"), "\(verify.output)")
            let text = try await runCommand("/usr/bin/openssl", ["x509", "-noout", "-text", "-in", pki.certificatePath]).output
            for name in [
                "IP Address:127.0.0.1", "IP Address:0:0:0:0:0:0:0:1", "DNS:localhost", "DNS:api.example.test", "TLS Web Server Authentication",
                "prime256v1",
            ] {
                #expect(text.contains(name), "\(name) missing from\n\(text)")
            }
            let ca = try await runCommand("/usr/bin/openssl", ["x509", "-noout", "-text", "-in", pki.caCertificatePath]).output
            #expect(ca.contains("CA:TRUE") && ca.contains("Certificate Sign"), "\(ca)")
        }
    }

    @Test func laterStartsReuseTheFilesAndReissueOnlyForNewNames() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-pki") { directory in
            let pkiDirectory = directory.appending("pki")
            let first = try ServerPKI.loadOrCreate(directory: pkiDirectory, names: ["127.0.0.1", "localhost"])
            let again = try ServerPKI.loadOrCreate(directory: pkiDirectory, names: ["localhost"])
            #expect(again.caCertificatePEM == first.caCertificatePEM)
            #expect(again.certificatePEM == first.certificatePEM)
            #expect(again.privateKeyPEM == first.privateKeyPEM)

            // A name the certificate lacks: a new serving certificate from the same CA.
            let widened = try ServerPKI.loadOrCreate(directory: pkiDirectory, names: ["127.0.0.1", "localhost", "10.1.2.3"])
            #expect(widened.caCertificatePEM == first.caCertificatePEM)
            #expect(widened.certificatePEM != first.certificatePEM)
            #expect(try read(widened.certificatePath) == widened.certificatePEM)
            let verify = try await runCommand("/usr/bin/openssl", ["verify", "-CAfile", widened.caCertificatePath, widened.certificatePath])
            #expect(verify.status == 0, "\(verify.output)")

            // Near its end, the serving certificate is renewed; the CA stays.
            let later = try ServerPKI.loadOrCreate(directory: pkiDirectory, names: ["localhost"], now: Date().addingTimeInterval(360 * 86400))
            #expect(later.caCertificatePEM == first.caCertificatePEM)
            #expect(later.certificatePEM != widened.certificatePEM)
        }
    }

    @Test func aCAWithoutItsKeyIsRefusedNotReplaced() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-pki") { directory in
            let pki = try ServerPKI.loadOrCreate(directory: directory.appending("pki"), names: ["localhost"])
            try FileManager.default.removeItem(atPath: pki.caKeyPath)
            #expect(throws: PrivateFileError.self) { try ServerPKI.loadOrCreate(directory: directory.appending("pki"), names: ["localhost"]) }
            #expect(try read(pki.caCertificatePath) == pki.caCertificatePEM)
        }
    }

    @Test func badNamesAreRefused() {
        #expect(throws: PrivateFileError.self) { try ServerPKI.generalName("not a name") }
        #expect(throws: PrivateFileError.self) { try ServerPKI.generalName("") }
        #expect((try? ServerPKI.generalName("Capstan.Example")) == .dnsName("capstan.example"))
    }

    @Test func securityIsMadeOnceAndReused() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-security") { directory in
            let data = directory.appending("data")
            let first = try ServerSecurity.prepare(dataDirectory: data, tls: true, names: ["localhost"])
            try first.writeAdminKubeconfig(serverURL: "https://127.0.0.1:6443")
            #expect(try first.tlsConfiguration() != nil)
            let kubeconfigPath = ServerSecurity.adminKubeconfigPath(dataDirectory: data)
            #expect(try mode(kubeconfigPath) == 0o600)
            #expect(try mode(ServerSecurity.tokensPath(dataDirectory: data)) == 0o600)
            #expect(try mode(ServerSecurity.secretsKeyPath(dataDirectory: data)) == 0o600)
            let config = try Kubeconfig(yaml: try read(kubeconfigPath), file: kubeconfigPath)
            #expect(config.server == "https://127.0.0.1:6443")
            #expect(config.certificateAuthorityPEM == first.pki?.caCertificatePEM)
            #expect(first.tokens.authenticate(config.token)?.role == .admin)

            let second = try ServerSecurity.prepare(dataDirectory: data, tls: true, names: ["localhost"])
            #expect(second.adminToken == first.adminToken)
            #expect(second.pki?.caCertificatePEM == first.pki?.caCertificatePEM)
            #expect(second.tokens.entries.count == 1)
            #expect(second.encryption.primary.name == "key1")
        }
    }

    @Test func kubeconfigRoundTrips() throws {
        let config = Kubeconfig(
            server: "https://[::1]:6443", certificateAuthorityPEM: "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            token: "abc_DEF-123", userName: "viewer")
        #expect(try Kubeconfig(yaml: config.yaml, file: "k") == config)
        #expect(throws: PrivateFileError.self) { try Kubeconfig(yaml: "apiVersion: v1\nkind: Config\n", file: "k") }
    }
}
