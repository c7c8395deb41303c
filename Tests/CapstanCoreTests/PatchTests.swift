import Testing

@testable import CapstanCore

private func json(_ text: String) throws -> JSONValue { try JSONParser().parse(text) }

@Suite struct JSONPatchTests {
    @Test(arguments: [
        (#"{"a":1}"#, #"[{"op":"add","path":"/b","value":2}]"#, #"{"a":1,"b":2}"#),
        (#"{"a":[1,2]}"#, #"[{"op":"add","path":"/a/1","value":9}]"#, #"{"a":[1,9,2]}"#),
        (#"{"a":[1,2]}"#, #"[{"op":"add","path":"/a/-","value":3}]"#, #"{"a":[1,2,3]}"#),
        (#"{"a":1,"b":2}"#, #"[{"op":"remove","path":"/a"}]"#, #"{"b":2}"#),
        (#"{"a":{"b":1}}"#, #"[{"op":"replace","path":"/a/b","value":5}]"#, #"{"a":{"b":5}}"#),
        (#"{"a":{"b":1},"c":{}}"#, #"[{"op":"move","from":"/a/b","path":"/c/d"}]"#, #"{"a":{},"c":{"d":1}}"#),
        (#"{"a":[1]}"#, #"[{"op":"copy","from":"/a/0","path":"/b"}]"#, #"{"a":[1],"b":1}"#),
        (#"{"a/b":1,"m~n":2}"#, #"[{"op":"remove","path":"/a~1b"},{"op":"replace","path":"/m~0n","value":3}]"#, #"{"m~n":3}"#),
        (#"{"a":1}"#, #"[{"op":"test","path":"/a","value":1},{"op":"add","path":"/t","value":true}]"#, #"{"a":1,"t":true}"#),
    ])
    func operationsFollowRFC6902(document: String, patch: String, expected: String) throws {
        #expect(try JSONPatch.apply(json(patch), to: json(document)) == json(expected))
    }

    @Test(arguments: [
        (#"{"a":1}"#, #"[{"op":"remove","path":"/b"}]"#, "no field \"b\" to remove"),
        (#"{"a":[1]}"#, #"[{"op":"add","path":"/a/5","value":1}]"#, "index 5 is out of range"),
        (#"{"a":1}"#, #"[{"op":"test","path":"/a","value":2}]"#, "(test) failed"),
        (#"{"a":1}"#, #"[{"op":"jump","path":"/a"}]"#, "unknown op \"jump\""),
        (#"{"a":1}"#, #"[{"op":"add","path":"a","value":1}]"#, "must start with '/'"),
        (#"{"a":1}"#, #"{"op":"add"}"#, "must be an array"),
        (#"{"a":{"b":1}}"#, #"[{"op":"move","from":"/a","path":"/a/b/c"}]"#, "into its own child"),
    ])
    func badPatchesChangeNothingAndSayWhy(document: String, patch: String, reason: String) throws {
        do {
            _ = try JSONPatch.apply(json(patch), to: json(document))
            Issue.record("applied \(patch)")
        } catch let error as PatchError {
            #expect(error.message.contains(reason), "\(error.message)")
        }
    }
}

@Suite struct MergePatchTests {
    // The examples of RFC 7386, appendix A.
    @Test(arguments: [
        (#"{"a":"b"}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"b"}"#, #"{"b":"c"}"#, #"{"a":"b","b":"c"}"#),
        (#"{"a":"b"}"#, #"{"a":null}"#, #"{}"#),
        (#"{"a":"b","b":"c"}"#, #"{"a":null}"#, #"{"b":"c"}"#),
        (#"{"a":["b"]}"#, #"{"a":"c"}"#, #"{"a":"c"}"#),
        (#"{"a":"c"}"#, #"{"a":["b"]}"#, #"{"a":["b"]}"#),
        (#"{"a":{"b":"c"}}"#, #"{"a":{"b":"d","c":null}}"#, #"{"a":{"b":"d"}}"#),
        (#"{"a":[{"b":"c"}]}"#, #"{"a":[1]}"#, #"{"a":[1]}"#),
        (#"{"e":null}"#, #"{"a":1}"#, #"{"e":null,"a":1}"#),
        (#"{}"#, #"{"a":{"bb":{"ccc":null}}}"#, #"{"a":{"bb":{}}}"#),
    ])
    func mergePatchFollowsRFC7386(document: String, patch: String, expected: String) throws {
        #expect(JSONMergePatch.apply(try json(patch), to: try json(document)) == (try json(expected)))
    }

    @Test func diffProducesThePatchBack() throws {
        let old = try json(#"{"a":1,"b":{"c":2,"d":3},"e":[1]}"#)
        let new = try json(#"{"a":1,"b":{"c":5},"e":[1,2],"f":true}"#)
        let patch = try #require(JSONMergePatch.diff(from: old, to: new))
        #expect(patch == (try json(#"{"b":{"c":5,"d":null},"e":[1,2],"f":true}"#)))
        #expect(JSONMergePatch.apply(patch, to: old) == new)
        #expect(JSONMergePatch.diff(from: old, to: old) == nil)
    }
}

private let liveDeployment = #"""
    {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","finalizers":["a"]},
     "spec":{"replicas":1,"template":{"spec":{"containers":[
       {"name":"web","image":"web:1","args":["--a"],"ports":[{"containerPort":80}],"env":[{"name":"A","value":"1"},{"name":"B","value":"2"}]},
       {"name":"sidecar","image":"proxy:1"}]}}}}
    """#

@Suite struct StrategicMergePatchTests {
    @Test func containersMergeByName() throws {
        let patch = try json(
            #"{"spec":{"template":{"spec":{"containers":[{"name":"web","image":"web:2","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]},{"name":"new","image":"n:1"}]}}}}"#
        )
        let result = try StrategicMergePatch.apply(patch, to: json(liveDeployment), kind: "Deployment")
        let containers = try #require(result[path: ["spec", "template", "spec", "containers"]]?.arrayValue)
        #expect(containers.map { $0["name"] } == ["web", "sidecar", "new"])
        #expect(containers[0]["image"] == "web:2")
        #expect(containers[0]["args"] == ["--a"])
        #expect(containers[0]["env"] == [["name": "A", "value": "1"], ["name": "B", "value": "3"], ["name": "C", "value": "4"]])
        #expect(containers[1]["image"] == "proxy:1")
    }

    /// Node taints have no patch strategy in Kubernetes: the patch's list is the
    /// new list, which is how `kubectl taint node n key-` removes one.
    @Test func nodeTaintsAreReplacedWhole() throws {
        let live = try json(
            #"{"apiVersion":"v1","kind":"Node","spec":{"taints":[{"key":"new","effect":"NoSchedule"},{"key":"dedicated","value":"ops","effect":"NoExecute"}]}}"#
        )
        let patch = try json(#"{"spec":{"taints":[{"effect":"NoSchedule","key":"new"}]}}"#)
        let result = try StrategicMergePatch.apply(patch, to: live, kind: "Node")
        #expect(result[path: ["spec", "taints"]] == [["effect": "NoSchedule", "key": "new"]])
    }

    @Test func directivesDeleteReplaceAndReorder() throws {
        let live = try json(liveDeployment)
        let deleted = try StrategicMergePatch.apply(
            json(#"{"spec":{"template":{"spec":{"containers":[{"name":"sidecar","$patch":"delete"}]}}}}"#), to: live, kind: "Deployment")
        #expect(deleted[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.count == 1)
        let reordered = try StrategicMergePatch.apply(
            json(#"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"sidecar"},{"name":"web"}]}}}}"#), to: live, kind: "Deployment"
        )
        #expect(reordered[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.map { $0["name"] } == ["sidecar", "web"])
        let replaced = try StrategicMergePatch.apply(json(#"{"spec":{"$patch":"replace","replicas":3}}"#), to: live, kind: "Deployment")
        #expect(replaced["spec"] == ["replicas": 3])
        let finalizers = try StrategicMergePatch.apply(json(#"{"metadata":{"finalizers":["b"]}}"#), to: live, kind: "Deployment")
        #expect(finalizers[path: ["metadata", "finalizers"]] == ["a", "b"])
        let removed = try StrategicMergePatch.apply(
            json(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}"#), to: live, kind: "Deployment")
        #expect(removed[path: ["metadata", "finalizers"]] == [])
    }

    @Test func listsWithoutAStrategyAreReplacedAndNullDeletes() throws {
        let patch = try json(#"{"spec":{"replicas":null,"template":{"spec":{"containers":[{"name":"web","args":["--b"]}]}}}}"#)
        let result = try StrategicMergePatch.apply(patch, to: json(liveDeployment), kind: "Deployment")
        #expect(result[path: ["spec", "replicas"]] == nil)
        #expect(result[path: ["spec", "template", "spec", "containers"]]?[0]?["args"] == ["--b"])
    }

    @Test func elementsWithoutTheMergeKeyAreRefused() throws {
        #expect(throws: PatchError.self) {
            try StrategicMergePatch.apply(
                json(#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#), to: json(liveDeployment), kind: "Deployment")
        }
    }
}

@Suite struct ServerSideApplyTests {
    let time = "2026-11-26T15:00:00Z"

    func config(replicas: Int = 2, labels: String = #""app":"web","tier":"front""#, containers: String = #"{"name":"web","image":"web:1"}"#) throws
        -> JSONValue
    {
        try json(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"web","labels":{\#(labels)}},"spec":{"replicas":\#(replicas),"template":{"spec":{"containers":[\#(containers)]}}}}"#
        )
    }

    @Test func createRecordsTheManagersFields() throws {
        let created = try ServerSideApply.apply(try config(), to: nil, manager: "capstan-gitops", force: false, time: time)
        let entries = try ManagedFieldsEntry.entries(of: created)
        #expect(entries.count == 1)
        #expect(entries[0].manager == "capstan-gitops")
        #expect(entries[0].operation == "Apply")
        #expect(
            JSONSerializer.string(entries[0].fields.fieldsV1)
                == #"{"f:metadata":{"f:labels":{"f:app":{},"f:tier":{}}},"f:spec":{"f:replicas":{},"f:template":{"f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{}}}}}}}"#
        )
        #expect(created[path: ["spec", "replicas"]] == 2)
    }

    @Test func fieldsAManagerStopsApplyingAreRemoved() throws {
        let first = try ServerSideApply.apply(try config(), to: nil, manager: "gitops", force: false, time: time)
        let second = try ServerSideApply.apply(try config(labels: #""app":"web""#), to: first, manager: "gitops", force: false, time: time)
        #expect(second[path: ["metadata", "labels"]] == ["app": "web"])
    }

    @Test func changingAnotherManagersFieldIsAConflict() throws {
        let applied = try ServerSideApply.apply(try config(), to: nil, manager: "capstan-gitops", force: false, time: time)
        var edited = applied
        edited[path: ["spec", "replicas"]] = 5
        let afterEdit = try ServerSideApply.recordUpdate(from: applied, to: edited, manager: "kubectl-edit", time: time)
        let owners = try ManagedFieldsEntry.entries(of: afterEdit)
        #expect(owners.map(\.manager) == ["capstan-gitops", "kubectl-edit"])
        #expect(owners[1].fields.contains([.field("spec"), .field("replicas")]))
        #expect(!owners[0].fields.contains([.field("spec"), .field("replicas")]))

        do {
            _ = try ServerSideApply.apply(try config(replicas: 3), to: afterEdit, manager: "capstan-gitops", force: false, time: time)
            Issue.record("applied over another manager's field")
        } catch let error as ServerSideApply.ConflictError {
            #expect(error.description == "Apply failed with 1 conflict: conflict with \"kubectl-edit\" using apps/v1: .spec.replicas")
        }
        let forced = try ServerSideApply.apply(try config(replicas: 3), to: afterEdit, manager: "capstan-gitops", force: true, time: time)
        #expect(forced[path: ["spec", "replicas"]] == 3)
        #expect(try ManagedFieldsEntry.entries(of: forced).map(\.manager) == ["capstan-gitops"])
    }

    @Test func equalValuesAreSharedNotConflicting() throws {
        let applied = try ServerSideApply.apply(try config(), to: nil, manager: "a", force: false, time: time)
        let shared = try ServerSideApply.apply(try config(), to: applied, manager: "b", force: false, time: time)
        #expect(try ManagedFieldsEntry.entries(of: shared).map(\.manager) == ["a", "b"])
    }

    /// What the Python client's `create_from_yaml(…, apply=True)` does after a plain create:
    /// the created object holds the server's defaults, which the applied one leaves out.
    @Test func applyingWhatACreateWroteWithoutItsDefaultsIsNoConflict() throws {
        let created = try config(containers: #"{"name":"nginx","image":"nginx:1.15.4","ports":[{"containerPort":80}]}"#)
        var stored = created
        stored[path: ["spec", "template", "spec", "containers"]] = [
            [
                "name": "nginx", "image": "nginx:1.15.4", "ports": [["containerPort": 80, "protocol": "TCP"]], "imagePullPolicy": "IfNotPresent",
                "terminationMessagePath": "/dev/termination-log",
            ]
        ]
        let written = try ServerSideApply.recordUpdate(from: nil, to: stored, manager: "OpenAPI-Generator", time: time)
        let applied = try ServerSideApply.apply(created, to: written, manager: "python-client", force: false, time: time)
        #expect(applied[path: ["spec", "template", "spec", "containers"]] == stored[path: ["spec", "template", "spec", "containers"]])
        // A value that does differ inside the same container still conflicts, and only that field.
        do {
            _ = try ServerSideApply.apply(
                try config(containers: #"{"name":"nginx","image":"nginx:2","ports":[{"containerPort":80}]}"#), to: written, manager: "python-client",
                force: false, time: time)
            Issue.record("a changed image of another manager's container was applied")
        } catch let error as ServerSideApply.ConflictError {
            #expect(error.conflicts.map(\.field) == [#".spec.template.spec.containers[name="nginx"].image"#])
        }
    }

    @Test func keyedListsKeepOtherManagersElements() throws {
        let applied = try ServerSideApply.apply(
            try config(containers: #"{"name":"web","image":"web:1"},{"name":"old","image":"old:1"}"#), to: nil, manager: "gitops", force: false,
            time: time)
        var withSidecar = applied
        var containers = withSidecar[path: ["spec", "template", "spec", "containers"]]!.arrayValue!
        containers.append(["name": "sidecar", "image": "proxy:1"])
        withSidecar[path: ["spec", "template", "spec", "containers"]] = .array(containers)
        let injected = try ServerSideApply.recordUpdate(from: applied, to: withSidecar, manager: "injector", time: time)
        let reapplied = try ServerSideApply.apply(
            try config(containers: #"{"name":"web","image":"web:2"}"#), to: injected, manager: "gitops", force: false, time: time)
        let names = reapplied[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.map { $0["name"]?.stringValue ?? "" }
        #expect(names == ["web", "sidecar"])
        #expect(reapplied[path: ["spec", "template", "spec", "containers"]]?[0]?["image"] == "web:2")
    }

    @Test func objectsWithoutManagedFieldsBelongToBeforeFirstApply() throws {
        let legacy = try config(replicas: 4)
        do {
            _ = try ServerSideApply.apply(try config(replicas: 2), to: legacy, manager: "gitops", force: false, time: time)
            Issue.record("no conflict")
        } catch let error as ServerSideApply.ConflictError {
            #expect(error.conflicts.map(\.manager) == ["before-first-apply"])
        }
    }

    @Test func fieldsV1RoundTrips() throws {
        let set = FieldSet(of: try config(), kind: "Deployment")
        #expect(try FieldSet(fieldsV1: set.fieldsV1) == set)
        #expect(set.paths.map(FieldSet.Element.describe).contains(".spec.template.spec.containers[name=\"web\"].image"))
    }

    @Test func portKeysDefaultTheProtocol() throws {
        let service = try json(#"{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"},"spec":{"ports":[{"port":80}]}}"#)
        let set = FieldSet(of: service, kind: "Service")
        #expect(set.paths.map(FieldSet.Element.describe).contains(".spec.ports[port=80,protocol=\"TCP\"].port"))
    }
}
