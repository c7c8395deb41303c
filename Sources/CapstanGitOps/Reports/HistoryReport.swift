/// `GET /history`: every sync attempt and self-heal the server remembers, oldest first.
public struct HistoryReport: Codable, Sendable {
    public var items: [SyncRecord]

    public init(items: [SyncRecord]) {
        self.items = items
    }
}
