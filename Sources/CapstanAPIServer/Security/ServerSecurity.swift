import CapstanSystem
import Foundation
package import NIOSSL

/// Everything in the data directory that keeps the API server private,
/// made on first start and reused after:
///
/// - `pki/` — the CA and serving certificate (``ServerPKI``), unless plain HTTP;
/// - `auth/tokens.json` — hashed bearer tokens (``TokenStore``);
/// - `secrets.key` — the key Secrets are encrypted with (``SecretEncryption``);
/// - `service-account.key` — the key service-account tokens are signed with (``ServiceAccountKey``);
/// - `admin.kubeconfig` — the CA, the server URL and an admin token.
///
/// Key and token files are mode 0600, their directories 0700.
package struct ServerSecurity: Sendable {
    package let dataDirectory: String
    /// nil when the server speaks plain HTTP.
    package let pki: ServerPKI?
    package let tokens: TokenStore
    package let encryption: SecretEncryption
    /// Signs and verifies service-account tokens; made even for plain HTTP,
    /// so a token minted there still works once the server speaks TLS.
    package let serviceAccountKey: ServiceAccountKey
    /// The admin token in `admin.kubeconfig`, kept to rewrite the file with the bound address.
    let adminToken: String

    /// Makes the data directory (or one inside it) private to its owner: 0700
    /// when created, narrowed to 0700 when an older start left it wider.
    package static func makePrivateDirectory(_ path: String) throws {
        try PrivateFile.makeDirectory(path)
    }

    package static func adminKubeconfigPath(dataDirectory: String) -> String { dataDirectory + "/admin.kubeconfig" }
    package static func tokensPath(dataDirectory: String) -> String { dataDirectory + "/auth/tokens.json" }
    package static func pkiDirectory(dataDirectory: String) -> String { dataDirectory + "/pki" }
    package static func secretsKeyPath(dataDirectory: String) -> String { dataDirectory + "/secrets.key" }
    package static func serviceAccountKeyPath(dataDirectory: String) -> String { dataDirectory + "/service-account.key" }

    /// Loads or makes the data directory's keys, certificates and tokens.
    /// - Parameters:
    ///   - tls: false for plain HTTP (no certificates are made or loaded).
    ///   - names: DNS names and IPs the serving certificate must cover (see ``ServerPKI/defaultNames(extra:)``).
    package static func prepare(dataDirectory: String, tls: Bool, names: [String]) throws -> ServerSecurity {
        try PrivateFile.makeDirectory(dataDirectory)
        let pki = tls ? try ServerPKI.loadOrCreate(directory: pkiDirectory(dataDirectory: dataDirectory), names: names) : nil
        let tokens = try TokenStore(path: tokensPath(dataDirectory: dataDirectory))
        let encryption = try SecretEncryption.loadOrCreate(path: secretsKeyPath(dataDirectory: dataDirectory))
        let serviceAccountKey = try ServiceAccountKey.loadOrCreate(path: serviceAccountKeyPath(dataDirectory: dataDirectory))
        // The admin kubeconfig's token is reused while it is still a valid admin
        // token; otherwise (first start, file removed, token revoked) a new one is minted.
        let kubeconfigPath = adminKubeconfigPath(dataDirectory: dataDirectory)
        var adminToken: String?
        if let data = try PrivateFile.read(kubeconfigPath),
            let existing = try? Kubeconfig(yaml: String(decoding: data, as: UTF8.self), file: kubeconfigPath),
            tokens.authenticate(existing.token)?.role == .admin
        {
            adminToken = existing.token
        }
        let token = try adminToken ?? tokens.mint(for: User(name: "admin", role: .admin))
        return ServerSecurity(
            dataDirectory: dataDirectory, pki: pki, tokens: tokens, encryption: encryption, serviceAccountKey: serviceAccountKey, adminToken: token)
    }

    /// Writes `admin.kubeconfig` (0600) for the address the server listens on.
    package func writeAdminKubeconfig(serverURL: String) throws {
        let config = Kubeconfig(server: serverURL, certificateAuthorityPEM: pki?.caCertificatePEM, token: adminToken)
        try PrivateFile.write(Data(config.yaml.utf8), to: Self.adminKubeconfigPath(dataDirectory: dataDirectory))
    }

    /// The NIOSSL server configuration for the serving certificate; nil for plain HTTP.
    package func tlsConfiguration() throws -> TLSConfiguration? {
        guard let pki else { return nil }
        let chain = try NIOSSLCertificate.fromPEMBytes(Array(pki.certificatePEM.utf8)).map { NIOSSLCertificateSource.certificate($0) }
        let key = try NIOSSLPrivateKey(bytes: Array(pki.privateKeyPEM.utf8), format: .pem)
        var configuration = TLSConfiguration.makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key))
        configuration.minimumTLSVersion = .tlsv12
        // HTTP/1.1 only: clients that offer h2 (kubectl does) fall back to it.
        configuration.applicationProtocols = ["http/1.1"]
        return configuration
    }
}
