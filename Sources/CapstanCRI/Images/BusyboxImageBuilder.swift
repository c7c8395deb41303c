import CapstanSystem
import Crypto
package import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Builds a small OCI image from Debian's static busybox, so demos and tests need no registry.
///
/// The image has one layer: `/bin/busybox`, a symlink per applet in `/bin`, a minimal
/// `/etc/passwd` and `/etc/group` (root and nobody), and `/tmp`. Its default command is `sh`
/// unless `command` says otherwise (e.g. `sleep 2147483647` for a pause-like sandbox image).
/// The layer is built reproducibly (sorted names, zero mtimes, numeric owners), so the same
/// busybox binary always gives the same image id.
package struct BusyboxImageBuilder: Sendable {
    package var busyboxPath: String
    package var command: [String]

    package init(busyboxPath: String = "/bin/busybox", command: [String] = ["sh"]) {
        self.busyboxPath = busyboxPath
        self.command = command
    }

    /// Builds the image and imports it into the image store of the CRI state
    /// folder `criRoot` (what `capstan cri --root` names), keeping no layout behind.
    @discardableResult
    package func buildIntoStore(criRoot: String, name: ImageReference) async throws -> [ImageRecord] {
        let layout = FileManager.default.temporaryDirectory.appending(path: "capstan-busybox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: layout, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: layout) }
        try await buildLayout(at: layout, name: name)
        let store = try ImageStore(root: URL(fileURLWithPath: criRoot).appending(path: "images"))
        return try await ImageImporter(store: store).importImages(from: layout, name: name)
    }

    /// Writes an OCI image layout to `layout` holding one image named `name`.
    package func buildLayout(at layout: URL, name: ImageReference) async throws {
        let fileManager = FileManager.default
        guard fileManager.isExecutableFile(atPath: busyboxPath) else {
            throw CRIError.notFound("\(busyboxPath) is missing (apt-get install busybox-static)")
        }
        let staging = layout.appending(path: ".rootfs")
        try? fileManager.removeItem(at: staging)
        defer { try? fileManager.removeItem(at: staging) }
        for folder in ["bin", "etc", "tmp", "root", "proc", "sys", "dev", "home"] {
            try fileManager.createDirectory(at: staging.appending(path: folder), withIntermediateDirectories: true)
        }
        chmod(staging.appending(path: "tmp").path, 0o1777)
        try fileManager.copyItem(atPath: busyboxPath, toPath: staging.appending(path: "bin/busybox").path)
        let applets = try await Subprocess.check(busyboxPath, ["--list"])
        for applet in String(decoding: applets, as: UTF8.self).split(separator: "\n") where applet != "busybox" {
            try fileManager.createSymbolicLink(
                atPath: staging.appending(path: "bin/\(applet)").path, withDestinationPath: "busybox")
        }
        try Data("root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/home:/bin/false\n".utf8)
            .write(to: staging.appending(path: "etc/passwd"))
        try Data("root:x:0:\nnobody:x:65534:\n".utf8).write(to: staging.appending(path: "etc/group"))

        let blobs = layout.appending(path: "blobs/sha256")
        try fileManager.createDirectory(at: blobs, withIntermediateDirectories: true)
        let tarFile = layout.appending(path: ".layer.tar")
        defer { try? fileManager.removeItem(at: tarFile) }
        try await Subprocess.check(
            "tar",
            [
                "--sort=name", "--mtime=@0", "--numeric-owner", "--owner=0", "--group=0", "-C", staging.path,
                "-cf", tarFile.path, ".",
            ])
        let diffID = try sha256(ofFile: tarFile)
        try await Subprocess.check("gzip", ["-n", "-f", tarFile.path])
        let gzipFile = URL(fileURLWithPath: tarFile.path + ".gz")
        defer { try? fileManager.removeItem(at: gzipFile) }
        let layerDigest = try sha256(ofFile: gzipFile)
        let layerSize = try fileManager.attributesOfItem(atPath: gzipFile.path)[.size] as? Int64 ?? 0
        let layerTarget = blobs.appending(path: layerDigest.hex)
        try? fileManager.removeItem(at: layerTarget)
        try fileManager.moveItem(at: gzipFile, to: layerTarget)

        let configuration = OCIImageConfiguration(
            architecture: hostArchitecture, os: "linux",
            config: .init(
                user: nil, env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
                entrypoint: nil, cmd: command, workingDir: "/", stopSignal: nil, labels: nil),
            rootfs: .init(type: "layers", diffIDs: [diffID.description]))
        let configData = try JSONEncoder.sorted.encode(configuration)
        let configDigest = try write(configData, into: blobs)
        let manifest = OCIManifest(
            mediaType: MediaType.ociManifest,
            config: OCIDescriptor(mediaType: MediaType.ociConfig, digest: configDigest.description, size: Int64(configData.count)),
            layers: [OCIDescriptor(mediaType: MediaType.ociLayerGzip, digest: layerDigest.description, size: layerSize)])
        let manifestData = try JSONEncoder.sorted.encode(manifest)
        let manifestDigest = try write(manifestData, into: blobs)
        let index = OCIIndex(
            mediaType: MediaType.ociIndex,
            manifests: [
                OCIDescriptor(
                    mediaType: MediaType.ociManifest, digest: manifestDigest.description, size: Int64(manifestData.count),
                    annotations: [
                        "org.opencontainers.image.ref.name": name.tag ?? "latest",
                        "io.containerd.image.name": name.description,
                    ])
            ])
        try JSONEncoder.sorted.encode(index).write(to: layout.appending(path: "index.json"))
        try Data(#"{"imageLayoutVersion":"1.0.0"}"#.utf8).write(to: layout.appending(path: "oci-layout"))
    }

    private func write(_ data: Data, into blobs: URL) throws -> Digest {
        let digest = Digest.of(data)
        try data.write(to: blobs.appending(path: digest.hex))
        return digest
    }
}
