internal import CLibGit2

/// A failed git operation: what Capstan was doing and what libgit2 said.
package struct GitError: Error, Hashable, Sendable, CustomStringConvertible {
    package var operation: String
    package var message: String
    /// libgit2's error code (`GIT_ENOTFOUND` is -3).
    package var code: Int32

    package var description: String { "\(operation): \(message)" }

    static let notFound: Int32 = -3
    /// `GIT_EMODIFIED`: a reference or file changed under the operation.
    static let modified: Int32 = -15

    /// Builds an error from libgit2's last error for this thread.
    static func last(_ operation: String, code: Int32) -> GitError {
        let message: String
        if let error = git_error_last(), let text = error.pointee.message {
            message = String(cString: text)
        } else {
            message = "libgit2 error \(code)"
        }
        return GitError(operation: operation, message: message, code: code)
    }
}

/// Runs a libgit2 call and turns a negative result into a ``GitError``.
@discardableResult
func check(_ operation: @autoclosure () -> String, _ result: Int32) throws(GitError) -> Int32 {
    if result < 0 { throw GitError.last(operation(), code: result) }
    return result
}
