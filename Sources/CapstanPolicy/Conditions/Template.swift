internal import CapstanCore

/// A policy string that may hold `{{ request.object... }}` references, and
/// inside `foreach` `{{ element... }}` ones (messages, deny condition keys and
/// values, pattern values).
struct Template: Hashable, Sendable {
    enum Part: Hashable, Sendable {
        case text(String)
        case reference(ObjectReference)
    }

    var parts: [Part]

    /// Splits `text` at `{{ }}`; refuses references other than `request.object`
    /// paths, and `element` paths when `allowsElement` (inside `foreach`).
    init(parsing text: String, allowsElement: Bool = false) throws(PolicyIssue) {
        var parts: [Part] = []
        var rest = Substring(text)
        while let open = rest.firstRange(of: "{{") {
            guard let close = rest[open.upperBound...].firstRange(of: "}}") else {
                throw PolicyIssue("\"{{\" without a closing \"}}\"")
            }
            if open.lowerBound > rest.startIndex { parts.append(.text(String(rest[..<open.lowerBound]))) }
            parts.append(.reference(try ObjectReference(parsing: String(rest[open.upperBound..<close.lowerBound]), allowsElement: allowsElement)))
            rest = rest[close.upperBound...]
        }
        if !rest.isEmpty || parts.isEmpty { parts.append(.text(String(rest))) }
        self.parts = parts
    }

    var hasReferences: Bool {
        parts.contains { if case .reference = $0 { true } else { false } }
    }

    /// A string that is one reference and nothing else becomes the value it
    /// refers to (an array stays an array, a missing field is `null`); any
    /// other string becomes text with each reference written in.
    func value(for variables: Variables) -> JSONValue {
        if parts.count == 1, case .reference(let reference) = parts[0] {
            return reference.resolve(in: variables) ?? .null
        }
        return .string(text(for: variables))
    }

    /// The text with each reference written in: strings as they are, other
    /// values as JSON, a missing field as `null`.
    func text(for variables: Variables) -> String {
        var result = ""
        for part in parts {
            switch part {
            case .text(let text): result += text
            case .reference(let reference):
                switch reference.resolve(in: variables) {
                case .string(let text)?: result += text
                case let value?: result += value.description
                case nil: result += "null"
                }
            }
        }
        return result
    }

    /// The first reference, to point at when a condition using it fails.
    var firstReference: ObjectReference? {
        for part in parts { if case .reference(let reference) = part { return reference } }
        return nil
    }
}
