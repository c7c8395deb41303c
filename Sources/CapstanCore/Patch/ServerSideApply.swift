import OrderedCollections

/// Server-side apply, as the Kubernetes API server does it: a manager sends
/// the fields it wants, Capstan merges them into the live object, records
/// which manager owns which field in `metadata.managedFields`, removes fields
/// the manager applied before but no longer sends, and refuses to change a
/// field another manager owns unless forced.
public enum ServerSideApply {
    /// A field another manager owns with a different value.
    public struct Conflict: Hashable, Sendable {
        public var manager: String
        public var apiVersion: String
        /// `.spec.replicas`, as Kubernetes prints it.
        public var field: String
    }

    /// The apply was refused because of conflicts (HTTP 409).
    public struct ConflictError: Error, Hashable, Sendable, CustomStringConvertible {
        public var conflicts: [Conflict]

        /// Kubernetes' wording, which kubectl shows users.
        public var description: String {
            let count = conflicts.count
            let grouped = Dictionary(grouping: conflicts) { "\($0.manager)\u{0}\($0.apiVersion)" }
            var text = "Apply failed with \(count) conflict\(count == 1 ? "" : "s"):"
            for key in grouped.keys.sorted() {
                let items = grouped[key]!
                let manager = items[0].manager
                let version = items[0].apiVersion
                if items.count == 1 {
                    text += " conflict with \"\(manager)\" using \(version): \(items[0].field)"
                } else {
                    text += " conflicts with \"\(manager)\" using \(version):" + items.map { "\n- \($0.field)" }.joined()
                }
            }
            return text
        }
    }

    /// Applies `config` (the fields the manager wants) to `live` (nil to
    /// create). Returns the new object, with managedFields updated.
    ///
    /// - Throws: ``ConflictError`` when `force` is false and another manager
    ///   owns a field the config changes; ``PatchError`` for malformed managedFields.
    public static func apply(
        _ config: JSONValue, to live: JSONValue?, manager: String, force: Bool, time: String
    ) throws -> JSONValue {
        guard case .object = config else { throw PatchError("an applied configuration must be an object, not \(config.typeName)") }
        let kind = config["kind"]?.stringValue ?? live?["kind"]?.stringValue ?? ""
        let apiVersion = config["apiVersion"]?.stringValue ?? ""
        let applied = FieldSet(of: config, kind: kind)
        var entries = try live.map(existingEntries) ?? []

        // Conflicts: fields others own whose value the config would change. Only
        // values count, as in Kubernetes: a map or a keyed list element the config
        // reaches into is owned for its existence, and its fields are compared one
        // by one (a container applied without the defaults the server gave it is
        // the same container).
        var conflicts: [Conflict] = []
        var taken: [Int: FieldSet] = [:]
        if let live {
            let interior = Set(applied.paths.flatMap { path in (0..<path.count).map { Array(path.prefix($0)) } })
            func isValueConflict(_ path: [FieldSet.Element]) -> Bool {
                guard !interior.contains(path) else { return false }
                let wanted = config.value(at: path)
                if case .object(let fields)? = wanted, fields.isEmpty { return false }
                return wanted != live.value(at: path)
            }
            for (index, entry) in entries.enumerated() where entry.manager != manager {
                for path in applied.intersection(entry.fields).paths where isValueConflict(path) {
                    conflicts.append(Conflict(manager: entry.manager, apiVersion: entry.apiVersion, field: FieldSet.Element.describe(path)))
                    taken[index, default: FieldSet()].insert(path)
                }
            }
        }
        if !conflicts.isEmpty && !force { throw ConflictError(conflicts: conflicts) }

        // Merge, then drop what this manager applied before and no longer does (if nobody else holds it).
        var result = merge(config, into: live ?? .object([:]), kind: kind, path: "")
        let previous = entries.first { $0.manager == manager && $0.operation == "Apply" }?.fields ?? FieldSet()
        let others = entries.filter { $0.manager != manager }.reduce(FieldSet()) { $0.union($1.fields) }
        let dropped = previous.subtracting(applied).subtracting(others)
        // Remove whole subtrees once: a keyed element goes with its key fields, not field by field.
        var removed: [[FieldSet.Element]] = []
        for path in dropped.paths.sorted(by: { $0.count < $1.count }) where !removed.contains(where: { path.starts(with: $0) }) {
            result.remove(at: path)
            removed.append(path)
        }

        for (index, fields) in taken { entries[index].fields = entries[index].fields.subtracting(fields) }
        if let index = entries.firstIndex(where: { $0.manager == manager && $0.operation == "Apply" }) {
            entries[index].fields = applied
            entries[index].time = time
            entries[index].apiVersion = apiVersion
        } else {
            entries.append(ManagedFieldsEntry(manager: manager, operation: "Apply", apiVersion: apiVersion, time: time, fields: applied))
        }
        return withEntries(result, entries.filter { !$0.fields.isEmpty })
    }

