/// The name and value rules of Kubernetes' apimachinery validation, with its
/// exact messages (each returns the reasons a value is invalid, or none).
public enum NameRules {
    static let dns1123LabelMaxLength = 63
    static let dns1123SubdomainMaxLength = 253
    static let qualifiedNameMaxLength = 63
    static let labelValueMaxLength = 63

    private static func isLowerAlphanumeric(_ byte: UInt8) -> Bool {
        (byte >= UInt8(ascii: "a") && byte <= UInt8(ascii: "z")) || (byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9"))
    }

    private static func isAlphanumeric(_ byte: UInt8) -> Bool {
        isLowerAlphanumeric(byte) || (byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z"))
    }

    /// Byte-level checks without allocation: the common case is a valid
    /// name, and validation runs them for every label of every object.
    private static func isDNS1123Label<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var count = 0
        var last: UInt8 = 0
        for byte in bytes {
            if count == 0, !isLowerAlphanumeric(byte) { return false }
            guard isLowerAlphanumeric(byte) || byte == UInt8(ascii: "-") else { return false }
            last = byte
            count += 1
        }
        return count > 0 && count <= dns1123LabelMaxLength && isLowerAlphanumeric(last)
    }

    private static func isDNS1123Subdomain(_ value: Substring.UTF8View) -> Bool {
        guard value.count <= dns1123SubdomainMaxLength else { return false }
        var rest = value[...]
        while true {
            let end = rest.firstIndex(of: UInt8(ascii: ".")) ?? rest.endIndex
            guard isDNS1123Label(rest[rest.startIndex..<end]) else { return false }
            guard end < rest.endIndex else { return true }
            rest = rest[rest.index(after: end)...]
        }
    }

    private static func isQualifiedNamePart<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> Bool {
        var count = 0
        var last: UInt8 = 0
        for byte in bytes {
            if count == 0, !isAlphanumeric(byte) { return false }
            guard isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".") else { return false }
            last = byte
            count += 1
        }
        return count > 0 && count <= qualifiedNameMaxLength && isAlphanumeric(last)
    }

    private static func isQualifiedName(_ value: String) -> Bool {
        let utf8 = Substring(value).utf8
        guard let slash = utf8.firstIndex(of: UInt8(ascii: "/")) else { return isQualifiedNamePart(utf8) }
        let name = utf8[utf8.index(after: slash)...]
        return !name.contains(UInt8(ascii: "/")) && isDNS1123Subdomain(Substring(value)[..<slash].utf8) && isQualifiedNamePart(name)
    }

    private static func matchesDNS1123Label(_ bytes: ArraySlice<UInt8>) -> Bool {
        guard let first = bytes.first, let last = bytes.last, isLowerAlphanumeric(first), isLowerAlphanumeric(last) else { return false }
        return bytes.allSatisfy { isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }
    }

    static func maxLengthMessage(_ length: Int) -> String { "must be no more than \(length) characters" }

    /// `[a-z0-9]([-a-z0-9]*[a-z0-9])?`, at most 63 characters: namespaces, container names.
    public static func dns1123Label(_ value: String) -> [String] {
        if isDNS1123Label(value.utf8) { return [] }
        var reasons: [String] = []
        if value.utf8.count > dns1123LabelMaxLength { reasons.append(maxLengthMessage(dns1123LabelMaxLength)) }
        if !matchesDNS1123Label(ArraySlice(value.utf8)) {
            reasons.append(
                "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')"
            )
        }
        return reasons
    }

    /// Dot-separated DNS-1123 labels, at most 253 characters: most object names.
    public static func dns1123Subdomain(_ value: String) -> [String] {
        if isDNS1123Subdomain(Substring(value).utf8) { return [] }
        var reasons: [String] = []
        if value.utf8.count > dns1123SubdomainMaxLength { reasons.append(maxLengthMessage(dns1123SubdomainMaxLength)) }
        let labels = Array(value.utf8).split(separator: UInt8(ascii: "."), omittingEmptySubsequences: false)
        if !labels.allSatisfy(matchesDNS1123Label) {
            reasons.append(
                "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"
            )
        }
        return reasons
    }

    /// `[a-z]([-a-z0-9]*[a-z0-9])?`, at most 63 characters: Service names.
    public static func dns1035Label(_ value: String) -> [String] {
        var reasons: [String] = []
        if value.utf8.count > dns1123LabelMaxLength { reasons.append(maxLengthMessage(dns1123LabelMaxLength)) }
        let bytes = ArraySlice(value.utf8)
        if !matchesDNS1123Label(bytes) || !(bytes.first.map { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") } ?? false) {
            reasons.append(
                "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')"
            )
        }
        return reasons
    }

    private static func matchesQualifiedNamePart(_ bytes: some Collection<UInt8>) -> Bool {
        guard let first = bytes.first, isAlphanumeric(first), let last = Array(bytes).last, isAlphanumeric(last) else { return false }
        return bytes.allSatisfy { isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".") }
    }

