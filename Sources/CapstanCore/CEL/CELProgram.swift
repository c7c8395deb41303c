/// A compiled CEL rule, as a CustomResourceDefinition's `x-kubernetes-validations` carries.
///
/// The subset Capstan evaluates:
/// - literals: `int`, `uint` (`1u`), `double`, strings in every quoting (`'…'`, `"…"`, `'''…'''`,
///   raw `r'…'`, escapes), bytes (`b'…'`), `true`/`false`, `null`, lists `[…]`, maps `{k: v}`;
/// - operators with CEL's precedence: `?:`, `||`, `&&` (commutative: an error on one side is
///   absorbed when the other decides), `== != < <= > >=`, `in`, `+ - * / %`, unary `! -`,
///   `.field`, `[index]`, calls; numbers compare across `int`/`uint`/`double`, but arithmetic never mixes them;
/// - macros: `has(x.f)`, `all`, `exists`, `exists_one`, `map` (2 and 3 arguments), `filter`;
/// - functions: `size`; strings' `startsWith endsWith contains matches` (RE2 syntax, linear time),
///   `lowerAscii upperAscii trim split join indexOf lastIndexOf replace substring charAt`;
///   conversions `int uint double string bool bytes dyn type`; `duration('1h30m')`,
///   `timestamp('2024-01-01T00:00:00Z')` with comparison and arithmetic; the Kubernetes list
///   library's `isSorted sum min max indexOf lastIndexOf`;
/// - `self`, and `oldSelf` for transition rules;
/// - Kubernetes' escaping of property names: `self.__namespace__` reads `namespace`,
///   `self.x__dash__y` reads `x-y` (also `__dot__`, `__slash__`, `__underscores__`).
///
/// The `url`, `quantity`, `ip`, `cidr`, `format`, `semver`, `sets` and optional-value libraries are
/// refused with ``CELError/unsupported(_:)``. Integer overflow, division by zero, a missing key
/// and an index out of range are errors, never crashes.
package struct CELProgram: Sendable {
    private let expression: CELExpr

    /// Whether the rule mentions `oldSelf` (a transition rule: skipped on create).
    package let usesOldSelf: Bool

    /// Parses and checks `source`. Throws ``CELError/syntax(_:column:)`` with a 0-based column for
    /// syntax errors, ``CELError/unsupported(_:)`` naming the construct for valid CEL outside the
    /// subset, and ``CELError/undeclaredReference(_:column:)`` for an unknown variable or function.
    package init(_ source: String) throws(CELError) {
        expression = try CELParser.parse(source)
        var checker = CELChecker()
        try checker.check(expression, scope: [])
        usesOldSelf = checker.usesOldSelf
    }

    /// Evaluates with `self` (and `oldSelf` when given) bound.
    ///
    /// Bounded: every expression node visited, element compared or character scanned costs a
    /// step, and evaluation stops with ``CELError/costExceeded`` past `maxSteps`, so a hostile
    /// rule over a large list can't hang the server.
    package func evaluate(self value: JSONValue, oldSelf: JSONValue?, maxSteps: Int = 1_000_000) throws(CELError) -> CELValue {
        var evaluator = CELEvaluator(self: CELValue(value), oldSelf: oldSelf.map(CELValue.init), maxSteps: maxSteps)
        return try evaluator.evaluate(expression)
    }
}
