import CapstanCore
import Testing

@testable import CapstanControllers

@Suite struct OwnershipTests {
    func meta(labels: [String: String], owner: String? = nil, deleting: Bool = false) -> ObjectMeta {
        var meta = ObjectMeta()
        meta.name = "p"
        meta.labels = labels
        if let owner { meta.ownerReferences = [OwnerReference(apiVersion: "apps/v1", kind: "ReplicaSet", name: "rs", uid: owner)] }
        if deleting { meta.deletionTimestamp = "2026-01-01T00:00:00Z" }
        return meta
    }

    @Test func adoptsMatchingOrphansAndReleasesNonMatchingPods() {
        let selector = LabelSelector(matchLabels: ["app": "web"])
        #expect(Ownership.decide(meta(labels: ["app": "web"]), ownerUID: "u", ownerDeleting: false, selector: selector) == .adopt)
        #expect(Ownership.decide(meta(labels: ["app": "web"]), ownerUID: "u", ownerDeleting: true, selector: selector) == .ignore)
        #expect(Ownership.decide(meta(labels: ["app": "web"], deleting: true), ownerUID: "u", ownerDeleting: false, selector: selector) == .ignore)
        #expect(Ownership.decide(meta(labels: ["app": "db"]), ownerUID: "u", ownerDeleting: false, selector: selector) == .ignore)
        #expect(Ownership.decide(meta(labels: ["app": "web"], owner: "u"), ownerUID: "u", ownerDeleting: false, selector: selector) == .owned)
        #expect(Ownership.decide(meta(labels: ["app": "db"], owner: "u"), ownerUID: "u", ownerDeleting: false, selector: selector) == .release)
        #expect(Ownership.decide(meta(labels: ["app": "web"], owner: "other"), ownerUID: "u", ownerDeleting: false, selector: selector) == .ignore)
        // An empty selector never matches anything (Kubernetes refuses to adopt with one).
        #expect(Ownership.decide(meta(labels: ["app": "web"]), ownerUID: "u", ownerDeleting: false, selector: .everything) == .ignore)
    }
}