    /// A name that is one URL path segment, as Kubernetes' `IsValidPathSegmentName`
    /// checks it (the RBAC kinds' names: `system:controller:foo` is valid).
    public static func pathSegment(_ value: String) -> [String] {
        if value == "." || value == ".." { return ["may not be '\(value)'"] }
        var reasons: [String] = []
        for forbidden in ["/", "%"] where value.contains(forbidden) { reasons.append("may not contain '\(forbidden)'") }
        return reasons
    }

    /// `[prefix/]name`: label keys, annotation keys, finalizers.
    public static func qualifiedName(_ value: String) -> [String] {
        if isQualifiedName(value) { return [] }
        var reasons: [String] = []
        let parts = value.split(separator: "/", omittingEmptySubsequences: false)
        let name: Substring
        switch parts.count {
        case 1:
            name = parts[0]
        case 2:
            let prefix = parts[0]
            name = parts[1]
            if prefix.isEmpty {
                reasons.append("prefix part must be non-empty")
            } else {
                reasons += dns1123Subdomain(String(prefix)).map { "prefix part \($0)" }
            }
        default:
            return [
                "a qualified name must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]') with an optional DNS subdomain prefix and '/' (e.g. 'example.com/MyName')"
            ]
        }
        if name.isEmpty {
            reasons.append("name part must be non-empty")
        } else if name.utf8.count > qualifiedNameMaxLength {
            reasons.append("name part \(maxLengthMessage(qualifiedNameMaxLength))")
        }
        if !name.isEmpty, !matchesQualifiedNamePart(name.utf8) {
            reasons.append(
                "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"
            )
        }
        return reasons
    }

    /// Empty, or `([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]` of at most 63 characters.
    public static func labelValue(_ value: String) -> [String] {
        if value.isEmpty || isQualifiedNamePart(value.utf8) { return [] }
        var reasons: [String] = []
        if value.utf8.count > labelValueMaxLength { reasons.append(maxLengthMessage(labelValueMaxLength)) }
        if !value.isEmpty, !matchesQualifiedNamePart(value.utf8) {
            reasons.append(
                "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"
            )
        }
        return reasons
    }

    /// `[-._a-zA-Z][-._a-zA-Z0-9]*`: environment variable names.
    public static func environmentVariableName(_ value: String) -> [String] {
        let bytes = Array(value.utf8)
        func allowed(_ byte: UInt8) -> Bool {
            isAlphanumeric(byte) || byte == UInt8(ascii: "-") || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        let startsWithDigit = bytes.first.map { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") } ?? true
        if bytes.isEmpty || startsWithDigit || !bytes.allSatisfy(allowed) {
            return [
                "a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')"
            ]
        }
        return []
    }

    /// `[-._a-zA-Z0-9]+`, at most 253 characters: ConfigMap and Secret keys.
    public static func configMapKey(_ value: String) -> [String] {
        var reasons: [String] = []
        if value.utf8.count > dns1123SubdomainMaxLength { reasons.append(maxLengthMessage(dns1123SubdomainMaxLength)) }
        let valid =
            !value.isEmpty
            && value.utf8.allSatisfy {
                isAlphanumeric($0) || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ".")
            }
        if !valid {
            reasons.append(
                "a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')"
            )
        }
        if value == "." || value == ".." || value.hasPrefix("..") {
            reasons.append("must not be '.' or '..' or start with '..'")
        }
        return reasons
    }

    /// IANA service names (named ports): at most 15 characters, lower-case
    /// letters, digits and '-', at least one letter, no '--', not at either end.
    public static func portName(_ value: String) -> [String] {
        var reasons: [String] = []
        let bytes = Array(value.utf8)
        if bytes.count > 15 { reasons.append("must be no more than 15 characters") }
        if !bytes.allSatisfy({ isLowerAlphanumeric($0) || $0 == UInt8(ascii: "-") }) {
            reasons.append("must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)")
        }
        if value.contains("--") { reasons.append("must not contain consecutive hyphens") }
        if !bytes.contains(where: { $0 >= UInt8(ascii: "a") && $0 <= UInt8(ascii: "z") }) {
            reasons.append("must contain at least one letter (a-z)")
        }
        if bytes.first == UInt8(ascii: "-") || bytes.last == UInt8(ascii: "-") {
            reasons.append("must not begin or end with a hyphen")
        }
        return reasons
    }
}
