#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// The parts of a resolv.conf(5) file the forwarder uses. Parsing is lenient like the C library's:
/// unknown keywords and malformed values are skipped, never fatal.
package struct ResolvConf: Hashable, Sendable {
    /// `nameserver` addresses in file order; entries that are not IP literals are left out.
    package var nameservers: [String]
    /// The search list (`search`, or `domain`, whichever comes last).
    package var search: [String]
    /// `options ndots:N`, capped at 15 as in glibc; 1 when absent.
    package var ndots: Int

    /// A configuration given field by field.
    package init(nameservers: [String] = [], search: [String] = [], ndots: Int = 1) {
        self.nameservers = nameservers
        self.search = search
        self.ndots = ndots
    }

    /// Parses the text of a resolv.conf file. Comments start with `#` or `;`, at the start of a line or after a value.
    package init(parsing text: String) {
        self.init()
        for rawLine in text.split(whereSeparator: \.isNewline) {
            let line = rawLine.prefix { $0 != "#" && $0 != ";" }
            let fields = line.split(whereSeparator: \.isWhitespace)
            guard let keyword = fields.first else { continue }
            let values = fields.dropFirst().map(String.init)
            switch keyword {
            case "nameserver":
                if let address = values.first, IPAddress(address) != nil { nameservers.append(address) }
            case "search":
                search = values
            case "domain":
                search = Array(values.prefix(1))
            case "options":
                for option in values where option.hasPrefix("ndots:") {
                    if let value = Int(option.dropFirst("ndots:".count)), value >= 0 { ndots = min(value, 15) }
                }
            default:
                continue
            }
        }
    }

    /// Reads and parses the file at `path`; throws when it cannot be read.
    package static func load(path: String = "/etc/resolv.conf") throws -> ResolvConf {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        return ResolvConf(parsing: String(decoding: data, as: UTF8.self))
    }

    /// The nameservers as forwarder targets on port 53.
    package var upstreamServers: [UpstreamServer] {
        nameservers.map { UpstreamServer(host: $0) }
    }
}
