import CapstanCore
import Foundation

/// Where objects live in the store: `/registry/<group>/<resource>/<namespace>/<name>`
/// (`core` for the core group; no namespace segment for cluster-scoped kinds).
enum StorageKeys {
    static func prefix(_ info: KindInfo, namespace: String?) -> String {
        let base = "/registry/\(info.group.isEmpty ? "core" : info.group)/\(info.resource)/"
        guard info.namespaced, let namespace, !namespace.isEmpty else { return base }
        return base + namespace + "/"
    }

    static func key(_ info: KindInfo, namespace: String?, name: String) -> Data {
        Data((prefix(info, namespace: namespace) + name).utf8)
    }
}
