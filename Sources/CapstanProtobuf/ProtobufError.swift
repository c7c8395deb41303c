/// Why a protobuf body could not be read or an object could not be written as protobuf:
/// what went wrong, where in the object (`spec.template.spec.containers[0].image`) and, when
/// reading, at which byte of the body.
package struct ProtobufError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The field path the error is about; empty for the envelope itself.
    package var path: String
    /// The offset in the body where reading failed; nil when writing.
    package var offset: Int?
    package var reason: String
    /// The kind of a well-formed object that has no protobuf message (`Widget in example.com/v1`):
    /// a media type the server cannot read for it rather than a malformed body.
    package var kindWithoutMessage: String?

    package init(path: String = "", offset: Int? = nil, _ reason: String, kindWithoutMessage: String? = nil) {
        self.path = path
        self.offset = offset
        self.reason = reason
        self.kindWithoutMessage = kindWithoutMessage
    }

    package var description: String {
        var location: [String] = []
        if !path.isEmpty { location.append(path) }
        if let offset { location.append("at byte \(offset)") }
        return location.isEmpty ? reason : "\(location.joined(separator: " ")): \(reason)"
    }
}
