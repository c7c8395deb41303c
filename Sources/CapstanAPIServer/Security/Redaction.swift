// Key material, tokens and certificates must never reach a log or an error
// message: ServiceLifecycle prints a failed service with `description`, and a
// struct's default description lists every stored property.

extension APIServer: CustomStringConvertible {
    package var description: String { "APIServer(\(configuration.host):\(configuration.port))" }
}

extension ServerSecurity: CustomStringConvertible {
    package var description: String { "ServerSecurity(\(dataDirectory), tls: \(pki != nil))" }
}

extension ServerPKI: CustomStringConvertible {
    package var description: String { "ServerPKI(\(directory))" }
}

extension SecretEncryption: CustomStringConvertible {
    package var description: String { "SecretEncryption(primary key \"\(primary.name)\", [redacted])" }
}

extension SecretEncryption.Key: CustomStringConvertible {
    package var description: String { "Key(\(name), [redacted])" }
}
