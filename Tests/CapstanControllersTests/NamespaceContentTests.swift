import CapstanCore
import OrderedCollections
import Testing

@testable import CapstanControllers

/// The status conditions a terminating namespace reports, as Kubernetes words them.
@Suite struct NamespaceContentTests {
    func condition(_ conditions: [JSONValue], _ type: String) -> Condition? {
        conditions.map { Condition(json: $0.objectValue ?? [:]) }.first { $0.type == type }
    }

    @Test func failuresAndRemainingContentBecomeConditions() throws {
        var content = NamespaceContent()
        content.count([["metadata": ["name": "a", "finalizers": ["example.com/keep"]]], ["metadata": ["name": "b"]]], BuiltinKinds.pod)
        content.failures = ["deployments.apps: the server is on fire"]
        let conditions = try #require(content.conditions(replacing: [], now: "2026-01-01T00:00:00Z"))
        #expect(conditions.count == 5)
        let failure = try #require(condition(conditions, "NamespaceDeletionContentFailure"))
        #expect(failure.status == "True" && failure.reason == "ContentDeletionFailed")
        #expect(failure.message == "Failed to delete all resource types, 1 remaining: deployments.apps: the server is on fire")
        #expect(condition(conditions, "NamespaceContentRemaining")?.message == "Some resources are remaining: pods. has 2 resource instances")
        #expect(
            condition(conditions, "NamespaceFinalizersRemaining")?.message
                == "Some content in the namespace has finalizers remaining: example.com/keep in 1 resource instances")
        #expect(condition(conditions, "NamespaceDeletionDiscoveryFailure")?.status == "False")

        // Emptied: every condition False with its "all is well" reason; the transition time moves.
        let cleared = try #require(NamespaceContent().conditions(replacing: conditions, now: "2026-01-01T00:01:00Z"))
        let remaining = try #require(condition(cleared, "NamespaceContentRemaining"))
        #expect(remaining.status == "False" && remaining.reason == "ContentRemoved" && remaining.lastTransitionTime == "2026-01-01T00:01:00Z")
        #expect(condition(cleared, "NamespaceDeletionContentFailure")?.reason == "ContentDeleted")
        // Nothing changed: nothing to write.
        #expect(NamespaceContent().conditions(replacing: cleared, now: "2026-01-01T00:02:00Z") == nil)
    }
}
