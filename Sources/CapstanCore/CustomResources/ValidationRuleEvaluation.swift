import Foundation
import Synchronization

/// Runs a schema node's `x-kubernetes-validations` with ``CELProgram``, as
/// kube-apiserver does on every write of a custom resource: a rule that
/// evaluates to false is an error at its node (or its `fieldPath`) with its
/// message; a transition rule (one using `oldSelf`) runs only when there is
/// an old value, unless `optionalOldSelf` asks otherwise.
package enum ValidationRuleEvaluation {
    /// The hook ``StructuralSchema/validate(_:old:rules:)`` takes.
    package static let hook: RuleHook = { rules, value, old, path in
        rules.flatMap { errors(of: $0, value: value, old: old, path: path) }
    }

    /// Each rule is compiled once per process: definitions change rarely, objects often.
    private static let compiled = Mutex<[String: CELProgram]>([:])

    private static func program(_ source: String) throws(CELError) -> CELProgram {
        if let cached = compiled.withLock({ $0[source] }) { return cached }
        let program = try CELProgram(source)
        compiled.withLock { cache in
            // Bounded: a server with many definitions recompiles rather than growing without end.
            if cache.count > 4096 { cache.removeAll() }
            cache[source] = program
        }
        return program
    }

    static func errors(of rule: ValidationRule, value: JSONValue, old: JSONValue?, path: FieldPath) -> [FieldError] {
        if rule.isTransitionRule, old == nil, !rule.optionalOldSelf { return [] }
        let at =
            rule.fieldPath.map { FieldPath(path.components + FieldPath(parsing: $0.hasPrefix(".") ? String($0.dropFirst()) : $0).components) } ?? path
        let shown = JSONValue.string(value.typeName)
        do {
            let result = try program(rule.rule).evaluate(self: value, oldSelf: old)
            guard case .bool(let passed) = result else {
                return [.invalid(at, shown, "rule evaluated to \(result), not a boolean: \(rule.rule)")]
            }
            if passed { return [] }
            return [failure(rule, at: at, shown: shown, value: value, old: old)]
        } catch {
            return [.invalid(at, shown, "\(error) evaluating rule: \(rule.rule)")]
        }
    }

    private static func failure(_ rule: ValidationRule, at path: FieldPath, shown: JSONValue, value: JSONValue, old: JSONValue?) -> FieldError {
        var message = rule.message ?? "failed rule: \(rule.rule)"
        if let expression = rule.messageExpression, case .string(let text)? = try? program(expression).evaluate(self: value, oldSelf: old),
            !text.trimmingCharacters(in: .whitespaces).isEmpty, !text.contains("\n")
        {
            message = text
        }
        switch rule.reason {
        case "FieldValueForbidden": return .forbidden(path, message)
        case "FieldValueRequired": return .required(path, message)
        case "FieldValueDuplicate": return FieldError(.duplicate, path, value: shown, message)
        default: return .invalid(path, shown, message)
        }
    }
}
