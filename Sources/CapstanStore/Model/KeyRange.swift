public import Foundation

/// A set of keys in etcd's encoding: `rangeEnd` empty means the single `key`;
/// `rangeEnd == [0]` means every key `>= key`; otherwise the half-open
/// interval `[key, rangeEnd)`. `key == [0]` with `rangeEnd == [0]` is every key.
public struct KeyRange: Sendable, Hashable {
    public var key: Data
    public var rangeEnd: Data

    public init(key: Data, rangeEnd: Data = Data()) {
        self.key = key
        self.rangeEnd = rangeEnd
    }

    /// Exactly one key.
    public static func single(_ key: Data) -> KeyRange { KeyRange(key: key) }

    /// Every key starting with `prefix`.
    public static func prefix(_ prefix: Data) -> KeyRange {
        KeyRange(key: prefix, rangeEnd: prefixEnd(of: prefix))
    }

    /// Every key `>= key`.
    public static func from(_ key: Data) -> KeyRange { KeyRange(key: key, rangeEnd: Data([0])) }

    /// Every key in the store.
    public static let all = KeyRange(key: Data([0]), rangeEnd: Data([0]))

    /// The smallest key greater than every key with this prefix, as etcd
    /// computes it; `[0]` (no upper bound) when the prefix is empty or all 0xff.
    public static func prefixEnd(of prefix: Data) -> Data {
        var end = [UInt8](prefix)
        while let last = end.last {
            if last < 0xff {
                end[end.count - 1] = last + 1
                return Data(end)
            }
            end.removeLast()
        }
        return Data([0])
    }

    /// Whether this range names exactly one key.
    public var isSingleKey: Bool { rangeEnd.isEmpty }

    /// Whether the range has no upper bound.
    public var isUnbounded: Bool { rangeEnd == Data([0]) }

    /// Whether `candidate` lies in this range.
    public func contains(_ candidate: Data) -> Bool {
        if isSingleKey { return candidate == key }
        if candidate.lexicographicallyPrecedes(key) { return false }
        if isUnbounded { return true }
        return candidate.lexicographicallyPrecedes(rangeEnd)
    }
}
