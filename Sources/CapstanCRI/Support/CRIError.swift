package import GRPCCore

/// A failure of a CRI call, carrying the gRPC status it maps to.
///
/// Everything the runtime throws is either a `CRIError` or gets mapped to one in
/// `CRIError.rpcError(from:)`, the single place where errors become gRPC statuses.
package struct CRIError: Error, CustomStringConvertible, Sendable {
    package enum Kind: Sendable {
        case invalidArgument, notFound, alreadyExists, failedPrecondition, unimplemented, deadlineExceeded,
            resourceExhausted, `internal`, unavailable
    }

    package var kind: Kind
    package var message: String

    package init(_ kind: Kind, _ message: String) {
        self.kind = kind
        self.message = message
    }

    package var description: String { message }

    package static func invalidArgument(_ message: String) -> CRIError { CRIError(.invalidArgument, message) }
    package static func notFound(_ message: String) -> CRIError { CRIError(.notFound, message) }
    package static func failedPrecondition(_ message: String) -> CRIError { CRIError(.failedPrecondition, message) }
    package static func unimplemented(_ message: String) -> CRIError { CRIError(.unimplemented, message) }
    package static func `internal`(_ message: String) -> CRIError { CRIError(.internal, message) }

    /// Maps any error raised while serving a call to the `RPCError` the client receives.
    package static func rpcError(from error: any Error) -> RPCError {
        switch error {
        case let error as RPCError:
            return error
        case let error as CRIError:
            return RPCError(code: error.kind.code, message: error.message)
        case is CancellationError:
            return RPCError(code: .cancelled, message: "the call was cancelled")
        default:
            return RPCError(code: .internalError, message: String(describing: error))
        }
    }
}

extension CRIError.Kind {
    var code: RPCError.Code {
        switch self {
        case .invalidArgument: .invalidArgument
        case .notFound: .notFound
        case .alreadyExists: .alreadyExists
        case .failedPrecondition: .failedPrecondition
        case .unimplemented: .unimplemented
        case .deadlineExceeded: .deadlineExceeded
        case .resourceExhausted: .resourceExhausted
        case .internal: .internalError
        case .unavailable: .unavailable
        }
    }
}

/// Runs a handler body and converts whatever it throws with `CRIError.rpcError(from:)`.
func mappingErrors<Result>(_ body: () async throws -> Result) async throws(RPCError) -> Result {
    do {
        return try await body()
    } catch {
        throw CRIError.rpcError(from: error)
    }
}
