import CapstanAPI
import CapstanCore
import OrderedCollections
import Synchronization

/// The worst health among the applied objects, and how many stand at each status.
struct HealthSummary: Sendable, Hashable {
    var worst: Health
    var counts: [Health.Status: Int]
}

/// Reads the health of applied objects from the cluster, and waits for a
/// wave of them to become healthy, woken by watch events rather than polling.
struct HealthCheck: Sendable {
    let cluster: any GitOpsCluster
    let clock: any Clock<Duration>

    /// Kinds whose health says more than "it exists"; existence of the rest is the drift check's business.
    static let kindsWithHealth: Set<String> = [
        "Deployment", "StatefulSet", "ReplicaSet", "DaemonSet", "Pod", "Job", "Service", "PersistentVolumeClaim", "Namespace",
    ]

    /// One object's health; a Service with a selector also needs ready endpoints (when `endpoints`).
    func health(of object: DesiredObject, endpoints: Bool = true) async -> Health {
        let live = try? await cluster.get(object.identity, apiVersion: object.apiVersion)
        var health = Health.of(live)
        if endpoints, health.status == .healthy, object.identity.kind == "Service", let live,
            !(live[path: ["spec", "selector"]]?.objectValue ?? [:]).isEmpty, live[path: ["spec", "type"]]?.stringValue != "ExternalName"
        {
            var endpoints = object.identity
            endpoints.kind = "Endpoints"
            health = Health.endpoints(try? await cluster.get(endpoints, apiVersion: "v1"))
        }
        return health
    }

    /// The health of everything a commit holds, worst first.
    func summary(of objects: [DesiredObject]) async -> HealthSummary {
        var worst = Health.healthy
        var counts: [Health.Status: Int] = [:]
        for object in objects.sorted(by: { $0.identity < $1.identity }) {
            guard Self.kindsWithHealth.contains(object.identity.kind) else {
                counts[.healthy, default: 0] += 1
                continue
            }
            let health = await health(of: object)
            counts[health.status, default: 0] += 1
            if health.status > worst.status { worst = Health(status: health.status, message: "\(object.identity): \(health.message)") }
        }
        return HealthSummary(worst: worst, counts: counts)
    }

    /// The worst health of one wave between syncs' steps: Endpoints come
    /// from the workloads of later steps, so a Service counts as itself.
    func worst(of objects: [DesiredObject]) async -> Health {
        var worst = Health.healthy
        for object in objects {
            let health = await health(of: object, endpoints: false)
            if health.status > worst.status { worst = Health(status: health.status, message: "\(object.identity): \(health.message)") }
        }
        return worst
    }

    /// Waits until every object of a wave is healthy, one turns Degraded, or
    /// `timeout` passes on the clock (then Degraded). Looks again on every
    /// watch event about one of them; each watch starts with the objects as
    /// they are, so a change between a look and the watch is not missed.
    func wait(for objects: [DesiredObject], timeout: Duration) async -> Health {
        let identities = Set(objects.map(\.identity))
        let kinds = Set(objects.map { "\($0.apiVersion) \($0.identity.kind)" }).sorted().compactMap { key -> KindInfo? in
            let parts = key.split(separator: " ")
            return BuiltinKinds.lookup(apiVersion: String(parts[0]), kind: String(parts[1]))
        }
        let (wakes, wake) = AsyncStream<Void>.makeStream(bufferingPolicy: .bufferingNewest(1))
        let timedOut = Flag()
        let cluster = self.cluster
        let clock = self.clock
        return await withTaskGroup(of: Void.self) { group in
            for kind in kinds {
                group.addTask {
                    while !Task.isCancelled {
                        do {
                            for try await event in cluster.watch(kind) where identities.contains(ObjectIdentity(kind, event: event)) {
                                wake.yield()
                            }
                        } catch {
                            // Started again below, as a watch that ended would be.
                        }
                        try? await clock.sleep(for: .milliseconds(500))
                    }
                }
            }
            group.addTask {
                do {
                    try await clock.sleep(for: timeout)
                    timedOut.set()
                    wake.yield()
                } catch {}
            }
            defer { group.cancelAll() }
            var worst = await worst(of: objects)
            if worst.status == .healthy || worst.status == .degraded { return worst }
            for await _ in wakes {
                if timedOut.isSet { break }
                worst = await self.worst(of: objects)
                if worst.status == .healthy || worst.status == .degraded { return worst }
            }
            let seconds = timeout.components.seconds
            return Health(status: .degraded, message: "\(worst.message) (not healthy after \(seconds)s)")
        }
    }
}

/// A flag one task sets and another reads.
private final class Flag: Sendable {
    private let value = Mutex(false)
    func set() { value.withLock { $0 = true } }
    var isSet: Bool { value.withLock { $0 } }
}
