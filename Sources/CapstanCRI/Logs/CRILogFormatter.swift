import Foundation

/// Formats container output in the CRI log format the kubelet reads:
/// `<RFC3339Nano timestamp> <stdout|stderr> <P|F> <content>\n`, where `F` ends a line and
/// `P` marks a piece of a line that was split because it grew longer than `maximumLineLength`.
package struct CRILogFormatter: Sendable {
    package enum Stream: String, Sendable { case stdout, stderr }

    /// Longest piece written as one record; containerd uses 16 KiB as well.
    package var maximumLineLength = 16 * 1024

    package init() {}

    /// Splits `buffer` into complete records, leaving an unfinished line in `buffer` unless it
    /// exceeds `maximumLineLength` (then it is emitted as partial records).
    package func takeRecords(from buffer: inout [UInt8], stream: Stream, now: Int64) -> [UInt8] {
        var output: [UInt8] = []
        var start = 0
        let newline = UInt8(ascii: "\n")
        while start < buffer.count {
            let end = buffer[start...].firstIndex(of: newline)
            if let end, end - start <= maximumLineLength {
                append(buffer[start..<end], tag: "F", stream: stream, now: now, to: &output)
                start = end + 1
            } else if buffer.count - start >= maximumLineLength {
                append(buffer[start..<start + maximumLineLength], tag: "P", stream: stream, now: now, to: &output)
                start += maximumLineLength
            } else {
                break
            }
        }
        buffer.removeFirst(start)
        return output
    }

    /// The record for a trailing piece without newline, written when the stream ends.
    package func finalRecord(for buffer: [UInt8], stream: Stream, now: Int64) -> [UInt8] {
        guard !buffer.isEmpty else { return [] }
        var output: [UInt8] = []
        append(buffer[...], tag: "F", stream: stream, now: now, to: &output)
        return output
    }

    private func append(_ content: ArraySlice<UInt8>, tag: String, stream: Stream, now: Int64, to output: inout [UInt8]) {
        output.append(contentsOf: Self.timestamp(now).utf8)
        output.append(contentsOf: " \(stream.rawValue) \(tag) ".utf8)
        output.append(contentsOf: content)
        output.append(UInt8(ascii: "\n"))
    }

    /// RFC 3339 with nanoseconds in UTC, e.g. `2026-11-26T14:03:05.123456789Z`.
    package static func timestamp(_ nanoseconds: Int64) -> String {
        var seconds = time_t(nanoseconds / 1_000_000_000)
        let fraction = nanoseconds % 1_000_000_000
        var parts = tm()
        gmtime_r(&seconds, &parts)
        return String(
            format: "%04d-%02d-%02dT%02d:%02d:%02d.%09dZ", Int(parts.tm_year) + 1900, Int(parts.tm_mon) + 1,
            Int(parts.tm_mday), Int(parts.tm_hour), Int(parts.tm_min), Int(parts.tm_sec), Int(fraction))
    }
}
