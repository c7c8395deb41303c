/// Why a CEL rule did not compile or did not evaluate. Messages read like the Kubernetes
/// API server's (`no such key: tls`, `found no matching overload for '_+_' applied to '(int, string)'`).
package enum CELError: Error, Hashable, Sendable, CustomStringConvertible {
    /// The source is not CEL; `column` is the 0-based offset (in Unicode scalars) where reading stopped.
    case syntax(String, column: Int)
    /// Valid CEL outside the subset Capstan evaluates, naming the construct.
    case unsupported(String)
    /// An identifier or function the rule's environment does not declare.
    case undeclaredReference(String, column: Int)
    /// A map key or object field that is absent.
    case noSuchKey(String)
    /// A list index outside the list.
    case indexOutOfRange(index: Int64, size: Int)
    /// An operator or function applied to operands of types it has no overload for.
    case typeMismatch(String)
    /// Integer arithmetic or a conversion left the range of its type.
    case overflow(String)
    case divisionByZero
    case moduloByZero
    /// An argument of the right type with a value the function refuses (a bad regular expression, duration or number text).
    case invalidArgument(String)
    /// The rule reads `oldSelf` and no old value was given.
    case unboundVariable(String)
    /// Evaluation took more than its step budget.
    case costExceeded

    package var description: String {
        switch self {
        case .syntax(let message, let column): "syntax error at column \(column): \(message)"
        case .unsupported(let construct): "unsupported CEL construct: \(construct)"
        case .undeclaredReference(let name, let column): "undeclared reference to '\(name)' at column \(column)"
        case .noSuchKey(let key): "no such key: \(key)"
        case .indexOutOfRange(let index, let size): "index out of range: \(index) (list size \(size))"
        case .typeMismatch(let message): message
        case .overflow(let message): message
        case .divisionByZero: "division by zero"
        case .moduloByZero: "modulus by zero"
        case .invalidArgument(let message): message
        case .unboundVariable(let name): "no value bound to '\(name)'"
        case .costExceeded: "operation cancelled: actual cost limit exceeded"
        }
    }
}
