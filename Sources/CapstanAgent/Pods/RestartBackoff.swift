import Foundation

/// The kubelet's crash-loop back-off: after a container exits, the next start
/// waits 10 s, then 20 s, 40 s… up to 5 minutes; a container that then runs
/// for twice the maximum without exiting starts over at 10 s. The first
/// restart of a container is immediate.
struct RestartBackoff: Sendable {
    struct Entry: Sendable {
        var delay: Duration
        var lastStart: Date
    }

    var initial: Duration
    var maximum: Duration
    private(set) var entries: [String: Entry] = [:]

    init(initial: Duration = .seconds(10), maximum: Duration = .seconds(300)) {
        self.initial = initial
        self.maximum = maximum
    }

    /// How long to wait yet before restarting a container that finished at
    /// `finishedAt`; nil when it may start now.
    func remaining(_ key: String, finishedAt: Date, now: Date) -> Duration? {
        guard let entry = entries[key] else { return nil }
        // Ran long enough since its last start: the back-off starts over, and the restart is immediate.
        if now.timeIntervalSince(entry.lastStart) >= Double(maximum.components.seconds) * 2 { return nil }
        let waited = now.timeIntervalSince(finishedAt)
        let delay = Double(entry.delay.components.seconds) + Double(entry.delay.components.attoseconds) / 1e18
        return waited < delay ? .seconds(delay - waited) : nil
    }

    /// The delay applying to the next restart, for messages (`back-off 20s`).
    func delay(_ key: String) -> Duration { entries[key]?.delay ?? initial }

    /// Records a (re)start: the next one waits longer.
    mutating func started(_ key: String, now: Date) {
        let resetAfter = Double(maximum.components.seconds) * 2
        if var entry = entries[key], now.timeIntervalSince(entry.lastStart) < resetAfter {
            entry.delay = min(entry.delay * 2, maximum)
            entry.lastStart = now
            entries[key] = entry
        } else {
            entries[key] = Entry(delay: initial, lastStart: now)
        }
    }

    /// The key of one container of one pod.
    static func key(podUID: String, container: String) -> String { "\(podUID)/\(container)" }

    mutating func forget(prefix: String) {
        entries = entries.filter { !$0.key.hasPrefix(prefix) }
    }
}
