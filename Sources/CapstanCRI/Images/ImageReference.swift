/// A parsed image reference, normalised the way Docker and containerd do it:
/// `busybox` → `docker.io/library/busybox:latest`, `localhost/app` → `localhost/app:latest`.
package struct ImageReference: Hashable, Sendable, CustomStringConvertible {
    /// Registry host (with port), e.g. `docker.io`, `127.0.0.1:5000`, `[::1]:5000`, `localhost`.
    package var registry: String
    /// Repository path inside the registry, e.g. `library/busybox`.
    package var repository: String
    /// Tag, when the reference names one (`latest` is implied without tag or digest).
    package var tag: String?
    /// Digest, when the reference pins one.
    package var digest: Digest?

    /// Parses `text`; returns nil when it is not a valid reference.
    package init?(_ text: String) {
        guard !text.isEmpty, text.count <= 4096, !text.contains(where: \.isWhitespace)
        else { return nil }
        var remainder = Substring(text)
        if let at = remainder.firstIndex(of: "@") {
            guard let digest = Digest(String(remainder[remainder.index(after: at)...])) else { return nil }
            self.digest = digest
            remainder = remainder[..<at]
        }
        // A tag is the part after the last colon, unless that colon belongs to a host:port.
        if let colon = remainder.lastIndex(of: ":"), !remainder[colon...].contains("/") {
            let tag = String(remainder[remainder.index(after: colon)...])
            guard !tag.isEmpty, tag.count <= 128,
                tag.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "_" || $0 == "." || $0 == "-" })
            else { return nil }
            self.tag = tag
            remainder = remainder[..<colon]
        }
        var components = remainder.split(separator: "/", omittingEmptySubsequences: false).map(String.init)
        guard !components.isEmpty, components.allSatisfy({ !$0.isEmpty }) else { return nil }
        let first = components[0]
        if components.count > 1 && (first.contains(".") || first.contains(":") || first == "localhost") {
            guard RegistryAddress(first) != nil else { return nil }
            registry = first
            components.removeFirst()
        } else {
            registry = "docker.io"
        }
        if registry == "docker.io" && components.count == 1 { components.insert("library", at: 0) }
        repository = components.joined(separator: "/")
        let allowed = Set("abcdefghijklmnopqrstuvwxyz0123456789._-/")
        guard repository.allSatisfy({ allowed.contains($0) }) else { return nil }
        if tag == nil && digest == nil { tag = "latest" }
    }

    /// `registry/repository`, without tag or digest.
    package var name: String { "\(registry)/\(repository)" }

    /// `registry/repository:tag`, when tagged.
    package var taggedName: String? { tag.map { "\(name):\($0)" } }

    package var description: String {
        var text = name
        if let tag { text += ":\(tag)" }
        if let digest { text += "@\(digest)" }
        return text
    }
}
