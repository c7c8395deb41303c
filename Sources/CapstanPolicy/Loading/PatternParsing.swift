internal import CapstanCore
import OrderedCollections

extension PolicyParser {
    /// Parses a `validate.pattern` (or one `anyPattern` entry), checking
    /// anchors, operators and references before any object is seen.
    mutating func parsePattern(_ value: JSONValue, _ path: FieldPath) -> PatternNode? {
        guard case .object = value else {
            reader.report(path, "must be an object, not \(value.typeName)")
            return nil
        }
        var budget = Limits.maxPatternValues
        let errorsBefore = errors.count
        let node = patternNode(value, path, .root, &budget)
        if budget < 0 {
            reader.report(path, "pattern has more than \(Limits.maxPatternValues) values; split it into several rules")
            return nil
        }
        return errors.count == errorsBefore ? node : nil
    }

    /// Where a pattern object sits: wildcard keys are allowed only in
    /// `metadata.labels` and `metadata.annotations`, as in Kyverno.
    private enum Location {
        case root, metadata, labelsOrAnnotations, elsewhere

        func child(_ name: String) -> Location {
            switch (self, name) {
            case (.root, "metadata"): .metadata
            case (.metadata, "labels"), (.metadata, "annotations"): .labelsOrAnnotations
            default: .elsewhere
            }
        }
    }

    private mutating func patternNode(_ value: JSONValue, _ path: FieldPath, _ location: Location, _ budget: inout Int) -> PatternNode? {
        budget -= 1
        guard budget >= 0 else { return nil }
        switch value {
        case .object(let fields):
            var entries: [PatternEntry] = []
            for (key, field) in fields {
                let fieldPath = path.child(key)
                let wildcardsAllowed = location == .labelsOrAnnotations
                guard let (anchor, name) = parseKey(key, fieldPath, wildcardsAllowed: wildcardsAllowed) else { continue }
                let isWildcard = wildcardsAllowed && Wildcard.containsWildcard(name)
                if anchor == .negation {
                    // Only the field's absence matters; its value is not looked at.
                    entries.append(PatternEntry(key: name, anchor: anchor, value: .scalar(.null), isWildcard: isWildcard))
                    continue
                }
                if anchor == .existence, !isListOfObjects(field) {
                    reader.report(fieldPath, "an existence anchor ^(...) needs a list of object patterns")
                    continue
                }
                guard let node = patternNode(field, fieldPath, location.child(name), &budget) else { continue }
                entries.append(PatternEntry(key: name, anchor: anchor, value: node, isWildcard: isWildcard))
            }
            return .object(ordering: entries)
        case .array(let elements):
            guard let first = elements.first else {
                reader.report(path, "an empty list pattern matches nothing; remove it or give the pattern every element must match")
                return nil
            }
            if elements.count > 1, first.arrayValue == nil {
                reader.report(path, "a list pattern applies its one element to every element of the list; it has \(elements.count)")
                return nil
            }
            var nodes: [PatternNode] = []
            for (index, element) in elements.enumerated() {
                guard let node = patternNode(element, path.index(index), .elsewhere, &budget) else { return nil }
                nodes.append(node)
            }
            return .array(nodes)
        case .null: return .scalar(.null)
        case .bool(let flag): return .scalar(.bool(flag))
        case .int(let number): return .scalar(.int(number))
        case .double(let number): return .scalar(.double(number))
        case .string(let text):
            guard text.count <= Limits.maxPatternStringLength else {
                reader.report(path, "pattern string is \(text.count) characters; at most \(Limits.maxPatternStringLength) are allowed")
                return nil
            }
            do {
                if text.contains("{{") {
                    let template = try Template(parsing: text, allowsElement: allowsElementReferences)
                    if template.hasReferences { return .scalar(.template(template)) }
                }
                return .scalar(.string(try StringPattern(parsing: text)))
            } catch {
                reader.report(path, error)
                return nil
            }
        }
    }

    /// Splits a pattern key into its anchor and field name.
    private mutating func parseKey(_ key: String, _ path: FieldPath, wildcardsAllowed: Bool) -> (Anchor?, String)? {
        if key.hasPrefix("+(") {
            reader.report(path, "not supported: add-if-not-present anchors +(...) belong to mutate rules")
            return nil
        }
        // Longest prefix first: "(" is also the start of "=(" and the others.
        for anchor in [Anchor.equality, .existence, .negation, .global, .condition] where key.hasPrefix(anchor.rawValue) {
            guard key.hasSuffix(")"), key.count > anchor.rawValue.count + 1 else {
                reader.report(path, "malformed anchor \"\(key)\": expected \(anchor.rawValue)field)")
                return nil
            }
            let name = String(key.dropFirst(anchor.rawValue.count).dropLast())
            // Kyverno matches annotation keys by wildcard in equality and negation anchors too
            // (`=(container.apparmor.security.beta.kubernetes.io/*)`).
            let anchorWildcards = wildcardsAllowed && (anchor == .equality || anchor == .negation)
            guard checkFieldName(name, key, path, wildcardsAllowed: anchorWildcards) else { return nil }
            return (anchor, name)
        }
        guard checkFieldName(key, key, path, wildcardsAllowed: wildcardsAllowed) else { return nil }
        return (nil, key)
    }

    private mutating func checkFieldName(_ name: String, _ key: String, _ path: FieldPath, wildcardsAllowed: Bool) -> Bool {
        if name.contains("{{") {
            reader.report(path, "not supported: references in pattern keys (\"\(key)\")")
            return false
        }
        if name.contains("(") || name.contains(")") {
            reader.report(path, "not supported: nested anchors in pattern keys (\"\(key)\")")
            return false
        }
        if Wildcard.containsWildcard(name), !wildcardsAllowed {
            reader.report(
                path,
                "not supported: wildcards in pattern keys other than plain, =() and X() keys of metadata.labels and metadata.annotations (\"\(key)\")"
            )
            return false
        }
        return true
    }

    private func isListOfObjects(_ value: JSONValue) -> Bool {
        guard let elements = value.arrayValue, !elements.isEmpty else { return false }
        return elements.allSatisfy { $0.objectValue != nil }
    }
}
