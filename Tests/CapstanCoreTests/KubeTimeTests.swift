import CapstanCore
import Foundation
import Testing

/// RFC 3339 as Kubernetes' `Time` and `MicroTime` write it, and as its clients read it.
@Suite struct KubeTimeTests {
    @Test(arguments: [
        (0.0, "1970-01-01T00:00:00Z"),
        (1_800_000_000, "2027-01-15T08:00:00Z"),
        (1_800_000_000.999, "2027-01-15T08:00:00Z"),  // the fraction is dropped, not rounded up, as Go does
        (951_782_400, "2000-02-29T00:00:00Z"),
        (-1, "1969-12-31T23:59:59Z"),
        (253_402_300_799, "9999-12-31T23:59:59Z"),
    ])
    func timeIsWholeSecondsInUTC(seconds: Double, text: String) {
        #expect(KubeTime.format(Date(timeIntervalSince1970: seconds)) == text)
    }

    @Test func microTimeAlwaysHasSixDigits() {
        #expect(KubeTime.formatMicro(Date(timeIntervalSince1970: 1_800_000_000)) == "2027-01-15T08:00:00.000000Z")
        #expect(KubeTime.formatMicro(Date(timeIntervalSince1970: 1_800_000_000.25)) == "2027-01-15T08:00:00.250000Z")
        #expect(KubeTime.formatMicro(Date(timeIntervalSince1970: 1_800_000_000.000_123)) == "2027-01-15T08:00:00.000123Z")
    }

    @Test(arguments: [0.0, 1_800_000_000, 1_800_000_000.5, 1_234_567_890.123_456, -86_401.75])
    func microTimeRoundTripsToTheMicrosecond(seconds: Double) throws {
        let date = Date(timeIntervalSince1970: seconds)
        let back = try #require(KubeTime.parse(KubeTime.formatMicro(date)))
        #expect(abs(back.timeIntervalSince1970 - seconds) < 1e-6)
        #expect(KubeTime.formatMicro(back) == KubeTime.formatMicro(date))
    }

    @Test(arguments: [0.0, 1_800_000_000, -1, 951_782_400])
    func timeRoundTripsExactly(seconds: Double) {
        let text = KubeTime.format(Date(timeIntervalSince1970: seconds))
        #expect(KubeTime.parse(text) == Date(timeIntervalSince1970: seconds))
    }

    @Test(arguments: [
        ("2027-01-15T08:00:00Z", 1_800_000_000.0),
        ("2027-01-15T08:00:00.5Z", 1_800_000_000.5),
        ("2027-01-15T08:00:00.123Z", 1_800_000_000.123),
        ("2027-01-15T08:00:00.123456Z", 1_800_000_000.123_456),
        // RFC3339Nano, as CRI log lines carry it: nine digits (more than ISO8601DateFormatter reads).
        ("2027-01-15T08:00:00.123456789Z", 1_800_000_000.123_456_789),
        ("2027-01-15T09:30:00+01:30", 1_800_000_000),
        ("2027-01-15T03:00:00.25-05:00", 1_800_000_000.25),
        ("2027-01-15t08:00:00z", 1_800_000_000),
    ])
    func readsEveryRFC3339Form(text: String, seconds: Double) throws {
        let date = try #require(KubeTime.parse(text))
        #expect(abs(date.timeIntervalSince1970 - seconds) < 1e-6, "\(text)")
    }

    @Test(arguments: [
        "", "2027-01-15", "2027-01-15T08:00:00", "2027-01-15 08:00:00Z", "2027-01-15T08:00:00.Z", "2027-01-15T08:00:00.1234567890Z",
        "2027-13-01T00:00:00Z", "2027-02-29T00:00:00Z", "2027-01-15T24:00:00Z", "2027-01-15T08:00:60Z", "2027-01-15T08:00:00+0100",
        "2027-01-15T08:00:00Zjunk", "27-01-15T08:00:00Z",
    ])
    func refusesWhatIsNotRFC3339(text: String) {
        #expect(KubeTime.parse(text) == nil, "\(text)")
    }

    @Test func absentTextIsNoDate() {
        #expect(KubeTime.parse(nil) == nil)
    }
}
