/// Checks a tar stream on its way to GNU tar, entry by entry, and refuses any entry that
/// could land outside the folder tar extracts into.
///
/// tar itself strips leading `/` and skips `..` members, but a layer is hostile input: the
/// guard refuses the archive instead, with an error naming the entry, before tar sees the
/// entry at all. It refuses:
/// - absolute names and names with a `..` component (also in hard-link targets);
/// - any entry under a path that an earlier entry made a symbolic link (writing through a
///   link is how `a -> /etc` followed by `a/passwd` escapes);
/// - hard links to anything but an earlier non-directory entry of the same archive;
/// - entry types tar would interpret in ways the guard does not follow (sparse files,
///   multi-volume parts, volume labels, GNU dump directories), and sizes on links, devices
///   and folders.
///
/// To be sure tar reads the archive exactly as the guard did, any header the guard cannot
/// read unambiguously (bad checksum, malformed number or extended header, a long name and a
/// PAX path that disagree) is refused too, and nothing after the end-of-archive block is
/// passed on.
struct TarGuard {
    /// Names the archive in errors ("layer sha256:…").
    let what: String
    private var state = State.header
    private var block: [UInt8] = []
    private var pending = Extended()
    /// Paths (normalised, `/`-joined) that an entry made a symbolic link.
    private var symlinks: Set<String> = []
    /// Paths an entry made a non-directory: what a hard link may point to.
    private var files: Set<String> = []
    private(set) var entries = 0

    /// Largest PAX header or GNU long name accepted.
    static let maxExtendedHeaderBytes = 1 << 20

    private enum State {
        case header
        /// Inside an entry's content (passed through unread), then its padding.
        case content(remaining: Int64)
        /// Inside an extended header whose content the guard needs (PAX, GNU long names).
        case capture(kind: UInt8, remaining: Int, padding: Int)
        /// After the first zero block: up to this many more zero bytes are passed on.
        case ended(zerosLeft: Int)
        case finished
    }

    /// Headers that apply to the next entry.
    private struct Extended {
        var paxPath: String?
        var paxLinkPath: String?
        var paxSize: Int64?
        var longName: String?
        var longLink: String?
        var sawPAX = false
    }

    init(what: String) { self.what = what }

    /// Whether the end-of-archive marker has been passed on; later input is ignored.
    var isFinished: Bool {
        switch state {
        case .finished: true
        default: false
        }
    }

    /// Checks the next `bytes` of the stream. Returns how many of them (a prefix) tar may
    /// read: all, until the end-of-archive marker; after it, none.
    mutating func check(_ bytes: UnsafeRawBufferPointer) throws -> Int {
        var index = 0
        while index < bytes.count {
            switch state {
            case .finished:
                return index
            case .ended(let zerosLeft):
                let available = min(zerosLeft, bytes.count - index)
                var count = 0
                while count < available && bytes[index + count] == 0 { count += 1 }
                index += count
                state = count == available && zerosLeft > available ? .ended(zerosLeft: zerosLeft - available) : .finished
                if count < available { return index }
            case .content(let remaining):
                let take = Int(min(remaining, Int64(bytes.count - index)))
                index += take
                state = remaining == Int64(take) ? .header : .content(remaining: remaining - Int64(take))
            case .capture(let kind, let remaining, let padding):
                let take = min(remaining + padding, bytes.count - index)
                let dataTake = min(remaining, take)
                block.append(contentsOf: bytes[index..<(index + dataTake)])
                index += take
                let left = remaining + padding - take
                if left == 0 {
                    try finishExtended(kind: kind, content: block)
                    block = []
                    state = .header
                } else {
                    state = .capture(kind: kind, remaining: remaining - dataTake, padding: left - (remaining - dataTake))
                }
            case .header:
                let take = min(512 - block.count, bytes.count - index)
                block.append(contentsOf: bytes[index..<(index + take)])
                index += take
                if block.count == 512 {
                    let header = block
                    block = []
                    try readHeader(header)
                }
            }
        }
        return index
    }

    /// Call at the end of the input: throws unless the archive ended between entries.
    func finish() throws {
        switch state {
        case .header where block.isEmpty, .ended, .finished:
            return
        default:
            throw CRIError.invalidArgument("\(what) is cut short: the tar archive ends inside an entry")
        }
    }

    // MARK: Headers

