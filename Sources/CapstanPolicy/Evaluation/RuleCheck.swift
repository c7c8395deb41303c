internal import CapstanCore

/// One rule's `validate` applied to one object (or pod template).
struct RuleCheck {
    var rule: Rule
    var object: JSONValue

    /// Why the object fails the rule.
    struct Failure {
        enum Reason {
            /// Pattern failures, one per pattern tried (one for `pattern`, one per `anyPattern` entry).
            case pattern([FieldPath])
            case deny
        }

        var ruleName: String
        var text: String
        var reason: Reason
        /// Relative to the object checked.
        var path: FieldPath

        /// Kyverno's wording, with paths written from the manifest's root:
        /// `prefix` is where the checked object sits in it (a pod template's path, or the root).
        func message(under prefix: FieldPath) -> String {
            var message = "validation error: "
            let text = self.text.hasSuffix(".") ? String(self.text.dropLast()) : self.text
            if !text.isEmpty { message += text + ". " }
            func fullPath(_ path: FieldPath) -> String { Self.kyvernoPath(FieldPath(prefix.components + path.components)) }
            switch reason {
            case .deny:
                message += "rule \(ruleName) failed: its deny conditions hold"
            case .pattern(let paths) where paths.count == 1:
                message += "rule \(ruleName) failed at path \(fullPath(paths[0]))"
            case .pattern(let paths):
                message += paths.enumerated().map { index, path in "rule \(ruleName)[\(index)] failed at path \(fullPath(path))" }
                    .joined(separator: " ")
            }
            return message
        }

        /// `/spec/containers/0/image/`, as Kyverno writes paths.
        static func kyvernoPath(_ path: FieldPath) -> String {
            "/" + path.components.map { component in
                switch component {
                case .field(let name), .key(let name): name + "/"
                case .index(let index): "\(index)/"
                }
            }.joined()
        }
    }

    /// Why the object fails the rule; `nil` when it passes, or when the rule
    /// does not apply (preconditions unmet, pattern skipped by an anchor).
    func failure() -> Failure? {
        if let preconditions = rule.preconditions, preconditions.evaluate(for: object) == nil { return nil }
        let matcher = PatternMatcher(object: object)
        let text = rule.message?.text(for: object) ?? ""
        switch rule.check {
        case .pattern(let pattern):
            guard case .fail(let path) = matcher.match(object, pattern, at: .root) else { return nil }
            return Failure(ruleName: rule.name, text: text, reason: .pattern([path]), path: path)
        case .anyPattern(let patterns):
            var failures: [FieldPath] = []
            for pattern in patterns {
                switch matcher.match(object, pattern, at: .root) {
                case .pass: return nil
                case .skip, .skipRule: continue
                case .fail(let path): failures.append(path)
                }
            }
            // Every pattern skipped: the rule does not apply.
            guard let first = failures.first else { return nil }
            return Failure(ruleName: rule.name, text: text, reason: .pattern(failures), path: first)
        case .deny(let conditions):
            guard let match = conditions.evaluate(for: object) else { return nil }
            return Failure(ruleName: rule.name, text: text, reason: .deny, path: match.path ?? .root)
        }
    }
}
