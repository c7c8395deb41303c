import CapstanAPI
import CapstanCore

extension ResourceRegistry {
    /// A body as Kubernetes decodes it into the kind's Go type: a value of
    /// the wrong JSON type fails the request (400), and fields the kind does
    /// not have are dropped — refused first under `fieldValidation=Strict`,
    /// each named in a `Warning` under `Warn`. Kinds without a Kubernetes
    /// schema pass unchanged.
    ///
    /// Fields an update's `old` object already held are dropped without a
    /// word: they were stored before the schema was checked, and the writer
    /// did not add them.
    ///
    /// A custom resource is pruned by its definition's schema instead (its
    /// values are checked by validation, as Kubernetes does), then defaulted.
    func decoded(_ object: JSONValue, _ info: KindInfo, old: JSONValue?, _ options: WriteOptions) throws(APIError) -> JSONValue {
        let prefix = "\(info.kind) in version \"\(info.version)\" cannot be handled as a \(info.kind): "
        if let custom = catalog.custom(info) {
            guard let schema = custom.schema else { return object }
            let pruned = schema.pruned(object)
            try report(pruned.unknownFields.map(\.description), prefix: prefix, options)
            return schema.defaulted(pruned.object)
        }
        guard let check = SchemaCheck(object, apiVersion: info.apiVersion, kind: info.kind), !check.findings.isEmpty else { return object }
        if let mismatch = check.findings.typeMismatches.first { throw .badRequest(prefix + mismatch.decodeMessage) }
        var unknown = check.findings.unknownFields.map(\.description)
        if let old, let before = SchemaCheck(old, apiVersion: info.apiVersion, kind: info.kind) {
            let stored = Set(before.findings.unknownFields.map(\.description))
            unknown.removeAll { stored.contains($0) }
        }
        try report(unknown, prefix: prefix, options)
        return check.pruned
    }

    /// Unknown fields under the request's `fieldValidation`: an error, warnings, or nothing.
    private func report(_ unknown: [String], prefix: String, _ options: WriteOptions) throws(APIError) {
        switch options.fieldValidation {
        case .strict where !unknown.isEmpty:
            throw .badRequest(prefix + "strict decoding error: " + unknown.map { "unknown field \"\($0)\"" }.joined(separator: ", "))
        case .warn:
            for field in unknown { RequestWarnings.add("unknown field \"\(field)\"") }
        case .strict, .ignore:
            break
        }
    }
}
