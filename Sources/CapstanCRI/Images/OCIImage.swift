import Foundation

/// Media types Capstan reads and writes.
package enum MediaType {
    package static let ociIndex = "application/vnd.oci.image.index.v1+json"
    package static let ociManifest = "application/vnd.oci.image.manifest.v1+json"
    package static let ociConfig = "application/vnd.oci.image.config.v1+json"
    package static let ociLayerGzip = "application/vnd.oci.image.layer.v1.tar+gzip"
    package static let ociLayer = "application/vnd.oci.image.layer.v1.tar"
    package static let dockerManifest = "application/vnd.docker.distribution.manifest.v2+json"
    package static let dockerManifestList = "application/vnd.docker.distribution.manifest.list.v2+json"
    package static let dockerLayerGzip = "application/vnd.docker.image.rootfs.diff.tar.gzip"
    package static let dockerConfig = "application/vnd.docker.container.image.v1+json"

    static func isIndex(_ type: String?) -> Bool { type == ociIndex || type == dockerManifestList }
}

/// An OCI content descriptor.
package struct OCIDescriptor: Codable, Hashable, Sendable {
    package var mediaType: String
    package var digest: String
    package var size: Int64
    package var platform: OCIPlatform?
    package var annotations: [String: String]?
}

package struct OCIPlatform: Codable, Hashable, Sendable {
    package var architecture: String
    package var os: String
    package var variant: String?
}

/// An image index (OCI) or manifest list (Docker); also `index.json` of an OCI layout.
package struct OCIIndex: Codable, Sendable {
    package var schemaVersion: Int = 2
    package var mediaType: String?
    package var manifests: [OCIDescriptor]
}

/// An image manifest (OCI or Docker schema 2).
package struct OCIManifest: Codable, Sendable {
    package var schemaVersion: Int = 2
    package var mediaType: String?
    package var config: OCIDescriptor
    package var layers: [OCIDescriptor]
}

/// The parts of an image configuration the runtime uses; other fields are kept as raw JSON
/// by the store (it holds the blob, not this struct).
package struct OCIImageConfiguration: Codable, Sendable {
    /// Keys as the OCI image spec spells them (Go field names).
    package struct Config: Codable, Sendable {
        package var user: String?
        package var env: [String]?
        package var entrypoint: [String]?
        package var cmd: [String]?
        package var workingDir: String?
        package var stopSignal: String?
        package var labels: [String: String]?

        enum CodingKeys: String, CodingKey {
            case user = "User"
            case env = "Env"
            case entrypoint = "Entrypoint"
            case cmd = "Cmd"
            case workingDir = "WorkingDir"
            case stopSignal = "StopSignal"
            case labels = "Labels"
        }
    }
    package struct RootFS: Codable, Sendable {
        package var type: String
        package var diffIDs: [String]

        enum CodingKeys: String, CodingKey {
            case type
            case diffIDs = "diff_ids"
        }
    }
    package var architecture: String?
    package var os: String?
    package var config: Config?
    package var rootfs: RootFS?
}

/// The host's architecture in OCI spelling.
package var hostArchitecture: String {
    #if arch(x86_64)
        "amd64"
    #elseif arch(arm64)
        "arm64"
    #else
        "unknown"
    #endif
}
