import CapstanCore
import OrderedCollections

/// Secrets: sealed at rest when the server has an encryption key
/// (``SecretEncryption``), and `stringData` folded into `data` on every write
/// (create, update, patch, apply), as Kubernetes does: it is write-only, never
/// stored nor returned (``SecretStringData``).
struct SecretStrategy: ResourceStrategy {
    var isEncryptedAtRest: Bool { true }

    func prepareForCreate(_ object: inout Unstructured) {
        SecretStringData.fold(&object.json)
    }

    func prepareForUpdate(_ object: inout Unstructured, old: Unstructured) {
        SecretStringData.fold(&object.json)
    }
}
