import CRIAPI
import CapstanClient
import CapstanCore
import Logging
import OrderedCollections

/// Stops containers as Kubernetes does: the `preStop` hook first (exec,
/// httpGet or sleep), then SIGTERM, then SIGKILL when the rest of the grace
/// period has passed; a whole pod's containers in parallel, then its sandbox.
struct ContainerStopper: Sendable {
    let runtime: any RuntimeService
    let events: EventRecorder
    let logger: Logger
    let clock: any Clock<Duration>

    /// Stops one running container, recording a Killing event with `message`.
    func stop(_ pod: Pod, _ name: String, _ id: String, grace: Int64, message: String) async {
        await events.record(Unstructured(json: pod.json), reason: "Killing", message: message, fieldPath: "spec.containers{\(name)}")
        let (_, spent) = await timed(on: clock) {
            if let container = (pod.spec.containers + pod.spec.initContainers).first(where: { $0.name == name }),
                let hook = container.json["lifecycle"]?["preStop"], grace > 0
            {
                await runPreStop(hook, container: container, containerID: id, pod: pod, grace: grace)
            }
        }
        do {
            try await runtime.stopContainer(id, timeout: max(0, grace - spent.components.seconds))
        } catch {
            logger.warning("stopping a container failed", metadata: ["container": "\(id)", "error": "\(error)"])
        }
    }

    /// Stops every running container (in parallel, each with the grace period), then the sandbox.
    func stopEverything(_ pod: Pod, state: PodRuntimeState, grace: Int64, reason: String?) async throws {
        let running = state.running
        await withTaskGroup(of: Void.self) { group in
            for container in running {
                group.addTask {
                    await self.stop(pod, container.name, container.id, grace: grace, message: reason ?? "Stopping container \(container.name)")
                }
            }
        }
        for sandbox in state.sandboxes where sandbox.state == .sandboxReady {
            try await runtime.stopPodSandbox(sandbox.id)
        }
    }

    private func runPreStop(_ hook: JSONValue, container: Container, containerID: String, pod: Pod, grace: Int64) async {
        let outcome: ProbeOutcome
        if let seconds = hook["sleep"]?["seconds"]?.intValue {
            try? await clock.sleep(for: .seconds(min(max(0, seconds), grace)))
            return
        } else if let exec = hook["exec"] {
            var probe = Probe(json: ["exec": exec])
            probe.timeoutSeconds = min(grace, 86_400)
            outcome = await ProbeManager.execute(
                probe, container: container, containerID: containerID, podIP: pod.status.podIP ?? "", runtime: runtime)
        } else if let http = hook["httpGet"] {
            var probe = Probe(json: ["httpGet": http])
            probe.timeoutSeconds = min(grace, 86_400)
            outcome = await ProbeManager.execute(
                probe, container: container, containerID: containerID, podIP: pod.status.podIP ?? "", runtime: runtime)
        } else {
            return
        }
        if case .failure(let message) = outcome {
            await events.record(
                Unstructured(json: pod.json), type: .warning, reason: "FailedPreStopHook",
                message: "PreStopHook failed: \(message)", fieldPath: "spec.containers{\(container.name)}")
        }
    }
}
