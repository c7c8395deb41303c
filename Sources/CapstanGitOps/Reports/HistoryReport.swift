/// `GET /history`: every sync attempt and self-heal the server remembers, oldest first.
package struct HistoryReport: Codable, Sendable {
    package var items: [SyncRecord]

    package init(items: [SyncRecord]) {
        self.items = items
    }
}
