import CRIAPI
import CapstanCore
import CapstanSystem
import CapstanTestSupport
import CoreFoundation
import Foundation
import OrderedCollections
import Testing

@testable import CapstanAgent

/// Volume files written atomically, updates swapped in, hostile paths refused.
struct VolumeTests {
    @Test func filesAreSwappedAtomicallyAndStaleOnesGo() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-volume") { directory in
            let volume = directory.path + "/config"
            #expect(
                try AtomicDirectoryWriter.write(
                    [.init(path: "a.txt", bytes: Array("one".utf8), mode: 0o644), .init(path: "dir/b.txt", bytes: Array("two".utf8), mode: 0o600)],
                    into: volume))
            #expect(try String(contentsOfFile: volume + "/a.txt", encoding: .utf8) == "one")
            #expect(try String(contentsOfFile: volume + "/dir/b.txt", encoding: .utf8) == "two")
            let firstTarget = try FileManager.default.destinationOfSymbolicLink(atPath: volume + "/..data")
            // The same content changes nothing.
            #expect(
                try !AtomicDirectoryWriter.write(
                    [.init(path: "a.txt", bytes: Array("one".utf8), mode: 0o644), .init(path: "dir/b.txt", bytes: Array("two".utf8), mode: 0o600)],
                    into: volume))
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
                #expect(throws: VolumeError.self) {
                    try AtomicDirectoryWriter.write([.init(path: path, bytes: [1], mode: 0o644)], into: directory.path + "/v")
                }
            }
            #expect(!FileManager.default.fileExists(atPath: directory.path + "/escape"))
        }
    }

    @Test func configMapItemsModesAndMissingKeys() throws {
        let data: [String: [UInt8]] = ["a": Array("1".utf8), "b": Array("2".utf8)]
        let all = try VolumeManager.files(from: data, source: ["defaultMode": 0o400], kind: "ConfigMap", name: "c")
        #expect(all.map(\.path) == ["a", "b"] && all.allSatisfy { $0.mode == 0o400 })
        let picked = try VolumeManager.files(
            from: data, source: ["items": [["key": "b", "path": "sub/b.conf", "mode": 0o600]]], kind: "ConfigMap", name: "c")
        #expect(picked == [.init(path: "sub/b.conf", bytes: Array("2".utf8), mode: 0o600)])
        #expect(throws: VolumeError.self) {
            try VolumeManager.files(from: data, source: ["items": [["key": "zzz", "path": "z"]]], kind: "Secret", name: "s")
        }
    }

    @Test func theServiceAccountVolumeHoldsTokenCertificateAndNamespace() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-volume") { directory in
            let manager = VolumeManager(root: directory.path, canMount: false)
            let volume: JSONValue = [
                "name": "kube-api-access-abcde",
                "projected": [
                    "sources": [
                        ["serviceAccountToken": ["expirationSeconds": 3607, "path": "token"]],
                        ["configMap": ["name": "kube-root-ca.crt", "items": [["key": "ca.crt", "path": "ca.crt"]]]],
                        ["downwardAPI": ["items": [["path": "namespace", "fieldRef": ["apiVersion": "v1", "fieldPath": "metadata.namespace"]]]]],
                    ],
                    "defaultMode": 420,
                ],
            ]
            let pod = Pod(json: [
                "metadata": ["name": "p", "namespace": "demo", "uid": "u1"], "spec": ["containers": [["name": "c"]], "volumes": [volume]],
            ])
            var references = PodReferences(configMaps: ["kube-root-ca.crt": ["ca.crt": Array("PEM".utf8)]])
            references.serviceAccountTokens[PodReferences.tokenKey(volume: "kube-api-access-abcde", source: 0)] = .success(Array("a.b.c".utf8))
            let folder = try #require(try manager.prepare(pod, references: references, podIP: "", hostIP: "")["kube-api-access-abcde"])
            #expect(try String(contentsOfFile: folder + "/token", encoding: .utf8) == "a.b.c")
            #expect(try String(contentsOfFile: folder + "/ca.crt", encoding: .utf8) == "PEM")
            #expect(try String(contentsOfFile: folder + "/namespace", encoding: .utf8) == "demo")
            // The file the `token` link points at, in the folder swapped in atomically.
            let mode = try FileManager.default.attributesOfItem(atPath: folder + "/..data/token")[.posixPermissions] as? Int
            #expect(mode == 0o644)
            // No token (the account does not exist yet): the mount fails and says why.
            references.serviceAccountTokens[PodReferences.tokenKey(volume: "kube-api-access-abcde", source: 0)] = .failure(
                VolumeError("failed to fetch token: serviceaccounts \"default\" not found"))
            do {
                _ = try manager.prepare(pod, references: references, podIP: "", hostIP: "")
                Issue.record("a volume without its token was set up")
            } catch {
                #expect(
                    "\(error)"
                        == #"MountVolume.SetUp failed for volume "kube-api-access-abcde" : failed to fetch token: serviceaccounts "default" not found"#
                )
            }
            manager.cleanUp("u1")
        }
    }

    @Test func volumesAreSetUpAndMountedByName() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-volume") { directory in
            let manager = VolumeManager(root: directory.path, canMount: false)
            let pod = Pod(json: [
                "metadata": ["name": "p", "namespace": "default", "uid": "u1", "labels": ["app": "web"]],
                "spec": [
                    "containers": [
                        [
                            "name": "c",
                            "volumeMounts": [
                                ["name": "scratch", "mountPath": "/scratch"], ["name": "config", "mountPath": "/etc/app"],
                                ["name": "info", "mountPath": "/etc/info"],
                            ],
                        ]
                    ],
                    "volumes": [
                        ["name": "scratch", "emptyDir": [:]], ["name": "config", "configMap": ["name": "settings"]],
                        ["name": "info", "downwardAPI": ["items": [["path": "labels", "fieldRef": ["fieldPath": "metadata.labels"]]]]],
                    ],
                ],
            ])
            let paths = try manager.prepare(
                pod, references: PodReferences(configMaps: ["settings": ["k": Array("v".utf8)]]), podIP: "10.0.0.1", hostIP: "h")
            #expect(try String(contentsOfFile: paths["config"]! + "/k", encoding: .utf8) == "v")
            #expect(try String(contentsOfFile: paths["info"]! + "/labels", encoding: .utf8) == "app=\"web\"")
            let mounts = try manager.mounts(for: pod.spec.containers[0], volumes: paths, pod: pod)
            #expect(mounts.map(\.containerPath) == ["/scratch", "/etc/app", "/etc/info"])
            #expect(mounts[1].readonly && !mounts[0].readonly)
            // An agent that cannot mount cannot make a subPath safe, and says so.
            let subPath = Container(json: ["name": "c", "volumeMounts": [["name": "scratch", "mountPath": "/cache", "subPath": "cache"]]])
            #expect(throws: VolumeError.self) { try manager.mounts(for: subPath, volumes: paths, pod: pod) }
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

    @Test func fileModesKeepPermissionBitsOnly() throws {
        let files = try VolumeManager.files(from: ["k": [1]], source: ["defaultMode": .int(0o6755)], kind: "ConfigMap", name: "c")
        #expect(files.first?.mode == 0o755)
        let item = try VolumeManager.files(
            from: ["k": [1]], source: ["items": [["key": "k", "path": "k", "mode": .int(0o4777)]]], kind: "ConfigMap", name: "c")
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

/// What needs root: tmpfs and bind mounts, as the agent makes them for real pods.
@Suite(.enabled(if: getuid() == 0, "mounts tmpfs and bind mounts"))
struct MountedVolumeTests {
    static func pod(uid: String, mounts: [JSONValue], volumes: [JSONValue]) -> Pod {
        Pod(json: [
            "metadata": ["name": "p", "namespace": "default", "uid": .string(uid)],
            "spec": ["containers": [["name": "c", "volumeMounts": .array(mounts)]], "volumes": .array(volumes)],
        ])
    }

    static func mode(_ path: String) -> mode_t {
        var info = stat()
        return stat(path, &info) == 0 ? info.st_mode & 0o7777 : 0
    }

    /// Whether a tmpfs is mounted at `path` (from /proc/self/mountinfo: mount point, then the type after " - ").
    static func isTmpfs(_ path: String) -> Bool {
        let lines = ProcFile.read("/proc/self/mountinfo")?.split(separator: "\n") ?? []
        return lines.contains { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4, fields[4] == path, let separator = fields.firstIndex(of: "-"), separator + 1 < fields.count else { return false }
            return fields[separator + 1] == "tmpfs"
        }
    }

    /// A subPath is opened inside its volume and bind-mounted: a container that swaps the
    /// folder for a symlink to the host after the agent looked cannot redirect the mount.
    @Test func aSymlinkSwappedInAfterTheCheckCannotRedirectASubPath() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-subpath") { directory in
            let manager = VolumeManager(root: directory.path + "/agent", canMount: true)
            let outside = directory.path + "/host-secrets"
            try FileManager.default.createDirectory(atPath: outside, withIntermediateDirectories: true)
            try "host".write(toFile: outside + "/marker", atomically: false, encoding: .utf8)
            let pod = Self.pod(
                uid: "u-swap", mounts: [["name": "scratch", "mountPath": "/data", "subPath": "data"]],
                volumes: [["name": "scratch", "emptyDir": [:]]])
            defer { manager.cleanUp("u-swap") }
            let paths = try manager.prepare(pod, references: PodReferences(), podIP: "", hostIP: "")
            let volume = try #require(paths["scratch"])
            try FileManager.default.createDirectory(atPath: volume + "/data", withIntermediateDirectories: true)
            try "volume".write(toFile: volume + "/data/marker", atomically: false, encoding: .utf8)

            let mount = try #require(try manager.mounts(for: pod.spec.containers[0], volumes: paths, pod: pod).first)
            #expect(!mount.hostPath.hasPrefix(volume), "the runtime gets the agent's bind mount, not a path inside the volume: \(mount.hostPath)")
            // What a container can do between the agent's check and the runtime's mount.
            #expect(rename(volume + "/data", volume + "/data.old") == 0)
            try FileManager.default.createSymbolicLink(atPath: volume + "/data", withDestinationPath: outside)
            #expect(try String(contentsOfFile: mount.hostPath + "/marker", encoding: .utf8) == "volume")

            // Once the symlink is there, the subPath is refused outright.
            #expect(throws: VolumeError.self) { try manager.mounts(for: pod.spec.containers[0], volumes: paths, pod: pod) }
        }
    }

    @Test func subPathsThatLeaveTheVolumeAreRefusedAndNothingIsCreatedOutside() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-subpath") { directory in
            let manager = VolumeManager(root: directory.path + "/agent", canMount: true)
            let pod = Self.pod(uid: "u-escape", mounts: [], volumes: [["name": "scratch", "emptyDir": [:]]])
            defer { manager.cleanUp("u-escape") }
            let paths = try manager.prepare(pod, references: PodReferences(), podIP: "", hostIP: "")
            let volume = try #require(paths["scratch"])
            try FileManager.default.createSymbolicLink(atPath: volume + "/root", withDestinationPath: "/")
            try FileManager.default.createSymbolicLink(atPath: volume + "/up", withDestinationPath: "../../../..")
            for subPath in ["root", "root/etc", "up", "up/made-by-capstan", "root/tmp/made-by-capstan"] {
                let container = Container(json: ["name": "c", "volumeMounts": [["name": "scratch", "mountPath": "/x", "subPath": .string(subPath)]]])
                do {
                    _ = try manager.mounts(for: container, volumes: paths, pod: pod)
                    Issue.record("subPath \(subPath) was accepted")
                } catch {
                    #expect("\(error)".contains("leads outside its volume"), "\(subPath): \(error)")
                }
            }
            #expect(!FileManager.default.fileExists(atPath: "/tmp/made-by-capstan"))
            #expect(!FileManager.default.fileExists(atPath: directory.path + "/made-by-capstan"))
        }
    }

    @Test func goodSubPathsAreCreatedInsideTheVolumeAndFollowKeySymlinks() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-subpath") { directory in
            let manager = VolumeManager(root: directory.path + "/agent", canMount: true)
            let pod = Self.pod(
                uid: "u-good",
                mounts: [
                    ["name": "scratch", "mountPath": "/cache", "subPath": "cache/deeper"],
                    ["name": "config", "mountPath": "/etc/app.conf", "subPath": "app.conf"],
                ],
                volumes: [["name": "scratch", "emptyDir": [:]], ["name": "config", "configMap": ["name": "settings"]]])
            let paths = try manager.prepare(
                pod, references: PodReferences(configMaps: ["settings": ["app.conf": Array("mode=fast".utf8)]]), podIP: "", hostIP: "")
            let mounts = try manager.mounts(for: pod.spec.containers[0], volumes: paths, pod: pod)
            #expect(FileManager.default.fileExists(atPath: paths["scratch"]! + "/cache/deeper"))
            try "written".write(toFile: mounts[0].hostPath + "/file", atomically: false, encoding: .utf8)
            #expect(try String(contentsOfFile: paths["scratch"]! + "/cache/deeper/file", encoding: .utf8) == "written")
            // A ConfigMap key is a symlink through ..data, inside the volume: followed.
            #expect(try String(contentsOfFile: mounts[1].hostPath, encoding: .utf8) == "mode=fast")
            #expect(mounts[1].readonly)
            // A second start of the container replaces its mounts instead of stacking them.
            _ = try manager.mounts(for: pod.spec.containers[0], volumes: paths, pod: pod)
            let stacked = VolumeManager.mountPoints(under: manager.podDirectory("u-good")).filter { $0 == mounts[0].hostPath }
            #expect(stacked.count == 1, "\(stacked)")
            manager.cleanUp("u-good")
            #expect(VolumeManager.mountPoints(under: manager.podDirectory("u-good")).isEmpty)
            #expect(!FileManager.default.fileExists(atPath: manager.podDirectory("u-good")))
        }
    }

    /// Secrets live on a tmpfs only root may enter (mode 0700 from the mount itself); their
    /// files keep `defaultMode` and item modes, inside the folder containers mount.
    @Test func secretVolumesAreOnPrivateTmpfsWithTheModesAskedFor() async throws {
        try await TemporaryDirectory.with(prefix: "capstan-secret") { directory in
            let manager = VolumeManager(root: directory.path + "/agent", canMount: true)
            let pod = Self.pod(
                uid: "u-secret", mounts: [["name": "creds", "mountPath": "/creds"], ["name": "token", "mountPath": "/token"]],
                volumes: [
                    [
                        "name": "creds",
                        "secret": [
                            "secretName": "db", "defaultMode": 0o640,
                            "items": [["key": "password", "path": "password"], ["key": "user", "path": "user", "mode": 0o664]],
                        ],
                    ],
                    ["name": "token", "secret": ["secretName": "db"]],
                ])
            defer { manager.cleanUp("u-secret") }
            let secret: [String: [UInt8]] = ["password": Array("hunter2".utf8), "user": Array("app".utf8)]
            let paths = try manager.prepare(pod, references: PodReferences(secrets: ["db": secret]), podIP: "", hostIP: "")
            for name in ["creds", "token"] {
                let volume = manager.podDirectory("u-secret") + "/volumes/" + name
                #expect(Self.isTmpfs(volume), "\(volume) is on tmpfs")
                #expect(Self.mode(volume) == 0o700, "\(name): tmpfs root \(String(Self.mode(volume), radix: 8))")
                #expect(paths[name] == volume + "/volume")
                #expect(Self.mode(volume + "/volume") == 0o755)
            }
            #expect(Self.mode(paths["creds"]! + "/password") == 0o640)
            #expect(Self.mode(paths["creds"]! + "/user") == 0o664)  // exactly, whatever the umask
            #expect(Self.mode(paths["token"]! + "/password") == 0o644)  // Kubernetes' default
            #expect(try String(contentsOfFile: paths["creds"]! + "/password", encoding: .utf8) == "hunter2")
        }
    }
}
