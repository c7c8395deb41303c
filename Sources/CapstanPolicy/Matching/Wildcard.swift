/// Kyverno's wildcard strings: `*` matches any run of characters (also none),
/// `?` exactly one; everything else matches itself.
enum Wildcard {
    static func containsWildcard(_ pattern: String) -> Bool {
        pattern.contains("*") || pattern.contains("?")
    }

    /// Whether `text` matches `pattern` as a whole.
    ///
    /// Runs in O(pattern × text) at worst: on a mismatch it resumes from the
    /// last `*` instead of backtracking through every earlier one, so hostile
    /// patterns such as `*a*a*a*…b` cannot take exponential time.
    static func matches(_ pattern: String, _ text: String) -> Bool {
        if !containsWildcard(pattern) { return pattern == text }
        // `?` is one character; for ASCII text a byte is one, and cheaper to compare.
        if pattern.utf8.allSatisfy({ $0 < 0x80 }), text.utf8.allSatisfy({ $0 < 0x80 }) {
            return matches(Array(pattern.utf8), Array(text.utf8), star: UInt8(ascii: "*"), one: UInt8(ascii: "?"))
        }
        return matches(Array(pattern.unicodeScalars), Array(text.unicodeScalars), star: "*", one: "?")
    }

    private static func matches<Unit: Equatable>(_ pattern: [Unit], _ text: [Unit], star: Unit, one: Unit) -> Bool {
        var p = 0
        var t = 0
        var lastStar: Int? = nil
        var textAtStar = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == one || pattern[p] == text[t] && pattern[p] != star {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == star {
                lastStar = p
                textAtStar = t
                p += 1
            } else if let starIndex = lastStar {
                p = starIndex + 1
                textAtStar += 1
                t = textAtStar
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == star { p += 1 }
        return p == pattern.count
    }
}
