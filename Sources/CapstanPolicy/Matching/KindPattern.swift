/// One entry of a filter's `kinds`: `Pod`, `v1/Pod` or `apps/v1/Deployment`,
/// each part possibly a wildcard (`*`, `apps/*/Deployment`).
struct KindPattern: Hashable, Sendable {
    var group: String
    var version: String
    var kind: String

    /// Parses Kyverno's forms: `Kind`, `Version/Kind` (any group) and `Group/Version/Kind`.
    init(parsing text: String) throws(PolicyIssue) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !parts.contains(where: \.isEmpty) else {
            throw PolicyIssue("kind \"\(text)\" is not of the form Kind, Version/Kind or Group/Version/Kind")
        }
        switch parts.count {
        case 1: (group, version, kind) = ("*", "*", parts[0])
        case 2:
            guard parts[1].first?.isUppercase ?? false || parts[1] == "*" else {
                throw PolicyIssue("kind \"\(text)\" names a subresource; subresources are not supported")
            }
            (group, version, kind) = ("*", parts[0], parts[1])
        case 3: (group, version, kind) = (parts[0], parts[1], parts[2])
        default:
            throw PolicyIssue("kind \"\(text)\" is not of the form Kind, Version/Kind or Group/Version/Kind")
        }
    }

    func matches(group: String, version: String, kind: String) -> Bool {
        Wildcard.matches(self.kind, kind) && Wildcard.matches(self.version, version) && Wildcard.matches(self.group, group)
    }

    /// Whether this names the core Pod kind itself (not a wildcard that happens to cover it).
    var isPod: Bool {
        kind == "Pod" && (group == "*" || group == "") && (version == "*" || version == "v1")
    }
}
