/// How much an image may bring onto the node. Every limit is checked while bytes arrive,
/// so data past a limit is never buffered or written.
package struct ImageLimits: Sendable {
    /// Largest manifest, index, image configuration or token response, in bytes.
    package var maxDocumentBytes = 4 << 20
    /// Largest single blob (a compressed layer), in bytes; larger declared sizes are refused
    /// before any download.
    package var maxBlobBytes: Int64 = 8 << 30
    /// Largest image: the declared sizes of its configuration and layers added up.
    package var maxImageBytes: Int64 = 32 << 30
    /// Largest unpacked (decompressed) layer, in bytes: a gzip bomb stops here.
    package var maxUnpackedLayerBytes: Int64 = 16 << 30
    /// A registry connection on which nothing arrives for this long is closed.
    package var readTimeout: Duration = .seconds(60)

    package init() {}

    /// Adds descriptor sizes without overflow, refusing negative sizes and totals over `maxImageBytes`.
    /// - Parameter sizes: (what, declared size) pairs, e.g. ("layer 2", 1234).
    package func checkImageSize(_ sizes: [(what: String, size: Int64)]) throws {
        var total: Int64 = 0
        for (what, size) in sizes {
            guard size >= 0 else { throw CRIError.invalidArgument("\(what) declares a negative size (\(size))") }
            guard size <= maxBlobBytes else {
                throw CRIError(.resourceExhausted, "\(what) declares \(size) bytes, more than the \(maxBlobBytes)-byte limit for one blob")
            }
            let (sum, overflow) = total.addingReportingOverflow(size)
            guard !overflow, sum <= maxImageBytes else {
                throw CRIError(.resourceExhausted, "the image's blobs add up to more than the \(maxImageBytes)-byte limit for one image")
            }
            total = sum
        }
    }
}
