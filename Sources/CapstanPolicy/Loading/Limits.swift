/// Bounds on what one policy may hold, so that a hostile or runaway policy
/// file is refused when loaded instead of slowing every commit it gates.
enum Limits {
    /// Values (objects, lists, scalars) in one rule's pattern, all anyPattern entries together.
    static let maxPatternValues = 10_000
    /// Characters in one string of a pattern.
    static let maxPatternStringLength = 4096
    /// Conditions in one `any` or `all` list.
    static let maxConditions = 256
}