    /// Records an ordinary write (create, update, patch) by `manager`: it
    /// takes ownership of every field it changed, others lose those fields.
    public static func recordUpdate(from old: JSONValue?, to new: JSONValue, manager: String, time: String, subresource: String? = nil) throws
        -> JSONValue
    {
        let kind = new["kind"]?.stringValue ?? ""
        let apiVersion = new["apiVersion"]?.stringValue ?? ""
        var entries = try old.map(existingEntries) ?? []
        let newFields = FieldSet(of: new, kind: kind)
        let oldFields = old.map { FieldSet(of: $0, kind: kind) } ?? FieldSet()
        var changed = FieldSet()
        for path in newFields.paths where old?.value(at: path) != new.value(at: path) { changed.insert(path) }
        let removed = oldFields.subtracting(newFields)
        for index in entries.indices {
            entries[index].fields = entries[index].fields.subtracting(removed)
            if entries[index].manager != manager { entries[index].fields = entries[index].fields.subtracting(changed) }
        }
        if !changed.isEmpty {
            if let index = entries.firstIndex(where: { $0.manager == manager && $0.operation == "Update" && $0.subresource == subresource }) {
                entries[index].fields = entries[index].fields.union(changed)
                entries[index].time = time
            } else {
                entries.append(
                    ManagedFieldsEntry(
                        manager: manager, operation: "Update", apiVersion: apiVersion, time: time, subresource: subresource, fields: changed))
            }
        }
        return withEntries(new, entries.filter { !$0.fields.isEmpty })
    }

    /// The object's entries; an object written before any manager was tracked
    /// gets its fields attributed to `before-first-apply`, as Kubernetes does.
    private static func existingEntries(_ live: JSONValue) throws -> [ManagedFieldsEntry] {
        let entries = try ManagedFieldsEntry.entries(of: live)
        if entries.isEmpty, live.objectValue?.isEmpty == false {
            let kind = live["kind"]?.stringValue ?? ""
            let fields = FieldSet(of: live, kind: kind)
            guard !fields.isEmpty else { return [] }
            return [
                ManagedFieldsEntry(
                    manager: "before-first-apply", operation: "Update", apiVersion: live["apiVersion"]?.stringValue ?? "", time: "", fields: fields)
            ]
        }
        return entries
    }

    private static func withEntries(_ object: JSONValue, _ entries: [ManagedFieldsEntry]) -> JSONValue {
        var result = object
        if entries.isEmpty {
            result[path: ["metadata", "managedFields"]] = nil
        } else {
            result[path: ["metadata", "managedFields"]] = .array(entries.map(\.json))
        }
        return result
    }

    /// Merges applied fields into the live object: maps field by field, keyed
    /// lists element by element, sets by union, everything else replaced.
    static func merge(_ config: JSONValue, into live: JSONValue, kind: String, path: String) -> JSONValue {
        switch config {
        case .object(let applied) where !MergeSchema.isAtomicObject(kind: kind, path: path):
            var result = live.objectValue ?? [:]
            for (key, value) in applied where !(path.isEmpty && key == "metadata" && value.isNull) {
                if path == "metadata", key == "managedFields" { continue }
                let childPath = path.isEmpty ? key : path + "." + key
                result[key] = merge(value, into: result[key] ?? .null, kind: kind, path: childPath)
            }
            return .object(result)
        case .array(let elements):
            switch MergeSchema.listType(kind: kind, path: path) {
            case .atomic:
                return config
            case .set:
                var result = live.arrayValue ?? []
                for element in elements where !result.contains(element) { result.append(element) }
                return .array(result)
            case .map(let keys):
                var result = live.arrayValue ?? []
                for element in elements {
                    guard let key = FieldSet.keyElement(of: element, keys: keys) else {
                        return config
                    }
                    if let index = result.firstIndex(where: { FieldSet.keyElement(of: $0, keys: keys) == key }) {
                        result[index] = merge(element, into: result[index], kind: kind, path: path)
                    } else {
                        result.append(element)
                    }
                }
                return .array(result)
            }
        default:
            return config
        }
    }
}
