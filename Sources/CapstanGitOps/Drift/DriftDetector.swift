package import CapstanCore
import Foundation
import OrderedCollections

/// One field where the cluster differs from git.
package struct FieldDifference: Hashable, Sendable, Codable {
    /// Readable path: `spec.template.spec.containers[name=web].image`.
    package var path: String
    /// JSON pointer of the same field, as ignore rules name it.
    package var pointer: String
    package var desired: JSONValue?
    package var live: JSONValue?
    /// The field manager that last set the live value, from `managedFields`.
    package var changedBy: String?
    package var changedAt: String?

    /// The one "difference" of an object the cluster lacks.
    static let missingObject = FieldDifference(path: "", pointer: "", desired: nil, live: nil, changedBy: nil, changedAt: nil)

    /// `desired` and `live` are `null` when unset; `changedBy` and `changedAt` are left out.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(path, forKey: .path)
        try container.encode(pointer, forKey: .pointer)
        try container.encode(desired, forKey: .desired)
        try container.encode(live, forKey: .live)
        try container.encodeIfPresent(changedBy, forKey: .changedBy)
        try container.encodeIfPresent(changedAt, forKey: .changedAt)
    }
}

/// Compares a live object with the one git describes — only the fields git
/// sets, so server defaults (`spec.strategy`, `status`, `uid`…) and fields
/// other tools add are never drift.
package struct DriftDetector: Sendable {
    /// JSON pointers to leave alone (the repository's `ignoreDifferences`).
    package var ignoredPointers: [String]

    package init(ignoredPointers: [String] = []) {
        self.ignoredPointers = ignoredPointers
    }

    /// The differences; empty when the live object holds every field of `desired` with git's value.
    /// A Secret's `data` and `stringData` values are masked (``SecretMask``): the
    /// differences name the keys that differ, never their values.
    ///
    /// A Secret's `stringData` is compared as the API server stores it, folded
    /// into base64 `data` (``SecretStringData``): the live object never holds
    /// `stringData`, so comparing it as written would report drift forever.
    package func differences(desired: JSONValue, live: JSONValue?) -> [FieldDifference] {
        guard let live else {
            return [.missingObject]
        }
        let desired = SecretMask.isSecret(desired) ? SecretStringData.folded(desired) : desired
        let kind = desired["kind"]?.stringValue ?? ""
        var found: [Found] = []
        for (key, value) in desired.objectValue ?? [:] where !["apiVersion", "kind", "status"].contains(key) {
            if key == "metadata" {
                for field in ["labels", "annotations"] {
                    guard let wanted = value[field] else { continue }
                    compare(wanted, live[path: ["metadata", field]], at: [.field("metadata"), .field(field)], kind: kind, into: &found)
                }
                continue
            }
            compare(value, live[key], at: [.field(key)], kind: kind, into: &found)
        }
        if SecretMask.isSecret(desired) { found = found.map(SecretMask.mask) }
        let managers = (try? ManagedFieldsEntry.entries(of: live)) ?? []
        return found.map { found in
            let owner = managers.last { $0.manager != "capstan-gitops" && $0.fields.contains(found.fieldSetPath) }
            return FieldDifference(
                path: found.readable, pointer: found.pointer, desired: found.desired, live: found.live, changedBy: owner?.manager,
                changedAt: owner?.time)
        }
    }

    enum Step {
        case field(String)
        case keyed([(String, JSONValue)])
        case index(Int)
    }

    struct Found {
        var steps: [Step]
        var desired: JSONValue?
        var live: JSONValue?

        var readable: String {
            var text = ""
            for step in steps {
                switch step {
                case .field(let name): text += text.isEmpty ? name : "." + name
                case .index(let index): text += "[\(index)]"
                case .keyed(let keys):
                    text += "[" + keys.map { "\($0.0)=\($0.1.stringValue ?? JSONSerializer.string($0.1))" }.joined(separator: ",") + "]"
                }
            }
            return text
        }

        var pointer: String {
            steps.map { step -> String in
                switch step {
                case .field(let name): "/" + name.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
                case .index(let index): "/\(index)"
                case .keyed(let keys): "/" + keys.map { $0.1.stringValue ?? JSONSerializer.string($0.1) }.joined(separator: ",")
                }
            }.joined()
        }

        var fieldSetPath: [FieldSet.Element] {
            steps.compactMap { step in
                switch step {
                case .field(let name): .field(name)
                case .keyed(let keys): .key(keys.map { FieldSet.Element.KeyField(name: $0.0, value: $0.1) }.sorted())
                case .index: nil
                }
            }
        }
    }

    /// The schema path MergeSchema uses: field names joined by dots, list positions left out.
    private func schemaPath(_ steps: [Step]) -> String {
        steps.compactMap { if case .field(let name) = $0 { name } else { nil } }.joined(separator: ".")
    }

    private func ignored(_ steps: [Step]) -> Bool {
        let pointer = Found(steps: steps).pointer
        return ignoredPointers.contains { pointer == $0 || pointer.hasPrefix($0 + "/") }
    }

    private func compare(_ desired: JSONValue, _ live: JSONValue?, at steps: [Step], kind: String, into found: inout [Found]) {
        if ignored(steps) { return }
        switch desired {
        case .object(let fields):
            guard case .object = live else {
                if !(fields.isEmpty && live == nil) { found.append(Found(steps: steps, desired: desired, live: live)) }
                return
            }
            for (key, value) in fields { compare(value, live?[key], at: steps + [.field(key)], kind: kind, into: &found) }
        case .array(let elements):
            guard case .array(let liveElements) = live else {
                if !(elements.isEmpty && live == nil) { found.append(Found(steps: steps, desired: desired, live: live)) }
                return
            }
            if case .map(let keys) = MergeSchema.listType(kind: kind, path: schemaPath(steps)),
                elements.allSatisfy({ element in keys.contains { element[$0] != nil } })
            {
                for element in elements {
                    let key = keys.compactMap { name in element[name].map { (name, $0) } }
                    let match = liveElements.first { candidate in key.allSatisfy { candidate[$0.0] == $0.1 } }
                    guard let match else {
                        found.append(Found(steps: steps + [.keyed(key)], desired: element, live: nil))
                        continue
                    }
                    compare(element, match, at: steps + [.keyed(key)], kind: kind, into: &found)
                }
            } else if elements.count != liveElements.count {
                found.append(Found(steps: steps, desired: desired, live: live))
            } else {
                for (index, element) in elements.enumerated() {
                    compare(element, liveElements[index], at: steps + [.index(index)], kind: kind, into: &found)
                }
            }
        default:
            if !Self.sameScalar(desired, live) { found.append(Found(steps: steps, desired: desired, live: live)) }
        }
    }

    /// Scalars as the API would store them: 1 and 1.0 are the same number;
    /// `null` in git means "unset".
    static func sameScalar(_ desired: JSONValue, _ live: JSONValue?) -> Bool {
        switch (desired, live) {
        case (.null, nil), (.null, .null?): return true
        case (.int(let a), .double(let b)?): return Double(a) == b
        case (.double(let a), .int(let b)?): return a == Double(b)
        default: return desired == live
        }
    }
}

extension DriftDetector.Found {
    init(steps: [DriftDetector.Step]) { self.init(steps: steps, desired: nil, live: nil) }
}
