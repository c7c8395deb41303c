import CRIAPI
import CapstanCore
import CapstanSystem
import CoreFoundation
import Foundation
import Glibc
import OrderedCollections

/// Sets up a pod's volumes under `<root>/pods/<uid>/volumes/<name>` and turns
/// `volumeMounts` into CRI bind mounts. ConfigMap, Secret, downward API and
/// projected volumes are rewritten (atomically) on every sync, so a changed
/// object (or a renewed service-account token) reaches running containers; Secrets, projected volumes and
/// `emptyDir.medium: Memory` live on tmpfs, never on disk. A `subPath` is
/// opened inside its volume and bind-mounted under
/// `<root>/pods/<uid>/volume-subpaths/` (see ``SubPath``).
struct VolumeManager: Sendable {
    let root: String
    /// Whether tmpfs can be mounted (root); otherwise Secrets use plain folders and say so.
    let canMount: Bool

    func podDirectory(_ uid: String) -> String { root + "/pods/" + uid }

    /// Host paths by volume name.
    func prepare(_ pod: Pod, references: PodReferences, podIP: String, hostIP: String) throws -> [String: String] {
        var paths: [String: String] = [:]
        for volume in pod.spec.volumes {
            do {
                paths[volume.name] = try prepare(volume, pod: pod, references: references, podIP: podIP, hostIP: hostIP)
            } catch {
                // Kubernetes' wording: MountVolume.SetUp failed for volume "v" : configmap "c" not found
                throw VolumeError("MountVolume.SetUp failed for volume \"\(volume.name)\" : \(error)")
            }
        }
        return paths
    }

    /// Sets up one volume; returns its host path.
    private func prepare(_ volume: Volume, pod: Pod, references: PodReferences, podIP: String, hostIP: String) throws -> String {
        let uid = pod.metadata.uid ?? ""
        let directory = podDirectory(uid) + "/volumes/" + volume.name
        let json = volume.json
        if let emptyDir = json["emptyDir"] {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            if emptyDir["medium"]?.stringValue == "Memory" {
                try mountTmpfs(directory, mode: 0o777, size: emptyDir["sizeLimit"].flatMap { try? Quantity(json: $0) }?.value)
            }
            chmod(directory, 0o777)
            return directory
        } else if let hostPath = json["hostPath"] {
            return try Self.prepareHostPath(hostPath["path"]?.stringValue ?? "", type: hostPath["type"]?.stringValue ?? "")
        } else if let source = json["configMap"] {
            let name = source["name"]?.stringValue ?? ""
            guard let data = references.configMaps[name] else {
                if source["optional"]?.boolValue ?? false { return try writeFiles([], into: directory, private: false) }
                throw VolumeError("configmap \"\(name)\" not found")
            }
            return try writeFiles(try Self.files(from: data, source: source, kind: "ConfigMap", name: name), into: directory, private: false)
        } else if let source = json["secret"] {
            let name = source["secretName"]?.stringValue ?? ""
            guard let data = references.secrets[name] else {
                if source["optional"]?.boolValue ?? false { return try writeFiles([], into: directory, private: true) }
                throw VolumeError("secret \"\(name)\" not found")
            }
            return try writeFiles(try Self.files(from: data, source: source, kind: "Secret", name: name), into: directory, private: true)
        } else if let source = json["downwardAPI"] {
            return try writeFiles(
                try Self.downwardFiles(
                    source["items"]?.arrayValue ?? [], defaultMode: source["defaultMode"]?.intValue, pod: pod, podIP: podIP, hostIP: hostIP),
                into: directory, private: false)
        } else if let source = json["projected"] {
            var files: [AtomicDirectoryWriter.File] = []
            let mode = source["defaultMode"]?.intValue
            for (index, projection) in (source["sources"]?.arrayValue ?? []).enumerated() {
                if let reference = projection["serviceAccountToken"] {
                    guard let token = references.serviceAccountTokens[PodReferences.tokenKey(volume: volume.name, source: index)] else {
                        throw VolumeError("no token was requested for its serviceAccountToken source")
                    }
                    let path = reference["path"]?.stringValue ?? ""
                    guard !path.isEmpty else { throw VolumeError("a serviceAccountToken source needs a path") }
                    files.append(.init(path: path, bytes: try token.get(), mode: Int(mode ?? 0o644) & 0o777))
                } else if let reference = projection["configMap"] {
                    let name = reference["name"]?.stringValue ?? ""
                    guard let data = references.configMaps[name] else {
                        if reference["optional"]?.boolValue ?? false { continue }
                        throw VolumeError("configmap \"\(name)\" not found")
                    }
                    files += try Self.files(from: data, source: reference, kind: "ConfigMap", name: name, defaultMode: mode)
                } else if let reference = projection["secret"] {
                    let name = reference["name"]?.stringValue ?? ""
                    guard let data = references.secrets[name] else {
                        if reference["optional"]?.boolValue ?? false { continue }
                        throw VolumeError("secret \"\(name)\" not found")
                    }
                    files += try Self.files(from: data, source: reference, kind: "Secret", name: name, defaultMode: mode)
                } else if let reference = projection["downwardAPI"] {
                    files += try Self.downwardFiles(reference["items"]?.arrayValue ?? [], defaultMode: mode, pod: pod, podIP: podIP, hostIP: hostIP)
                } else {
                    throw VolumeError(
                        "projected source \(projection.objectValue?.keys.sorted().first ?? "?") is not supported (supported: configMap, secret, downwardAPI, serviceAccountToken)"
                    )
                }
            }
            return try writeFiles(files, into: directory, private: true)
        } else {
            throw VolumeError(
                "\(volume.sourceKinds.first ?? "this source") volumes are not supported by the capstan agent yet (supported: emptyDir, hostPath, configMap, secret, downwardAPI, projected)"
            )
        }
    }

