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
        let pattern = Array(pattern.unicodeScalars)
        let text = Array(text.unicodeScalars)
        var p = 0
        var t = 0
        var lastStar: Int? = nil
        var textAtStar = 0
        while t < text.count {
            if p < pattern.count, pattern[p] == "?" || pattern[p] == text[t] && pattern[p] != "*" {
                p += 1
                t += 1
            } else if p < pattern.count, pattern[p] == "*" {
                lastStar = p
                textAtStar = t
                p += 1
            } else if let star = lastStar {
                p = star + 1
                textAtStar += 1
                t = textAtStar
            } else {
                return false
            }
        }
        while p < pattern.count, pattern[p] == "*" { p += 1 }
        return p == pattern.count
    }
}
