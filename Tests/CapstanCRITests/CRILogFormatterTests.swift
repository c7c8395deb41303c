import Testing

@testable import CapstanCRI

struct CRILogFormatterTests {
    let now: Int64 = 1_764_165_785_123_456_789  // 2025-11-26T14:03:05.123456789Z

    @Test func formatsRFC3339NanoInUTC() {
        #expect(CRILogFormatter.timestamp(now) == "2025-11-26T14:03:05.123456789Z")
        #expect(CRILogFormatter.timestamp(1_000_000_000) == "1970-01-01T00:00:01.000000000Z")
    }

    @Test func completeLinesBecomeFullRecordsAndTheRestWaits() {
        var buffer = Array("hello\nworld\npart".utf8)
        let output = CRILogFormatter().takeRecords(from: &buffer, stream: .stdout, now: now)
        #expect(
            String(decoding: output, as: UTF8.self) == """
                2025-11-26T14:03:05.123456789Z stdout F hello
                2025-11-26T14:03:05.123456789Z stdout F world

                """)
        #expect(String(decoding: buffer, as: UTF8.self) == "part")
    }

    @Test func longLinesAreSplitIntoPartialRecords() {
        var formatter = CRILogFormatter()
        formatter.maximumLineLength = 4
        var buffer = Array("abcdefghij\n".utf8)
        let output = String(decoding: formatter.takeRecords(from: &buffer, stream: .stderr, now: now), as: UTF8.self)
        let lines = output.split(separator: "\n").map { $0.split(separator: " ", maxSplits: 1)[1] }
        #expect(lines == ["stderr P abcd", "stderr P efgh", "stderr F ij"])
        #expect(buffer.isEmpty)
    }

    @Test func aTrailingPieceIsFlushedAsFullAtTheEnd() {
        let output = CRILogFormatter().finalRecord(for: Array("tail".utf8), stream: .stdout, now: now)
        #expect(String(decoding: output, as: UTF8.self) == "2025-11-26T14:03:05.123456789Z stdout F tail\n")
        #expect(CRILogFormatter().finalRecord(for: [], stream: .stdout, now: now).isEmpty)
    }
}
