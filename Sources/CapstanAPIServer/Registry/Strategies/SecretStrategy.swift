/// Secrets: sealed at rest when the server has an encryption key (``SecretEncryption``).
struct SecretStrategy: ResourceStrategy {
    var isEncryptedAtRest: Bool { true }
}
