internal import CapstanCore

extension FieldPath {
    /// A member of an object: a field (`spec.replicas`) when its name reads
    /// as one, otherwise a map key (`metadata.labels[app.kubernetes.io/name]`),
    /// so that printed paths stay unambiguous as Kubernetes prints them.
    func member(_ name: String) -> FieldPath {
        let isFieldName =
            !name.isEmpty && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || $0 == "_" || $0 == "-" }
        return isFieldName ? child(name) : key(name)
    }
}