    private mutating func readHeader(_ header: [UInt8]) throws {
        if header.indices.allSatisfy({ (148..<156).contains($0) || header[$0] == 0 }) {
            // GNU tar stops at the first zero block (after peeking at one more); so do we.
            state = .ended(zerosLeft: 512)
            return
        }
        entries += 1
        try verifyChecksum(header)
        let type = header[156]
        var size = try number(header, 124..<136, field: "size")
        switch type {
        case UInt8(ascii: "x"), UInt8(ascii: "g"), UInt8(ascii: "L"), UInt8(ascii: "K"):
            guard size <= Int64(Self.maxExtendedHeaderBytes) else {
                throw refusal("has a \(size)-byte extended header (limit \(Self.maxExtendedHeaderBytes))")
            }
            if size == 0 {
                try finishExtended(kind: type, content: [])
            } else {
                let length = Int(size)
                state = .capture(kind: type, remaining: length, padding: (512 - length % 512) % 512)
            }
            return
        default:
            break
        }
        let extended = pending
        pending = Extended()
        let headerName = Self.string(header, 0..<100)
        let prefix = Self.hasUSTARMagic(header) ? Self.string(header, 345..<500) : ""
        var name = prefix.isEmpty ? headerName : prefix + "/" + headerName
        if let longName = extended.longName { name = longName }
        if let paxPath = extended.paxPath {
            if let longName = extended.longName, longName != paxPath {
                throw refusal("names entry \(entries) both \(longName.debugDescription) and \(paxPath.debugDescription)")
            }
            name = paxPath
        }
        var link = extended.longLink ?? Self.string(header, 157..<257)
        if let paxLink = extended.paxLinkPath {
            if let longLink = extended.longLink, longLink != paxLink {
                throw refusal("gives entry \(name.debugDescription) two link targets")
            }
            link = paxLink
        }
        if let paxSize = extended.paxSize { size = paxSize }

        let components = try normalise(name, entry: name)
        if components.isEmpty && type != UInt8(ascii: "5") {
            throw refusal("has a \(Self.typeName(type)) entry with an empty name")
        }
        try checkNotThroughSymlink(components, entry: name)
        let path = components.joined(separator: "/")
        switch type {
        case UInt8(ascii: "0"), 0, UInt8(ascii: "7"):
            if name.hasSuffix("/") && size > 0 {
                throw refusal("has a folder-like file entry \(name.debugDescription) with content")
            }
            files.insert(path)
        case UInt8(ascii: "1"):
            let target = try normalise(link, entry: name)
            try checkNotThroughSymlink(target, entry: name)
            let targetPath = target.joined(separator: "/")
            guard files.contains(targetPath) else {
                throw refusal("has a hard link \(name.debugDescription) to \(link.debugDescription), which is not an earlier file of the archive")
            }
            files.insert(path)
            if symlinks.contains(targetPath) { symlinks.insert(path) }
        case UInt8(ascii: "2"):
            // The target itself may point anywhere: it is resolved inside the container.
            symlinks.insert(path)
            files.insert(path)
        case UInt8(ascii: "3"), UInt8(ascii: "4"), UInt8(ascii: "6"):
            files.insert(path)
        case UInt8(ascii: "5"):
            files.remove(path)
        default:
            throw refusal("has entry \(name.debugDescription) of unsupported type \(Self.typeName(type))")
        }
        let carriesData = type == UInt8(ascii: "0") || type == 0 || type == UInt8(ascii: "7")
        if !carriesData && size != 0 {
            throw refusal("gives the \(Self.typeName(type)) entry \(name.debugDescription) a size (\(size))")
        }
        if size > 0 {
            let (padded, overflow) = size.addingReportingOverflow((512 - size % 512) % 512)
            guard !overflow else { throw refusal("declares an impossible size for \(name.debugDescription)") }
            state = .content(remaining: padded)
        }
    }

    private mutating func finishExtended(kind: UInt8, content: [UInt8]) throws {
        switch kind {
        case UInt8(ascii: "L"):
            guard pending.longName == nil else { throw refusal("has two long-name headers for one entry") }
            pending.longName = Self.cString(content)
        case UInt8(ascii: "K"):
            guard pending.longLink == nil else { throw refusal("has two long-link headers for one entry") }
            pending.longLink = Self.cString(content)
        case UInt8(ascii: "x"):
            guard !pending.sawPAX else { throw refusal("has two PAX headers for one entry") }
            pending.sawPAX = true
            for (key, value) in try paxRecords(content) {
                switch key {
                case "path": pending.paxPath = value
                case "linkpath": pending.paxLinkPath = value
                case "size":
                    guard !value.isEmpty, value.count <= 18, value.allSatisfy({ ("0"..."9").contains($0) }), let size = Int64(value) else {
                        throw refusal("has a PAX size that is not a number: \(value.prefix(40).debugDescription)")
                    }
                    pending.paxSize = size
                default: break
                }
            }
        default:  // "g": global headers apply to every later entry; refuse those that would rename or resize
            for (key, _) in try paxRecords(content) where ["path", "linkpath", "size"].contains(key) {
                throw refusal("has a global PAX header setting \(key)")
            }
        }
    }

