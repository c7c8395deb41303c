public import OrderedCollections

/// A Job: Pods that run to completion.
public struct Job: TypedObject {
    public static let kindInfo = BuiltinKinds.job
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var spec: JobSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
    public var status: JobStatus {
        get { self[view: "status"] }
        set { self[view: "status"] = newValue }
    }
}

public struct JobSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var template: PodTemplateSpec {
        get { self[view: "template"] }
        set { self[view: "template"] = newValue }
    }
    public var completions: Int64? {
        get { self[int: "completions"] }
        set { self[int: "completions"] = newValue }
    }
    public var parallelism: Int64 {
        get { self[int: "parallelism"] ?? 1 }
        set { self[int: "parallelism"] = newValue }
    }
    public var backoffLimit: Int64 {
        get { self[int: "backoffLimit"] ?? 6 }
        set { self[int: "backoffLimit"] = newValue }
    }
    public var activeDeadlineSeconds: Int64? {
        get { self[int: "activeDeadlineSeconds"] }
        set { self[int: "activeDeadlineSeconds"] = newValue }
    }
    public var ttlSecondsAfterFinished: Int64? {
        get { self[int: "ttlSecondsAfterFinished"] }
        set { self[int: "ttlSecondsAfterFinished"] = newValue }
    }
    public var suspend: Bool {
        get { self[bool: "suspend"] ?? false }
        set { self[bool: "suspend"] = newValue }
    }
}

public struct JobStatus: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var active: Int64 {
        get { self[int: "active"] ?? 0 }
        set { self[int: "active"] = newValue }
    }
    public var succeeded: Int64 {
        get { self[int: "succeeded"] ?? 0 }
        set { self[int: "succeeded"] = newValue }
    }
    public var failed: Int64 {
        get { self[int: "failed"] ?? 0 }
        set { self[int: "failed"] = newValue }
    }
    public var startTime: String? {
        get { self[string: "startTime"] }
        set { self[string: "startTime"] = newValue }
    }
    public var completionTime: String? {
        get { self[string: "completionTime"] }
        set { self[string: "completionTime"] = newValue }
    }
    public var conditions: [Condition] {
        get { self[views: "conditions"] }
        set { self[views: "conditions"] = newValue }
    }
}

/// A CronJob: a Job created on a cron schedule.
public struct CronJob: TypedObject {
    public static let kindInfo = BuiltinKinds.cronJob
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var spec: CronJobSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
    public var status: JSONObject {
        get { json["status"]?.objectValue ?? [:] }
        set { set("status", .object(newValue)) }
    }
}

public struct CronJobSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var schedule: String {
        get { self[string: "schedule"] ?? "" }
        set { self[string: "schedule"] = newValue }
    }
    public var timeZone: String? {
        get { self[string: "timeZone"] }
        set { self[string: "timeZone"] = newValue }
    }
    /// `Allow` (the default), `Forbid` or `Replace`.
    public var concurrencyPolicy: String {
        get { self[string: "concurrencyPolicy"] ?? "Allow" }
        set { self[string: "concurrencyPolicy"] = newValue }
    }
    public var suspend: Bool {
        get { self[bool: "suspend"] ?? false }
        set { self[bool: "suspend"] = newValue }
    }
    public var startingDeadlineSeconds: Int64? {
        get { self[int: "startingDeadlineSeconds"] }
        set { self[int: "startingDeadlineSeconds"] = newValue }
    }
    public var successfulJobsHistoryLimit: Int64 {
        get { self[int: "successfulJobsHistoryLimit"] ?? 3 }
        set { self[int: "successfulJobsHistoryLimit"] = newValue }
    }
    public var failedJobsHistoryLimit: Int64 {
        get { self[int: "failedJobsHistoryLimit"] ?? 1 }
        set { self[int: "failedJobsHistoryLimit"] = newValue }
    }
    public var jobTemplate: JobTemplateSpec {
        get { self[view: "jobTemplate"] }
        set { self[view: "jobTemplate"] = newValue }
    }
}

public struct JobTemplateSpec: ObjectView {
    public var json: JSONObject
    public init(json: JSONObject) { self.json = json }

    public var metadata: ObjectMeta {
        get { self[view: "metadata"] }
        set { self[view: "metadata"] = newValue }
    }
    public var spec: JobSpec {
        get { self[view: "spec"] }
        set { self[view: "spec"] = newValue }
    }
}
