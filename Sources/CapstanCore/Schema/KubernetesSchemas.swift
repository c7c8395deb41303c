import OrderedCollections

/// Kubernetes' own OpenAPI v3 schemas of its GA API types (Kubernetes 1.32),
/// kept in the repository as data (`KubernetesDefinitions.swift`, written by
/// `scripts/generate-kubernetes-schemas.py`).
///
/// One source serves three purposes: the API server publishes them at
/// `/openapi/v3` and `/openapi/v2` (so `kubectl explain` prints Kubernetes'
/// field docs), and ``SchemaCheck`` uses them to find unknown fields and
/// wrongly typed values in API bodies and in manifests, as Kubernetes' strict
/// decoding does.
package enum KubernetesSchemas {
    /// Every definition by its OpenAPI name (`io.k8s.api.apps.v1.Deployment`).
    package static let definitions: [String: JSONObject] = {
        var definitions: [String: JSONObject] = [:]
        let parser = JSONParser()
        for line in definitionsText.split(separator: "\n") {
            // The data is generated and compiled in: a line that does not
            // parse is a build defect, not an input error.
            guard case .object(let entry)? = try? parser.parse(String(line)), let (name, schema) = entry.elements.first.map({ ($0.key, $0.value) }),
                case .object(let object) = schema
            else { preconditionFailure("KubernetesDefinitions.swift holds a line that is not one JSON definition") }
            definitions[name] = object
        }
        return definitions
    }()

    /// The definition name of each top-level kind, by apiVersion and kind.
    private static let kindIndex: [KindKey: String] = {
        var index: [KindKey: String] = [:]
        for (name, schema) in definitions {
            for entry in schema["x-kubernetes-group-version-kind"]?.arrayValue ?? [] {
                guard let kind = entry["kind"]?.stringValue, let version = entry["version"]?.stringValue else { continue }
                let group = entry["group"]?.stringValue ?? ""
                index[KindKey(apiVersion: group.isEmpty ? version : "\(group)/\(version)", kind: kind)] = name
            }
        }
        return index
    }()

    private struct KindKey: Hashable {
        var apiVersion: String
        var kind: String
    }

    /// The definition describing objects of this apiVersion and kind, if Kubernetes has one.
    package static func definitionName(apiVersion: String, kind: String) -> String? {
        kindIndex[KindKey(apiVersion: apiVersion, kind: kind)]
    }

    /// The definition of this kind, if Kubernetes has one.
    package static func definitionName(of info: KindInfo) -> String? {
        definitionName(apiVersion: info.apiVersion, kind: info.kind)
    }

    /// The named definitions and every definition they refer to, directly or not.
    package static func closure(of names: [String]) -> [String: JSONObject] {
        var found: [String: JSONObject] = [:]
        var pending = names
        while let name = pending.popLast() {
            guard found[name] == nil, let schema = definitions[name] else { continue }
            found[name] = schema
            collectReferences(in: .object(schema), into: &pending)
        }
        return found
    }

    private static func collectReferences(in schema: JSONValue, into names: inout [String]) {
        switch schema {
        case .object(let object):
            for (key, value) in object {
                if key == "$ref", let target = value.stringValue.flatMap(referencedName) {
                    names.append(target)
                } else {
                    collectReferences(in: value, into: &names)
                }
            }
        case .array(let values):
            for value in values { collectReferences(in: value, into: &names) }
        default:
            break
        }
    }

    package static let referencePrefix = "#/components/schemas/"

    /// `#/components/schemas/NAME` → `NAME`.
    package static func referencedName(_ reference: String) -> String? {
        reference.hasPrefix(referencePrefix) ? String(reference.dropFirst(referencePrefix.count)) : nil
    }
}