    /// PAX records, `<length> <key>=<value>\n` each; refuses malformed ones and sparse-file keys.
    private func paxRecords(_ content: [UInt8]) throws -> [(String, String)] {
        var records: [(String, String)] = []
        var index = 0
        while index < content.count {
            guard let space = content[index...].firstIndex(of: UInt8(ascii: " ")), space - index <= 8,
                let length = Int(String(decoding: content[index..<space], as: UTF8.self)),
                length > space - index + 2, index + length <= content.count, content[index + length - 1] == 0x0A
            else { throw refusal("has a malformed PAX header") }
            let record = content[(space + 1)..<(index + length - 1)]
            guard let equals = record.firstIndex(of: UInt8(ascii: "=")), !record[..<equals].contains(0) else {
                throw refusal("has a malformed PAX record")
            }
            let key = String(decoding: record[record.startIndex..<equals], as: UTF8.self)
            let rawValue = record[(equals + 1)...]
            // Values may be binary (SCHILY.xattr.security.capability holds NUL bytes), but a
            // NUL in a name would let tar and the guard read different names.
            if ["path", "linkpath", "size"].contains(key) && rawValue.contains(0) {
                throw refusal("has a PAX \(key) with a NUL byte")
            }
            let value = String(decoding: rawValue, as: UTF8.self)
            if key.hasPrefix("GNU.sparse.") { throw refusal("holds a sparse file (unsupported)") }
            records.append((key, value))
            index += length
        }
        return records
    }

    // MARK: Paths

    /// The path's components without `.` and empty ones; refuses absolute paths and `..`.
    private func normalise(_ path: String, entry: String) throws -> [String] {
        if path.hasPrefix("/") {
            throw refusal("has entry \(entry.debugDescription) with the absolute path \(path.debugDescription)")
        }
        let components = path.split(separator: "/").map(String.init).filter { $0 != "." }
        if components.contains("..") {
            throw refusal("has entry \(entry.debugDescription) whose path \(path.debugDescription) climbs out with `..`")
        }
        return components
    }

    private func checkNotThroughSymlink(_ components: [String], entry: String) throws {
        var prefix = ""
        for component in components.dropLast() {
            prefix = prefix.isEmpty ? component : prefix + "/" + component
            if symlinks.contains(prefix) {
                throw refusal("has entry \(entry.debugDescription), which would be written through the symbolic link \(prefix.debugDescription)")
            }
        }
    }

    // MARK: Fields

    private func verifyChecksum(_ header: [UInt8]) throws {
        let recorded = try number(header, 148..<156, field: "checksum")
        var unsigned: Int64 = 0
        var signed: Int64 = 0
        for (index, byte) in header.enumerated() {
            let value = (148..<156).contains(index) ? UInt8(ascii: " ") : byte
            unsigned += Int64(value)
            signed += Int64(Int8(bitPattern: value))
        }
        guard recorded == unsigned || recorded == signed else {
            throw refusal("has a corrupt header (checksum) at entry \(entries); it is not a valid tar archive")
        }
    }

    /// A numeric header field: octal (leading spaces, then digits, ended by NUL, space or the
    /// field's end) or GNU base-256 (first byte 0x80). Anything else is refused.
    private func number(_ header: [UInt8], _ range: Range<Int>, field: String) throws -> Int64 {
        let bytes = header[range]
        if bytes.first == 0x80 {
            var value: Int64 = 0
            for byte in bytes.dropFirst() {
                guard value <= (Int64.max >> 8) else { throw refusal("has a \(field) too large to be real") }
                value = value << 8 | Int64(byte)
            }
            return value
        }
        var index = bytes.startIndex
        while index < bytes.endIndex && bytes[index] == UInt8(ascii: " ") { index += 1 }
        guard index < bytes.endIndex else { throw refusal("has a blank \(field) field at entry \(entries)") }
        var value: Int64 = 0
        while index < bytes.endIndex, (UInt8(ascii: "0")...UInt8(ascii: "7")).contains(bytes[index]) {
            guard value <= (Int64.max >> 3) else { throw refusal("has a \(field) too large to be real") }
            value = value << 3 | Int64(bytes[index] - UInt8(ascii: "0"))
            index += 1
        }
        guard index == bytes.endIndex || bytes[index] == 0 || bytes[index] == UInt8(ascii: " ") else {
            throw refusal("has a malformed \(field) field at entry \(entries)")
        }
        return value
    }

    private static func hasUSTARMagic(_ header: [UInt8]) -> Bool {
        Array(header[257..<263]) == Array("ustar\0".utf8)
    }

    private static func string(_ header: [UInt8], _ range: Range<Int>) -> String {
        cString(Array(header[range]))
    }

    private static func cString(_ bytes: [UInt8]) -> String {
        String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self)
    }

    private static func typeName(_ type: UInt8) -> String {
        switch type {
        case UInt8(ascii: "1"): "hard link"
        case UInt8(ascii: "2"): "symbolic link"
        case UInt8(ascii: "3"): "character device"
        case UInt8(ascii: "4"): "block device"
        case UInt8(ascii: "5"): "folder"
        case UInt8(ascii: "6"): "FIFO"
        case 0x20...0x7e: "'\(Character(Unicode.Scalar(type)))'"
        default: "0x\(String(type, radix: 16))"
        }
    }

    private func refusal(_ detail: String) -> CRIError {
        CRIError.invalidArgument("\(what) \(detail)")
    }
}
