package import CapstanSystem
import Crypto
package import Foundation
import SwiftASN1
import X509

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The API server's certificates under `<data-dir>/pki/`: a private CA
/// (`ca.crt`, `ca.key`) and the serving certificate it signs (`server.crt`,
/// `server.key`), all EC P-256. Made on first start and reused after; the
/// serving certificate alone is re-issued when it would not cover a name the
/// server is now asked to answer to, or is near its end — the CA, which every
/// kubeconfig embeds, stays.
package struct ServerPKI: Sendable {
    package let directory: String
    package let caCertificatePEM: String
    package let certificatePEM: String
    package let privateKeyPEM: String

    package var caCertificatePath: String { directory + "/ca.crt" }
    package var caKeyPath: String { directory + "/ca.key" }
    package var certificatePath: String { directory + "/server.crt" }
    package var privateKeyPath: String { directory + "/server.key" }

    static let caLifetime: TimeInterval = 10 * 365 * 86400
    static let servingLifetime: TimeInterval = 365 * 86400
    /// A serving certificate with less than this left is re-issued at start.
    static let renewBefore: TimeInterval = 30 * 86400

    /// The names every serving certificate carries, plus the machine's host
    /// name and `extra` (`--tls-san`, the listen address).
    package static func defaultNames(extra: [String]) -> [String] {
        var names = ["127.0.0.1", "::1", "localhost"]
        var buffer = [CChar](repeating: 0, count: 256)
        if gethostname(&buffer, buffer.count) == 0 {
            let host = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self).lowercased()
            if (try? generalName(host)) != nil { names.append(host) }
        }
        for name in extra where !names.contains(name) { names.append(name) }
        return names
    }

    /// Loads the CA and serving certificate from `directory`, creating what is missing.
    /// - Parameter names: DNS names and IP addresses the serving certificate must cover.
    package static func loadOrCreate(directory: String, names: [String], now: Date = Date()) throws -> ServerPKI {
        let wanted = try Set(names.map(generalName))
        try PrivateFile.makeDirectory(directory)
        let paths = (caCert: directory + "/ca.crt", caKey: directory + "/ca.key", cert: directory + "/server.crt", key: directory + "/server.key")
        let (ca, caKey) = try loadOrCreateCA(certPath: paths.caCert, keyPath: paths.caKey, now: now)
        if let existing = try loadServing(certPath: paths.cert, keyPath: paths.key, ca: ca),
            existing.certificate.notValidAfter.timeIntervalSince(now) > renewBefore,
            let covered = try? existing.certificate.extensions.subjectAlternativeNames, wanted.isSubset(of: Set(covered))
        {
            return try ServerPKI(directory: directory, ca: ca, certificate: existing.certificate, key: existing.key)
        }
        let key = P256.Signing.PrivateKey()
        let certificate = try issueServing(names: names.map(generalName), key: key, ca: ca, caKey: caKey, now: now)
        try PrivateFile.write(Data(key.pemRepresentation.utf8), to: paths.key)
        try PrivateFile.write(Data((try certificate.serializeAsPEM().pemString + "\n").utf8), to: paths.cert)
        return try ServerPKI(directory: directory, ca: ca, certificate: certificate, key: key)
    }

    private init(directory: String, ca: Certificate, certificate: Certificate, key: P256.Signing.PrivateKey) throws {
        self.directory = directory
        caCertificatePEM = try ca.serializeAsPEM().pemString + "\n"
        certificatePEM = try certificate.serializeAsPEM().pemString + "\n"
        privateKeyPEM = key.pemRepresentation
    }

    // MARK: CA

    private static func loadOrCreateCA(certPath: String, keyPath: String, now: Date) throws -> (Certificate, P256.Signing.PrivateKey) {
        switch (try PrivateFile.read(certPath), try PrivateFile.read(keyPath)) {
        case (let certData?, let keyData?):
            let certificate = try parseCertificate(certData, path: certPath)
            let key = try parseKey(keyData, path: keyPath)
            guard certificate.publicKey == Certificate.PublicKey(key.publicKey) else {
                throw PrivateFileError(path: keyPath, "is not the key of \(certPath)")
            }
            return (certificate, key)
        case (nil, nil):
            let key = P256.Signing.PrivateKey()
            let name = try DistinguishedName {
                OrganizationName("Capstan")
                CommonName("capstan-ca")
            }
            let publicKey = Certificate.PublicKey(key.publicKey)
            let certificate = try Certificate(
                version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
                notValidBefore: now.addingTimeInterval(-300), notValidAfter: now.addingTimeInterval(caLifetime),
                issuer: name, subject: name, signatureAlgorithm: .ecdsaWithSHA256,
                extensions: try Certificate.Extensions {
                    Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                    Critical(KeyUsage(digitalSignature: true, keyCertSign: true, cRLSign: true))
                    SubjectKeyIdentifier(hash: publicKey)
                },
                issuerPrivateKey: Certificate.PrivateKey(key))
            try PrivateFile.write(Data(key.pemRepresentation.utf8), to: keyPath)
            try PrivateFile.write(Data((try certificate.serializeAsPEM().pemString + "\n").utf8), to: certPath)
            return (certificate, key)
        case (nil, _?):
            throw PrivateFileError(
                path: certPath,
                "is missing while \(keyPath) exists: restore it, or remove the whole pki directory to make a new CA (every kubeconfig must then be made again)"
            )
        case (_?, nil):
            throw PrivateFileError(
                path: keyPath,
                "is missing while \(certPath) exists: restore it, or remove the whole pki directory to make a new CA (every kubeconfig must then be made again)"
            )
        }
    }

    // MARK: Serving certificate

    private static func loadServing(certPath: String, keyPath: String, ca: Certificate) throws -> (
        certificate: Certificate, key: P256.Signing.PrivateKey
    )? {
        guard let certData = try PrivateFile.read(certPath), let keyData = try PrivateFile.read(keyPath) else { return nil }
        // Unreadable or foreign files are replaced: the CA can always issue another.
        guard let certificate = try? parseCertificate(certData, path: certPath), let key = try? parseKey(keyData, path: keyPath),
            certificate.publicKey == Certificate.PublicKey(key.publicKey),
            certificate.issuer == ca.subject, ca.publicKey.isValidSignature(certificate.signature, for: certificate)
        else { return nil }
        return (certificate, key)
    }

    private static func issueServing(names: [GeneralName], key: P256.Signing.PrivateKey, ca: Certificate, caKey: P256.Signing.PrivateKey, now: Date)
        throws -> Certificate
    {
        let publicKey = Certificate.PublicKey(key.publicKey)
        let subject = try DistinguishedName {
            OrganizationName("Capstan")
            CommonName("capstan-apiserver")
        }
        let caKeyIdentifier = try ca.extensions.subjectKeyIdentifier?.keyIdentifier ?? SubjectKeyIdentifier(hash: ca.publicKey).keyIdentifier
        return try Certificate(
            version: .v3, serialNumber: Certificate.SerialNumber(), publicKey: publicKey,
            notValidBefore: now.addingTimeInterval(-300), notValidAfter: min(now.addingTimeInterval(servingLifetime), ca.notValidAfter),
            issuer: ca.subject, subject: subject, signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectKeyIdentifier(hash: publicKey)
                AuthorityKeyIdentifier(keyIdentifier: caKeyIdentifier)
                SubjectAlternativeNames(names)
            },
            issuerPrivateKey: Certificate.PrivateKey(caKey))
    }

    // MARK: Parsing

    /// An IP address or a DNS name as a subjectAltName entry.
    static func generalName(_ name: String) throws(PrivateFileError) -> GeneralName {
        var v4 = in_addr()
        if inet_pton(AF_INET, name, &v4) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: withUnsafeBytes(of: &v4) { ArraySlice($0) }))
        }
        var v6 = in6_addr()
        if inet_pton(AF_INET6, name, &v6) == 1 {
            return .ipAddress(ASN1OctetString(contentBytes: withUnsafeBytes(of: &v6) { ArraySlice($0) }))
        }
        let lower = name.lowercased()
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789-.*")
        guard !lower.isEmpty, lower.count <= 253, lower.allSatisfy(allowed.contains), !lower.hasPrefix("."), !lower.hasSuffix("."),
            !lower.contains("..")
        else {
            throw PrivateFileError(path: "--tls-san", "\"\(name)\" is neither an IP address nor a DNS name")
        }
        return .dnsName(lower)
    }

    static func parseCertificate(_ data: Data, path: String) throws(PrivateFileError) -> Certificate {
        do {
            return try Certificate(pemEncoded: String(decoding: data, as: UTF8.self))
        } catch {
            throw PrivateFileError(path: path, "is not a PEM certificate: \(error)")
        }
    }

    static func parseKey(_ data: Data, path: String) throws(PrivateFileError) -> P256.Signing.PrivateKey {
        do {
            return try P256.Signing.PrivateKey(pemRepresentation: String(decoding: data, as: UTF8.self))
        } catch {
            throw PrivateFileError(path: path, "is not a PEM EC P-256 private key: \(error)")
        }
    }
}
