public import Foundation

/// One word for the whole git source, as `capstan status` leads with it.
public enum GitOpsState: String, Codable, Sendable {
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
    public var isFailure: Bool { self == .failed || self == .fetchFailed }
}

/// The `gitops` slot of `GET /status`: the source, the synced commit, the
/// last attempt with its errors, health and a drift summary.
///
/// `syncedCommit` and the drift's `checkedAt` are `null` until known;
/// `lastSync`, `lastFetchAt` and `fetchError` are left out until there is one.
public struct GitOpsStatusReport: Codable, Sendable {
    public struct Commit: Codable, Sendable, Equatable {
        public var id: String
        public var summary: String
        public var author: String
        public var appliedAt: Date?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(id, forKey: .id)
            try container.encode(summary, forKey: .summary)
            try container.encode(author, forKey: .author)
            try container.encode(appliedAt, forKey: .appliedAt)
        }
    }

    public struct HealthSummary: Codable, Sendable, Equatable {
        /// `Healthy`, `Progressing`, `Degraded`, `Missing`, or `Unknown` before the first apply.
        public var status: String
        public var message: String
        /// How many applied objects stand at each health status.
        public var objects: [String: Int]
    }

    public struct DriftSummary: Codable, Sendable, Equatable {
        public var driftedObjects: Int
        public var driftedFields: Int
        public var selfHeal: Bool
        public var heals: Int
        public var checkedAt: Date?

        public func encode(to encoder: any Encoder) throws {
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(driftedObjects, forKey: .driftedObjects)
            try container.encode(driftedFields, forKey: .driftedFields)
            try container.encode(selfHeal, forKey: .selfHeal)
            try container.encode(heals, forKey: .heals)
            try container.encode(checkedAt, forKey: .checkedAt)
        }
    }

    /// The remote, with any credentials in it redacted.
    public var repository: String
    public var branch: String
    public var path: String
    public var pollIntervalSeconds: Double
    public var state: GitOpsState
    public var syncedCommit: Commit?
    public var lastSync: SyncRecord?
    public var health: HealthSummary
    public var drift: DriftSummary
    /// How many objects the inventory holds.
    public var objects: Int
    public var lastFetchAt: Date?
    public var fetchError: String?

    public func encode(to encoder: any Encoder) throws {
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
public enum GitOpsStatusSlot: Decodable, Sendable {
    case configured(GitOpsStatusReport)
    case notConfigured(message: String)

    private enum CodingKeys: String, CodingKey { case state, message }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        if try container.decode(GitOpsState.self, forKey: .state) == .notConfigured {
            self = .notConfigured(message: try container.decodeIfPresent(String.self, forKey: .message) ?? "")
        } else {
            self = .configured(try GitOpsStatusReport(from: decoder))
        }
    }
}
