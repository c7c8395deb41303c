import CapstanCore
import Foundation

/// Reads CRI log files (`<RFC3339Nano> <stream> <P|F> <text>`) back into what
/// `kubectl logs` shows: the text, partial lines joined, optionally prefixed
/// with the timestamp, filtered by time and cut to the last lines. Pure over bytes.
struct CRILogReader {
    struct Entry: Equatable {
        var time: Date?
        var timestamp: String
        var text: [UInt8]
    }

    /// Whole lines from a chunk of log bytes; `remainder` keeps an unfinished line for the next call.
    static func entries(from bytes: [UInt8], remainder: inout [UInt8], partial: inout [UInt8]) -> [Entry] {
        var buffer = remainder + bytes
        var entries: [Entry] = []
        var start = 0
        while let newline = buffer[start...].firstIndex(of: UInt8(ascii: "\n")) {
            let line = Array(buffer[start..<newline])
            start = newline + 1
            guard let parsed = parse(line) else { continue }
            partial += parsed.text
            if parsed.full {
                entries.append(Entry(time: parsed.time, timestamp: parsed.timestamp, text: partial + [UInt8(ascii: "\n")]))
                partial = []
            }
        }
        buffer.removeFirst(start)
        remainder = buffer
        return entries
    }

    private static func parse(_ line: [UInt8]) -> (timestamp: String, time: Date?, full: Bool, text: [UInt8])? {
        let fields = line.split(separator: UInt8(ascii: " "), maxSplits: 3, omittingEmptySubsequences: false)
        guard fields.count >= 3 else { return nil }
        let timestamp = String(decoding: fields[0], as: UTF8.self)
        let full = fields[2].first != UInt8(ascii: "P")
        let text = fields.count == 4 ? Array(fields[3]) : []
        return (timestamp, parseTime(timestamp), full, text)
    }

    /// RFC 3339 with up to nine fractional digits, as CRI log lines carry.
    static func parseTime(_ text: String) -> Date? { KubeTime.parse(text) }

    /// What to send for one entry.
    static func render(_ entry: Entry, timestamps: Bool) -> [UInt8] {
        timestamps ? Array((entry.timestamp + " ").utf8) + entry.text : entry.text
    }
}
