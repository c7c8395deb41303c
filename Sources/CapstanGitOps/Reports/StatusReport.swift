package import Foundation

/// One word for the whole git source, as `capstan status` leads with it.
package enum GitOpsState: String, Codable, Sendable {
    /// The server runs without a repository (the API server says so itself).
    case notConfigured = "NotConfigured"
    case pending = "Pending"
    case syncing = "Syncing"
    case fetchFailed = "FetchFailed"
    case failed = "Failed"
    case degraded = "Degraded"
    case outOfSync = "OutOfSync"
    case progressing = "Progressing"
    case synced = "Synced"

    /// Whether the last attempt ended without applying (what `capstan sync` exits 1 on).
    package var isFailure: Bool { self == .failed || self == .fetchFailed }
}

/// The `gitops` slot of `GET /status`: the source, the synced commit, the
/// last attempt with its errors, health and a drift summary.
///
/// `syncedCommit` and the drift's `checkedAt` are `null` until known;
/// `lastSync`, `lastFetchAt` and `fetchError` are left out until there is one.
package struct GitOpsStatusReport: Codable, Sendable {
    package struct Commit: Codable, Sendable, Equatable {
        package var id: String
        package var summary: String
        package var author: String
        package var appliedAt: Date?

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(summary, forKey: .summary)
            try container.encode(author, forKey: .author)
            try container.encode(appliedAt, forKey: .appliedAt)
        }
    }

    package struct HealthSummary: Codable, Sendable, Equatable {
        /// `Healthy`, `Progressing`, `Degraded`, `Missing`, or `Unknown` before the first apply.
        package var status: String
        package var message: String
        /// How many applied objects stand at each health status.
        package var objects: [String: Int]
    }

    package struct DriftSummary: Codable, Sendable, Equatable {
        package var driftedObjects: Int
        package var driftedFields: Int
        package var selfHeal: Bool
        package var heals: Int
        package var checkedAt: Date?

        package func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(driftedObjects, forKey: .driftedObjects)
            try container.encode(driftedFields, forKey: .driftedFields)
            try container.encode(selfHeal, forKey: .selfHeal)
            try container.encode(heals, forKey: .heals)
            try container.encode(checkedAt, forKey: .checkedAt)
        }
    }

    /// The remote, with any credentials in it redacted.
    package var repository: String
    package var branch: String
    package var path: String
    package var pollIntervalSeconds: Double
    package var state: GitOpsState
    package var syncedCommit: Commit?
    package var lastSync: SyncRecord?
    package var health: HealthSummary
    package var drift: DriftSummary
    /// How many objects the inventory holds.
    package var objects: Int
    package var lastFetchAt: Date?
    package var fetchError: String?

    package func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(repository, forKey: .repository)
        try container.encode(branch, forKey: .branch)
        try container.encode(path, forKey: .path)
        try container.encode(pollIntervalSeconds, forKey: .pollIntervalSeconds)
        try container.encode(state, forKey: .state)
        try container.encode(syncedCommit, forKey: .syncedCommit)
        try container.encodeIfPresent(lastSync, forKey: .lastSync)
        try container.encode(health, forKey: .health)
        try container.encode(drift, forKey: .drift)
        try container.encode(objects, forKey: .objects)
        try container.encodeIfPresent(lastFetchAt, forKey: .lastFetchAt)
        try container.encodeIfPresent(fetchError, forKey: .fetchError)
    }
}

/// The `gitops` slot as a client reads it: either the source's report, or the
/// API server's word that no repository is configured.
package enum GitOpsStatusSlot: Decodable, Sendable {
    case configured(GitOpsStatusReport)
    case notConfigured(message: String)

    private enum CodingKeys: String, CodingKey { case state, message }

    package init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if try container.decode(GitOpsState.self, forKey: .state) == .notConfigured {
            self = .notConfigured(message: try container.decodeIfPresent(String.self, forKey: .message) ?? "")
        } else {
            self = .configured(try GitOpsStatusReport(from: decoder))
        }
    }
}
