internal import CapstanCore

/// One `resources` filter: every field given must hold (an absent field holds for everything).
struct ResourceFilter: Sendable {
    var kinds: [KindPattern] = []
    /// `names` and the older single `name`; wildcards allowed.
    var names: [String] = []
    /// Wildcards allowed.
    var namespaces: [String] = []
    var selector: LabelSelector?
    /// Annotation keys to values, values may be wildcards.
    var annotations: [String: String] = [:]

    func matches(_ subject: MatchSubject) -> Bool {
        if !kinds.isEmpty, !kinds.contains(where: { $0.matches(group: subject.group, version: subject.version, kind: subject.kind) }) {
            return false
        }
        if !names.isEmpty, !names.contains(where: { Wildcard.matches($0, subject.name) }) { return false }
        if !namespaces.isEmpty {
            guard let namespace = subject.namespace, namespaces.contains(where: { Wildcard.matches($0, namespace) }) else { return false }
        }
        if let selector, !selector.matches(subject.labels) { return false }
        for (key, pattern) in annotations {
            guard let value = subject.annotations[key], Wildcard.matches(pattern, value) else { return false }
        }
        return true
    }
}

/// A rule's `match` or `exclude`: `any` (one filter must hold) or `all`
/// (every filter must hold). The older form with `resources` directly under
/// `match` is one filter.
struct ResourceMatch: Sendable {
    enum Mode: Sendable {
        case any
        case all
    }

    var mode: Mode
    var filters: [ResourceFilter]

    func matches(_ subject: MatchSubject) -> Bool {
        switch mode {
        case .any: filters.contains { $0.matches(subject) }
        case .all: filters.allSatisfy { $0.matches(subject) }
        }
    }

    /// Whether every kind this names is the Pod kind: such rules also check
    /// the pod templates of controllers (Kyverno's autogen does the same).
    var selectsOnlyPods: Bool {
        let kinds = filters.flatMap(\.kinds)
        return !kinds.isEmpty && kinds.allSatisfy(\.isPod)
    }
}
