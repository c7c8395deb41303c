public import CapstanCore
import OrderedCollections

/// `requiredDuringSchedulingIgnoredDuringExecution` of node affinity: the node
/// must match at least one term.
public struct NodeSelectorTerms: Sendable, Hashable {
    public var terms: [NodeSelectorTerm]

    init(_ json: JSONValue, problems: inout [String]) {
        terms = (json["nodeSelectorTerms"]?.arrayValue ?? []).map { NodeSelectorTerm($0, problems: &problems) }
    }

    public init(terms: [NodeSelectorTerm]) { self.terms = terms }

    /// No terms select no node, as in Kubernetes.
    public func matches(name: String, labels: [String: String]) -> Bool {
        terms.contains { $0.matches(name: name, labels: labels) }
    }
}

/// One node selector term: all its `matchExpressions` (on labels) and
/// `matchFields` (on `metadata.name`) must hold. An empty term matches nothing.
public struct NodeSelectorTerm: Sendable, Hashable {
    public var expressions: [LabelSelector.Requirement]
    public var fields: [LabelSelector.Requirement]

    public init(expressions: [LabelSelector.Requirement] = [], fields: [LabelSelector.Requirement] = []) {
        self.expressions = expressions
        self.fields = fields
    }

    init(_ json: JSONValue, problems: inout [String]) {
        expressions = Self.requirements(json["matchExpressions"], problems: &problems)
        fields = Self.requirements(json["matchFields"], problems: &problems)
        for field in fields where field.key != "metadata.name" {
            problems.append("node affinity matchFields supports only metadata.name, not \(field.key)")
        }
    }

    public func matches(name: String, labels: [String: String]) -> Bool {
        guard !expressions.isEmpty || !fields.isEmpty else { return false }
        for requirement in expressions where !requirement.matches(labels) { return false }
        for requirement in fields where !requirement.matches(["metadata.name": name]) { return false }
        return true
    }

    /// Node selector operators: `In`, `NotIn`, `Exists`, `DoesNotExist`, `Gt`, `Lt`.
    static func requirements(_ json: JSONValue?, problems: inout [String]) -> [LabelSelector.Requirement] {
        (json?.arrayValue ?? []).compactMap { expression in
            let key = expression["key"]?.stringValue ?? ""
            let values = expression["values"]?.arrayValue?.compactMap(\.stringValue) ?? []
            let op: LabelSelector.Operator
            switch expression["operator"]?.stringValue ?? "" {
            case "In": op = .in
            case "NotIn": op = .notIn
            case "Exists": op = .exists
            case "DoesNotExist": op = .doesNotExist
            case "Gt": op = .greaterThan
            case "Lt": op = .lessThan
            case let other:
                problems.append("node selector operator \"\(other)\" is not one of In, NotIn, Exists, DoesNotExist, Gt, Lt")
                return nil
            }
            if op == .greaterThan || op == .lessThan, values.count != 1 || Int64(values[0]) == nil {
                problems.append("node selector operator \(op == .greaterThan ? "Gt" : "Lt") on \(key) needs exactly one integer value")
                return nil
            }
            return LabelSelector.Requirement(key: key, operator: op, values: values)
        }
    }
}

/// A pod (anti-)affinity term: pods matching `selector` in `namespaces`
/// (nil for every namespace), grouped by the node label `topologyKey`.
public struct PodAffinityTerm: Sendable, Hashable {
    public var selector: LabelSelector
    public var namespaces: Set<String>?
    public var topologyKey: String

    public init(selector: LabelSelector, namespaces: Set<String>?, topologyKey: String) {
        self.selector = selector
        self.namespaces = namespaces
        self.topologyKey = topologyKey
    }

    /// `namespaceSelector: {}` selects every namespace; a non-empty
    /// namespaceSelector needs namespace labels, which the scheduler does not
    /// watch yet, so it is refused (reported) rather than guessed.
    init?(_ json: JSONValue, ownNamespace: String, problems: inout [String]) {
        topologyKey = json["topologyKey"]?.stringValue ?? ""
        if topologyKey.isEmpty {
            problems.append("a pod affinity term needs a topologyKey")
            return nil
        }
        if let selectorJSON = json["labelSelector"]?.objectValue {
            guard let selector = LabelSelectorSpec(json: selectorJSON).selector else {
                problems.append("a pod affinity labelSelector uses an unknown operator")
                return nil
            }
            self.selector = selector
        } else {
            // No selector matches no pods.
            self.selector = LabelSelector(requirements: [LabelSelector.Requirement(key: "", operator: .in, values: [])])
        }
        let listed = Set(json["namespaces"]?.arrayValue?.compactMap(\.stringValue) ?? [])
        if let namespaceSelector = json["namespaceSelector"]?.objectValue {
            if namespaceSelector.isEmpty || LabelSelectorSpec(json: namespaceSelector).selector?.selectsEverything == true {
                namespaces = nil
            } else {
                problems.append("pod affinity namespaceSelector with labels is not supported yet")
                return nil
            }
        } else {
            namespaces = listed.isEmpty ? [ownNamespace] : listed
        }
    }

    func matches(namespace: String, labels: [String: String]) -> Bool {
        (namespaces?.contains(namespace) ?? true) && selector.matches(labels)
    }

    func matches(_ pod: PodInfo) -> Bool { matches(namespace: pod.namespace, labels: pod.labels) }
}

/// A `topologySpreadConstraints` entry.
public struct SpreadConstraint: Sendable, Hashable {
    public var maxSkew: Int
    public var topologyKey: String
    /// `DoNotSchedule` (a filter) or `ScheduleAnyway` (a score).
    public var hard: Bool
    public var selector: LabelSelector
    public var namespace: String

    public init(maxSkew: Int, topologyKey: String, hard: Bool, selector: LabelSelector, namespace: String) {
        self.maxSkew = maxSkew
        self.topologyKey = topologyKey
        self.hard = hard
        self.selector = selector
        self.namespace = namespace
    }

    init?(_ json: JSONValue, ownNamespace: String, labels: [String: String], problems: inout [String]) {
        maxSkew = Int(json["maxSkew"]?.intValue ?? 1)
        topologyKey = json["topologyKey"]?.stringValue ?? ""
        hard = (json["whenUnsatisfiable"]?.stringValue ?? "DoNotSchedule") == "DoNotSchedule"
        namespace = ownNamespace
        guard !topologyKey.isEmpty, maxSkew > 0 else {
            problems.append("a topology spread constraint needs a topologyKey and a maxSkew above 0")
            return nil
        }
        guard
            var selector = json["labelSelector"]?.objectValue.map({ LabelSelectorSpec(json: $0).selector })
                ?? LabelSelector(requirements: [LabelSelector.Requirement(key: "", operator: .in)])
        else {
            problems.append("a topology spread labelSelector uses an unknown operator")
            return nil
        }
        // matchLabelKeys: the pod's own values for these keys narrow the selector.
        for key in json["matchLabelKeys"]?.arrayValue?.compactMap(\.stringValue) ?? [] {
            if let value = labels[key] { selector.requirements.append(LabelSelector.Requirement(key: key, operator: .in, values: [value])) }
        }
        self.selector = selector
    }
}
