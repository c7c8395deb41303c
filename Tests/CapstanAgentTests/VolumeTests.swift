@testable import CapstanAgent
import CapstanCore
import CapstanTestSupport
import Foundation
import Testing

/// Volume files written atomically, updates swapped in, hostile paths refused.
struct VolumeTests {
    @Test func filesAreSwappedAtomicallyAndStaleOnesGo() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-volume") { directory in
            let volume = directory.path + "/config"
            #expect(try AtomicDirectoryWriter.write([.init(path: "a.txt", bytes: Array("one".utf8), mode: 0o644), .init(path: "dir/b.txt", bytes: Array("two".utf8), mode: 0o600)], into: volume))
            #expect(try String(contentsOfFile: volume + "/a.txt", encoding: .utf8) == "one")
            #expect(try String(contentsOfFile: volume + "/dir/b.txt", encoding: .utf8) == "two")
            let firstTarget = try FileManager.default.destinationOfSymbolicLink(atPath: volume + "/..data")
            // The same content changes nothing.
            #expect(try !AtomicDirectoryWriter.write([.init(path: "a.txt", bytes: Array("one".utf8), mode: 0o644), .init(path: "dir/b.txt", bytes: Array("two".utf8), mode: 0o600)], into: volume))
            // An update swaps ..data; a removed key disappears; the old folder is gone.
            #expect(try AtomicDirectoryWriter.write([.init(path: "a.txt", bytes: Array("three".utf8), mode: 0o644)], into: volume))
            #expect(try String(contentsOfFile: volume + "/a.txt", encoding: .utf8) == "three")
            #expect(!FileManager.default.fileExists(atPath: volume + "/dir"))
            #expect(!FileManager.default.fileExists(atPath: volume + "/" + firstTarget))
        }
    }

    @Test func hostilePathsAreRefused() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-volume") { directory in
            for path in ["../escape", "/etc/passwd", "a/../../b", "..data", ""] {
                #expect(throws: VolumeError.self) { try AtomicDirectoryWriter.write([.init(path: path, bytes: [1], mode: 0o644)], into: directory.path + "/v") }
            }
            #expect(!FileManager.default.fileExists(atPath: directory.path + "/escape"))
        }
    }

    @Test func configMapItemsModesAndMissingKeys() throws {
        let data: [String: [UInt8]] = ["a": Array("1".utf8), "b": Array("2".utf8)]
        let all = try VolumeManager.files(from: data, source: ["defaultMode": 0o400], kind: "ConfigMap", name: "c")
        #expect(all.map(\.path) == ["a", "b"] && all.allSatisfy { $0.mode == 0o400 })
        let picked = try VolumeManager.files(from: data, source: ["items": [["key": "b", "path": "sub/b.conf", "mode": 0o600]]], kind: "ConfigMap", name: "c")
        #expect(picked == [.init(path: "sub/b.conf", bytes: Array("2".utf8), mode: 0o600)])
        #expect(throws: VolumeError.self) { try VolumeManager.files(from: data, source: ["items": [["key": "zzz", "path": "z"]]], kind: "Secret", name: "s") }
    }

    @Test func volumesAreSetUpAndMountedByName() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-volume") { directory in
            let manager = VolumeManager(root: directory.path, canMount: false)
            let pod = Pod(json: [
                "metadata": ["name": "p", "namespace": "default", "uid": "u1", "labels": ["app": "web"]],
                "spec": [
                    "containers": [["name": "c", "volumeMounts": [
                        ["name": "scratch", "mountPath": "/scratch"], ["name": "config", "mountPath": "/etc/app"],
                        ["name": "info", "mountPath": "/etc/info"], ["name": "scratch", "mountPath": "/cache", "subPath": "cache"],
                    ]]],
                    "volumes": [
                        ["name": "scratch", "emptyDir": [:]], ["name": "config", "configMap": ["name": "settings"]],
                        ["name": "info", "downwardAPI": ["items": [["path": "labels", "fieldRef": ["fieldPath": "metadata.labels"]]]]],
                    ],
                ],
            ])
            let paths = try manager.prepare(pod, references: PodReferences(configMaps: ["settings": ["k": Array("v".utf8)]]), podIP: "10.0.0.1", hostIP: "h")
            #expect(try String(contentsOfFile: paths["config"]! + "/k", encoding: .utf8) == "v")
            #expect(try String(contentsOfFile: paths["info"]! + "/labels", encoding: .utf8) == "app=\"web\"")
            let mounts = try VolumeManager.mounts(for: pod.spec.containers[0], volumes: paths, pod: pod)
            #expect(mounts.map(\.containerPath) == ["/scratch", "/etc/app", "/etc/info", "/cache"])
            #expect(mounts[1].readonly && !mounts[0].readonly)
            #expect(mounts[3].hostPath == paths["scratch"]! + "/cache")
            // A pod whose ConfigMap is missing fails with the name; unsupported sources say so.
            #expect(throws: VolumeError.self) { try manager.prepare(pod, references: PodReferences(), podIP: "", hostIP: "") }
            var claim = pod
            claim.spec.volumes = [Volume(json: ["name": "data", "persistentVolumeClaim": ["claimName": "pvc"]])]
            do {
                _ = try manager.prepare(claim, references: PodReferences(), podIP: "", hostIP: "")
                Issue.record("a persistentVolumeClaim volume was accepted")
            } catch {
                #expect("\(error)".contains("persistentVolumeClaim volumes are not supported"))
            }
            manager.cleanUp("u1")
            #expect(!FileManager.default.fileExists(atPath: manager.podDirectory("u1")))
        }
    }

    @Test func aSubPathThroughASymlinkCannotLeaveItsVolume() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-volume") { directory in
            let volume = directory.path + "/v"
            try FileManager.default.createDirectory(atPath: volume + "/real", withIntermediateDirectories: true)
            // What a container can do inside an emptyDir: links to the host's root and to a sibling folder.
            try FileManager.default.createSymbolicLink(atPath: volume + "/escape", withDestinationPath: "/")
            try FileManager.default.createSymbolicLink(atPath: volume + "/inside", withDestinationPath: "real")
            #expect(throws: VolumeError.self) { try VolumeManager.resolveSubPath("escape", in: volume, container: "c") }
            #expect(throws: VolumeError.self) { try VolumeManager.resolveSubPath("escape/etc/made-by-capstan", in: volume, container: "c") }
            #expect(!FileManager.default.fileExists(atPath: "/etc/made-by-capstan"))
            let inside = try VolumeManager.resolveSubPath("inside/new/deeper", in: volume, container: "c")
            #expect(inside.hasSuffix("/v/real/new/deeper") && FileManager.default.fileExists(atPath: inside))
        }
    }

    @Test func fileModesKeepPermissionBitsOnly() throws {
        let files = try VolumeManager.files(from: ["k": [1]], source: ["defaultMode": .int(0o6755)], kind: "ConfigMap", name: "c")
        #expect(files.first?.mode == 0o755)
        let item = try VolumeManager.files(from: ["k": [1]], source: ["items": [["key": "k", "path": "k", "mode": .int(0o4777)]]], kind: "ConfigMap", name: "c")
        #expect(item.first?.mode == 0o777)
    }

    @Test func hostPathTypesAreChecked() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-volume") { directory in
            let created = try VolumeManager.prepareHostPath(directory.path + "/made", type: "DirectoryOrCreate")
            var isDirectory: ObjCBool = false
            #expect(FileManager.default.fileExists(atPath: created, isDirectory: &isDirectory) && isDirectory.boolValue)
            #expect(throws: VolumeError.self) { try VolumeManager.prepareHostPath(directory.path + "/absent", type: "Directory") }
            #expect(throws: VolumeError.self) { try VolumeManager.prepareHostPath("relative/path", type: "") }
            #expect(throws: VolumeError.self) { try VolumeManager.prepareHostPath(directory.path, type: "File") }
        }
    }
}