    /// CRI mounts for a container. A `subPath` picks a file or folder inside the
    /// volume: it is opened inside the volume and bind-mounted where the runtime
    /// cannot be redirected (see ``bindSubPath(_:of:at:pod:container:index:)``).
    func mounts(for container: Container, volumes: [String: String], pod: Pod) throws -> [Runtime_V1_Mount] {
        try container.volumeMounts.enumerated().map { index, mount in
            guard var hostPath = volumes[mount.name] else {
                throw VolumeError("container \"\(container.name)\": volumeMount \"\(mount.name)\" names no volume of the pod")
            }
            let readOnlySource =
                pod.spec.volumes.first { $0.name == mount.name }.map {
                    ["configMap", "secret", "downwardAPI", "projected"].contains($0.sourceKinds.first ?? "")
                } ?? false
            if let subPath = mount.subPath, !subPath.isEmpty {
                guard !subPath.hasPrefix("/"), !subPath.split(separator: "/").contains("..") else {
                    throw VolumeError("container \"\(container.name)\": subPath \"\(subPath)\" must be a relative path without '..'")
                }
                do {
                    hostPath = try bindSubPath(
                        subPath, of: mount.name, at: hostPath, pod: pod.metadata.uid ?? "", container: container.name, index: index)
                } catch {
                    throw VolumeError("container \"\(container.name)\": subPath \"\(subPath)\": \(error)")
                }
            }
            var result = Runtime_V1_Mount()
            result.containerPath = mount.mountPath
            result.hostPath = hostPath
            result.readonly = mount.readOnly || readOnlySource
            return result
        }
    }

    /// Opens `subPath` inside the volume at `volumePath` and bind-mounts what was
    /// opened at `<pod>/volume-subpaths/<volume>/<container>/<index>`, the path the
    /// runtime mounts: a symlink swapped into the volume later cannot redirect it.
    /// A mount left there by an earlier start of the container is replaced.
    func bindSubPath(_ subPath: String, of volume: String, at volumePath: String, pod uid: String, container: String, index: Int) throws -> String {
        guard canMount else {
            throw VolumeError("needs an agent that can mount (root): the opened path is bind-mounted so it cannot be swapped")
        }
        guard !uid.isEmpty, ![volume, container].contains(where: { $0.isEmpty || $0.contains("/") || $0.hasPrefix(".") }) else {
            throw VolumeError("volume \"\(volume)\" and container \"\(container)\" must be plain names")
        }
        let descriptor = try SubPath.open(subPath, beneath: volumePath)
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw VolumeError("cannot read what it names: \(String(cString: strerror(errno)))") }
        let isDirectory = info.st_mode & S_IFMT == S_IFDIR

