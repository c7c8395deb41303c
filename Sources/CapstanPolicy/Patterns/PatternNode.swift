internal import CapstanCore

/// A parsed `validate.pattern`: the shape the object must have.
indirect enum PatternNode: Sendable {
    /// Fields in the order they are evaluated, as Kyverno evaluates them:
    /// anchors first, then fields whose patterns hold anchors (so that a skip
    /// decided deep down wins over a failure in a sibling), then the rest;
    /// each group in the order written.
    case object([PatternEntry])
    /// One pattern for every element (maps and scalars), or element by element (nested arrays).
    case array([PatternNode])
    case scalar(ScalarPattern)

    /// Builds an object pattern with its entries in evaluation order.
    static func object(ordering entries: [PatternEntry]) -> PatternNode {
        let anchored = entries.filter { $0.anchor != nil }
        let plain = entries.filter { $0.anchor == nil }
        return .object(anchored + plain.filter(\.value.containsAnchors) + plain.filter { !$0.value.containsAnchors })
    }

    var containsAnchors: Bool {
        switch self {
        case .object(let entries): entries.contains { $0.anchor != nil || $0.value.containsAnchors }
        case .array(let elements): elements.contains(where: \.containsAnchors)
        case .scalar: false
        }
    }
}

/// A field of an object pattern, with its anchor if it has one.
struct PatternEntry: Sendable {
    var key: String
    var anchor: Anchor?
    var value: PatternNode
    /// A key with wildcards (`app.kubernetes.io/*`), allowed in
    /// `metadata.labels` and `metadata.annotations`: every matching key must
    /// match the value; with none, the field counts as missing.
    var isWildcard: Bool
}

/// Kyverno's anchors, written around a field name in a pattern.
enum Anchor: String, Sendable, CaseIterable {
    /// `(field)`: if the field is missing or does not match, the object (or
    /// array element) it belongs to is skipped instead of failing.
    case condition = "("
    /// `=(field)`: if the field is present, it must match.
    case equality = "=("
    /// `^(field)`: the field is a list, and at least one element must match each pattern given.
    case existence = "^("
    /// `X(field)`: the field must not be present.
    case negation = "X("
    /// `<(field)`: if the field is present and does not match, the whole rule is skipped.
    case global = "<("
}

/// A scalar in a pattern.
enum ScalarPattern: Sendable {
    /// The field must be missing, `null`, or its type's zero value (`""`, `0`, `false`).
    case null
    case bool(Bool)
    case int(Int64)
    case double(Double)
    case string(StringPattern)
    /// A string with `{{ request.object... }}` references, resolved per object.
    case template(Template)
}
