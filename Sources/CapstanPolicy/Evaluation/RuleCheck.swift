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
            /// Deny conditions held; inside `foreach`, for the element at the path given.
            case deny(element: FieldPath?)
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
            case .deny(let element?):
                message += "rule \(ruleName) failed: its deny conditions hold for \(fullPath(element))"
            case .deny(nil):
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
            "/"
                + path.components.map { component in
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
        let variables = Variables(object: object)
        if let preconditions = rule.preconditions, preconditions.evaluate(for: variables) == nil { return nil }
        let text = rule.message?.text(for: variables) ?? ""
        let target = LocatedValue(value: object, path: .root)
        switch rule.check {
        case .pattern, .anyPattern, .deny:
            guard case .failed(let reason, let path)? = check(rule.check, on: target, variables) else { return nil }
            return Failure(ruleName: rule.name, text: text, reason: reason, path: path)
        case .foreach(let loops):
            for loop in loops {
                switch checkEach(loop) {
                case .failed(let reason, let path)?: return Failure(ruleName: rule.name, text: text, reason: reason, path: path)
                case .notApplicable?: return nil
                case nil: continue
                }
            }
            return nil
        }
    }

    /// How one check ended when it did not pass.
    private enum Outcome {
        case failed(Failure.Reason, FieldPath)
        /// A global anchor did not hold: the rule does not apply to the object.
        case notApplicable
    }

    /// A `pattern`, `anyPattern` or `deny` check of `target` (the object, or a
    /// `foreach` element); `nil` when it passes or is skipped.
    private func check(_ check: Rule.Check, on target: LocatedValue, _ variables: Variables) -> Outcome? {
        let matcher = PatternMatcher(variables: variables)
        let base = target.path ?? .root
        switch check {
        case .pattern(let pattern):
            switch matcher.match(target.value, pattern, at: base) {
            case .pass, .skip: return nil
            case .skipRule: return .notApplicable
            case .fail(let path): return .failed(.pattern([path]), path)
            }
        case .anyPattern(let patterns):
            var failures: [FieldPath] = []
            for pattern in patterns {
                switch matcher.match(target.value, pattern, at: base) {
                case .pass: return nil
                case .skip, .skipRule: continue
                case .fail(let path): failures.append(path)
                }
            }
            // Every pattern skipped: the rule does not apply.
            guard let first = failures.first else { return nil }
            return .failed(.pattern(failures), first)
        case .deny(let conditions):
            guard let match = conditions.evaluate(for: variables) else { return nil }
            let element = variables.element.map { $0.path ?? .root }
            return .failed(.deny(element: element), match.path ?? element ?? .root)
        case .foreach:
            return nil  // refused when loading: foreach does not nest
        }
    }

    /// A `foreach` entry: its check on every element of its list, in order; the first failure decides.
    private func checkEach(_ loop: ForEach) -> Outcome? {
        let root = Variables(object: object)
        // A list that is missing or null has no elements to check; a single value is one element.
        guard let list = loop.list.locate(in: root), !list.value.isNull else { return nil }
        for element in list.elements ?? [list] {
            let variables = Variables(object: object, element: element)
            if let preconditions = loop.preconditions, preconditions.evaluate(for: variables) == nil { continue }
            let target = loop.elementScope ? element : LocatedValue(value: object, path: .root)
            if let outcome = check(loop.check, on: target, variables) { return outcome }
        }
        return nil
    }
}
