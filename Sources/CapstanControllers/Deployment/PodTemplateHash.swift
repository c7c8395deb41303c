import CapstanCore
import OrderedCollections

/// The `pod-template-hash` label: a short, stable name for a pod template,
/// which names a Deployment's ReplicaSets (`web-7d4b9c6f5`) and keeps their
/// pods apart.
///
/// As Kubernetes: FNV-1a (32 bit) over the template and the collision count,
/// its decimal digits spelled in the alphabet of generated names. Unlike
/// Kubernetes (which hashes Go's printout of the struct) the template is
/// hashed as canonical JSON — keys sorted at every level — so the order a
/// manifest lists fields in never changes the hash.
enum PodTemplateHash {
    static let label = "pod-template-hash"
    static let alphabet = Array("bcdfghjklmnpqrstvwxz2456789")

    static func of(_ template: PodTemplateSpec, collisionCount: Int64?) -> String {
        var hash: UInt32 = 2_166_136_261
        func mix(_ bytes: [UInt8]) {
            for byte in bytes {
                hash ^= UInt32(byte)
                hash = hash &* 16_777_619
            }
        }
        mix(JSONSerializer.bytes(Canonical.json(withoutHashLabel(template).jsonValue)))
        if let collisionCount {
            mix(Array(String(collisionCount).utf8))
        }
        return String(String(hash).utf8.map { alphabet[Int($0) % alphabet.count] })
    }

    /// The template as its Deployment wrote it: without the hash label a ReplicaSet adds.
    static func withoutHashLabel(_ template: PodTemplateSpec) -> PodTemplateSpec {
        var copy = template
        var meta = copy.metadata
        guard meta.labels[label] != nil else { return copy }
        meta.labels.removeValue(forKey: label)
        copy.metadata = meta
        if copy.metadata.json.isEmpty { copy.json.removeValue(forKey: "metadata") }
        return copy
    }

    /// Whether two templates are the same once the hash label is ignored
    /// (Kubernetes' `EqualIgnoreHash`); field order does not matter, nor does
    /// a default one of them lacks (a template stored before the API server
    /// defaulted it), as Kubernetes defaults every object it reads.
    static func equalIgnoringHash(_ a: PodTemplateSpec, _ b: PodTemplateSpec) -> Bool {
        func defaulted(_ template: PodTemplateSpec) -> JSONValue {
            var json = withoutHashLabel(template).json
            KubernetesDefaults.template(&json)
            return Canonical.json(.object(json))
        }
        return defaulted(a) == defaulted(b)
    }
}

/// JSON with object keys sorted at every level: equal content, equal value.
enum Canonical {
    static func json(_ value: JSONValue) -> JSONValue {
        switch value {
        case .object(let object):
            var sorted = JSONObject()
            for key in object.keys.sorted() { sorted[key] = json(object[key]!) }
            return .object(sorted)
        case .array(let items):
            return .array(items.map(json))
        default:
            return value
        }
    }
}
