/// How soon a pod is synced again, by what its last sync found. A change (of
/// the pod, of its containers at the next relist, of a probe result) syncs it
/// at once whatever these say; they bound how long a pod waits when nothing
/// reports a change. A crash-loop back-off that ends sooner wins.
package struct PodSyncIntervals: Sendable, Equatable {
    /// A pod that runs as it should: read again this often, to catch what no event reported.
    package var steady: Duration = .seconds(10)
    /// A pod still starting (Pending or not Ready), or a container that could not start.
    package var starting: Duration = .seconds(2)
    /// After a container was stopped or a created one started: the next step follows soon.
    package var afterContainerChange: Duration = .seconds(1)
    /// After the sandbox or the pod's volumes could not be set up.
    package var afterSetupFailure: Duration = .seconds(5)
    /// After a sync failed (an API or runtime error), and while a deleted pod is torn down.
    package var afterError: Duration = .seconds(2)
    /// A pod that is done (Succeeded, Failed, or ended under its restart policy).
    package var finished: Duration = .seconds(30)

    package init() {}
}
