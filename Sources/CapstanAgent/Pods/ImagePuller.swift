import CapstanClient
import CapstanCore
import Foundation

/// Makes a container's image present per its pull policy, with the kubelet's
/// image back-off: a failed pull is retried after 10 s doubling to 5 minutes
/// (by default), per pod and container, and reported as `ImagePullBackOff`
/// until then.
actor ImagePuller {
    private let runtime: any RuntimeService
    private let events: EventRecorder
    private let clock: any Clock<Duration>
    private let wallClock: any WallClock
    private var backoff: RestartBackoff
    private var failures: [String: (at: Date, message: String)] = [:]

    init(runtime: any RuntimeService, events: EventRecorder, backoff: RestartBackoff, clock: any Clock<Duration>, wallClock: any WallClock) {
        self.runtime = runtime
        self.events = events
        self.backoff = backoff
        self.clock = clock
        self.wallClock = wallClock
    }

    /// Kubernetes' default pull policy: `Always` for `:latest` or no tag, `IfNotPresent` otherwise.
    static func pullPolicy(_ container: Container) -> String {
        if let policy = container.imagePullPolicy, !policy.isEmpty { return policy }
        return KubernetesDefaults.defaultPullPolicy(image: container.image ?? "")
    }

    /// Pulls the image when the policy asks; returns why the container cannot start, as its waiting state.
    func ensureImage(_ container: Container, pod: Pod, fieldPath: String) async -> ContainerWaiting? {
        let image = container.image ?? ""
        let object = Unstructured(json: pod.json)
        let policy = Self.pullPolicy(container)
        let present = (try? await runtime.imageStatus(image)) ?? nil
        if policy == "Never" {
            guard present == nil else { return nil }
            let message = "Container image \"\(image)\" is not present with pull policy of Never"
            await events.record(object, type: .warning, reason: "ErrImageNeverPull", message: message, fieldPath: fieldPath)
            return ContainerWaiting(reason: "ErrImageNeverPull", message: message)
        }
        if policy == "IfNotPresent", present != nil {
            return nil
        }
        let key = RestartBackoff.key(podUID: pod.metadata.uid ?? "", container: container.name) + "/image"
        if let failure = failures[key], backoff.remaining(key, finishedAt: failure.at, now: wallClock.currentDate) != nil {
            return ContainerWaiting(reason: "ImagePullBackOff", message: "Back-off pulling image \"\(image)\": \(failure.message)")
        }
        await events.record(object, reason: "Pulling", message: "Pulling image \"\(image)\"", fieldPath: fieldPath)
        let runtime = self.runtime
        let (outcome, took) = await timed(on: clock) { () async -> Result<String, any Error> in
            do { return .success(try await runtime.pullImage(image)) } catch { return .failure(error) }
        }
        switch outcome {
        case .success:
            failures[key] = nil
            let seconds = Double(took.components.seconds) + Double(took.components.attoseconds) / 1e18
            await events.record(
                object, reason: "Pulled", message: "Successfully pulled image \"\(image)\" in \(String(format: "%.3f", seconds))s",
                fieldPath: fieldPath)
            return nil
        case .failure(let error):
            let message = "Failed to pull image \"\(image)\": \(PodSyncer.describe(error))"
            let now = wallClock.currentDate
            failures[key] = (now, message)
            backoff.started(key, now: now)
            await events.record(object, type: .warning, reason: "Failed", message: message, fieldPath: fieldPath)
            return ContainerWaiting(reason: "ErrImagePull", message: message)
        }
    }

    /// Drops what is remembered about the pod's pulls.
    func forget(podUID: String) {
        failures = failures.filter { !$0.key.hasPrefix(podUID + "/") }
        backoff.forget(prefix: podUID + "/")
    }
}
