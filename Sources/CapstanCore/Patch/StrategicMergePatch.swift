import OrderedCollections

/// Kubernetes' strategic merge patch for the built-in kinds: like a JSON
/// merge patch, but lists with a merge key (containers by `name`) merge
/// element by element, and `$patch`, `$retainKeys`, `$setElementOrder/…` and
/// `$deleteFromPrimitiveList/…` directives are honoured, as kubectl sends them.
public enum StrategicMergePatch {
    public static func apply(_ patch: JSONValue, to document: JSONValue, kind: String) throws(PatchError) -> JSONValue {
        guard case .object = patch else { throw PatchError("a strategic merge patch must be an object, not \(patch.typeName)") }
        return try merge(patch, into: document, kind: kind, path: "")
    }

    private static func merge(_ patch: JSONValue, into original: JSONValue, kind: String, path: String) throws(PatchError) -> JSONValue {
        guard case .object(var patchObject) = patch else { return patch }
        if let directive = patchObject.removeValue(forKey: "$patch") {
            switch directive.stringValue {
            case "replace": return .object(patchObject)
            case "delete": return .null
            case "merge": break
            default: throw PatchError("unknown $patch directive \(directive) at \(path.isEmpty ? "the root" : path)")
            }
        }
        var result = original.objectValue ?? [:]
        if let retain = patchObject.removeValue(forKey: "$retainKeys") {
            guard case .array(let keys) = retain else { throw PatchError("$retainKeys at \(path) must be a list") }
            let kept = Set(keys.compactMap(\.stringValue))
            result = result.filter { kept.contains($0.key) }
        }
        var orders: [String: [JSONValue]] = [:]
        for (key, value) in patchObject {
            if key.hasPrefix("$setElementOrder/") {
                orders[String(key.dropFirst("$setElementOrder/".count))] = value.arrayValue ?? []
                continue
            }
            if key.hasPrefix("$deleteFromPrimitiveList/") {
                let field = String(key.dropFirst("$deleteFromPrimitiveList/".count))
                let removed = value.arrayValue ?? []
                if case .array(let list) = result[field] ?? .null {
                    result[field] = .array(list.filter { !removed.contains($0) })
                }
                continue
            }
            let childPath = path.isEmpty ? key : path + "." + key
            if value.isNull {
                result.removeValue(forKey: key)
                continue
            }
            switch value {
            case .object:
                let merged = try merge(value, into: result[key] ?? .object([:]), kind: kind, path: childPath)
                if merged.isNull { result.removeValue(forKey: key) } else { result[key] = merged }
            case .array(let elements):
                result[key] = try mergeList(elements, into: result[key]?.arrayValue ?? [], kind: kind, path: childPath)
            default:
                result[key] = value
            }
        }
        for (field, order) in orders {
            guard case .array(let list) = result[field] ?? .null,
                let key = MergeSchema.patchMergeKey(kind: kind, path: path.isEmpty ? field : path + "." + field), !key.isEmpty
            else { continue }
            result[field] = .array(ordered(list, by: order, key: key))
        }
        return .object(result)
    }

    private static func mergeList(_ patch: [JSONValue], into original: [JSONValue], kind: String, path: String) throws(PatchError) -> JSONValue {
        guard let mergeKey = MergeSchema.patchMergeKey(kind: kind, path: path) else {
            return .array(patch)  // no merge strategy: the list is replaced
        }
        if mergeKey.isEmpty {
            // A merged set of scalars (finalizers): union, keeping order.
            var result = original
            for element in patch where !result.contains(element) { result.append(element) }
            return .array(result)
        }
        if patch.contains(where: { $0["$patch"]?.stringValue == "replace" }) {
            return .array(patch.filter { $0["$patch"] == nil })
        }
        var result = original
        for element in patch {
            guard case .object(let fields) = element, let keyValue = fields[mergeKey] else {
                throw PatchError("\(path): every element must be an object with the merge key \"\(mergeKey)\"")
            }
            let existing = result.firstIndex { $0[mergeKey] == keyValue }
            if fields["$patch"]?.stringValue == "delete" {
                if let existing { result.remove(at: existing) }
                continue
            }
            if let existing {
                result[existing] = try merge(element, into: result[existing], kind: kind, path: path)
            } else {
                result.append(try merge(element, into: .object([:]), kind: kind, path: path))
            }
        }
        return .array(result)
    }

    /// `$setElementOrder`: elements named in the order come first, in that order.
    private static func ordered(_ list: [JSONValue], by order: [JSONValue], key: String) -> [JSONValue] {
        var remaining = list
        var result: [JSONValue] = []
        for entry in order {
            if let index = remaining.firstIndex(where: { $0[key] == entry[key] }) {
                result.append(remaining.remove(at: index))
            }
        }
        return result + remaining
    }
}