        let folder = podDirectory(uid) + "/volume-subpaths/\(volume)/\(container)"
        try PrivateDirectory.make(folder)
        let target = folder + "/\(index)"
        if Self.mountPoints(under: target).contains(target) { umount2(target, Int32(MNT_DETACH)) }
        var existing = stat()
        if lstat(target, &existing) == 0, (existing.st_mode & S_IFMT == S_IFDIR) != isDirectory {
            // The subPath changed between a folder and a file since the last start.
            try? FileManager.default.removeItem(atPath: target)
        }
        if isDirectory {
            guard mkdir(target, 0o700) == 0 || errno == EEXIST else {
                throw VolumeError("cannot create \(target): \(String(cString: strerror(errno)))")
            }
        } else {
            let placeholder = Glibc.open(target, O_CREAT | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0o600)
            guard placeholder >= 0 else { throw VolumeError("cannot create \(target): \(String(cString: strerror(errno)))") }
            close(placeholder)
        }
        guard mount("/proc/self/fd/\(descriptor)", target, nil, UInt(MS_BIND), nil) == 0 else {
            throw VolumeError("cannot bind-mount it at \(target): \(String(cString: strerror(errno)))")
        }
        return target
    }

    /// Unmounts what was mounted and removes the pod's folder. Nothing is removed while
    /// anything is still mounted under it: a subPath of a hostPath volume is bind-mounted
    /// there, and removing through it would delete the host's files.
    func cleanUp(_ uid: String) {
        let directory = podDirectory(uid)
        for mountPoint in Self.mountPoints(under: directory).sorted(by: >) { umount2(mountPoint, Int32(MNT_DETACH)) }
        guard Self.mountPoints(under: directory).isEmpty else { return }
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Pod folders on disk, by uid, so that the agent can clean up after pods it no longer knows.
    func podUIDsOnDisk() -> [String] {
        (try? FileManager.default.contentsOfDirectory(atPath: root + "/pods")) ?? []
    }

    // MARK: Sources

    static func files(
        from data: [String: [UInt8]], source: JSONValue, kind: String, name: String, defaultMode: Int64? = nil
    ) throws -> [AtomicDirectoryWriter.File] {
        // Permission bits only: never setuid, setgid or sticky from a manifest.
        let mode = Int(source["defaultMode"]?.intValue ?? defaultMode ?? 0o644) & 0o777
        guard let items = source["items"]?.arrayValue, !items.isEmpty else {
            return data.keys.sorted().map { AtomicDirectoryWriter.File(path: $0, bytes: data[$0]!, mode: mode) }
        }
        var files: [AtomicDirectoryWriter.File] = []
        for item in items {
            let key = item["key"]?.stringValue ?? ""
            guard let bytes = data[key] else {
                if source["optional"]?.boolValue ?? false { continue }
                throw VolumeError(
                    "configmap references non-existent config key: \(key)".replacingOccurrences(
                        of: "configmap", with: kind == "Secret" ? "secret" : "configmap"))
            }
            files.append(.init(path: item["path"]?.stringValue ?? key, bytes: bytes, mode: Int(item["mode"]?.intValue ?? Int64(mode)) & 0o777))
        }
        return files
    }

    static func downwardFiles(_ items: [JSONValue], defaultMode: Int64?, pod: Pod, podIP: String, hostIP: String) throws -> [AtomicDirectoryWriter
        .File]
    {
        try items.map { item in
            let path = item["path"]?.stringValue ?? ""
            let mode = Int(item["mode"]?.intValue ?? defaultMode ?? 0o644) & 0o777
            if let field = item["fieldRef"]?["fieldPath"]?.stringValue {
                guard let value = PodFields.value(of: field, pod: pod, podIP: podIP, hostIP: hostIP) else {
                    throw VolumeError("downwardAPI item \"\(path)\": unsupported fieldPath \(field)")
                }
                return .init(path: path, bytes: Array(value.utf8), mode: mode)
            }
            if let reference = item["resourceFieldRef"] {
                let named = reference["containerName"]?.stringValue ?? ""
                guard let container = pod.spec.containers.first(where: { $0.name == named }),
                    let value = PodFields.resource(reference["resource"]?.stringValue ?? "", of: container, divisor: reference["divisor"])
                else { throw VolumeError("downwardAPI item \"\(path)\": resourceFieldRef needs a container of the pod and a resource") }
                return .init(path: path, bytes: Array(value.utf8), mode: mode)
            }
            throw VolumeError("downwardAPI item \"\(path)\" needs fieldRef or resourceFieldRef")
        }
    }

    static func prepareHostPath(_ path: String, type: String) throws -> String {
        guard path.hasPrefix("/") else { throw VolumeError("hostPath \"\(path)\" must be absolute") }
        let manager = FileManager.default
        var isDirectory: ObjCBool = false
        let exists = manager.fileExists(atPath: path, isDirectory: &isDirectory)
        switch type {
        case "", "Unset": break
        case "DirectoryOrCreate": if !exists { try manager.createDirectory(atPath: path, withIntermediateDirectories: true) }
        case "Directory": guard exists, isDirectory.boolValue else { throw VolumeError("hostPath type check failed: \(path) is not a directory") }
        case "FileOrCreate": if !exists { manager.createFile(atPath: path, contents: nil, attributes: [.posixPermissions: 0o644]) }
        case "File": guard exists, !isDirectory.boolValue else { throw VolumeError("hostPath type check failed: \(path) is not a file") }
        case "Socket", "CharDevice", "BlockDevice":
            var info = stat()
            let wanted: mode_t = type == "Socket" ? S_IFSOCK : type == "CharDevice" ? S_IFCHR : S_IFBLK
            guard stat(path, &info) == 0, info.st_mode & S_IFMT == wanted else {
                throw VolumeError("hostPath type check failed: \(path) is not a \(type)")
            }
        default: throw VolumeError("hostPath \"\(path)\": unknown type \(type)")
        }
        return path
    }

    // MARK: tmpfs

    /// Writes a ConfigMap, Secret, downward API or projected volume; returns the folder to mount.
    ///
    /// A private volume (Secret, projected) lives on a tmpfs mounted with mode 0700 at
    /// `directory`, so no one else on the host can list or read it; its files go into
    /// `directory/volume` (0755), the folder the container mounts, where they keep
    /// their `defaultMode` (0644 unless the pod says otherwise) so that a container
    /// running as any user can read them, as in Kubernetes.
    private func writeFiles(_ files: [AtomicDirectoryWriter.File], into directory: String, private isPrivate: Bool) throws -> String {
        guard isPrivate else {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            try AtomicDirectoryWriter.write(files, into: directory)
            return directory
        }
        try FileManager.default.createDirectory(
            atPath: (directory as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        guard mkdir(directory, 0o700) == 0 || errno == EEXIST else {
            throw VolumeError("cannot create \(directory): \(String(cString: strerror(errno)))")
        }
        try mountTmpfs(directory, mode: 0o700, size: nil)
        let contents = directory + "/volume"
        guard mkdir(contents, 0o755) == 0 || errno == EEXIST else {
            throw VolumeError("cannot create \(contents): \(String(cString: strerror(errno)))")
        }
        try AtomicDirectoryWriter.write(files, into: contents)
        return contents
    }

    /// Mounts a tmpfs on `directory` whose root has `mode` from the start.
    private func mountTmpfs(_ directory: String, mode: Int, size: Int64?) throws {
        guard canMount, !Self.mountPoints(under: directory).contains(directory) else { return }
        let options = "mode=0" + String(mode, radix: 8) + (size.map { ",size=\($0)" } ?? "")
        guard mount("tmpfs", directory, "tmpfs", UInt(MS_NOSUID | MS_NODEV), options) == 0 else {
            throw VolumeError("cannot mount tmpfs on \(directory): \(String(cString: strerror(errno)))")
        }
    }

    static func mountPoints(under directory: String) -> [String] {
        guard let text = ProcFile.read("/proc/self/mountinfo") else { return [] }
        return text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ")
            guard fields.count > 4 else { return nil }
            let point = String(fields[4]).replacingOccurrences(of: "\\040", with: " ")
            return point == directory || point.hasPrefix(directory + "/") ? point : nil
        }
    }
}
