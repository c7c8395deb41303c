/// Why a patch could not be applied; the API server answers it as 422 or 400.
public struct PatchError: Error, Hashable, Sendable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
