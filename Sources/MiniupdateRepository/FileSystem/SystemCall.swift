import MiniupdateCore
#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Runs a POSIX call that returns -1 and sets `errno` on failure, retrying on `EINTR`, and
/// turns a failure into an `UpdateError` that names the operation and the path.
///
/// A full disk (`ENOSPC`, `EDQUOT`) maps to `no-space` so that callers
/// and clients can tell it apart from other I/O failures.
@discardableResult
package func systemCall<Result: BinaryInteger>(_ operation: @autoclosure () -> String, _ path: @autoclosure () -> String, _ body: () -> Result) throws -> Result {
    while true {
        let result = body()
        if result != -1 { return result }
        let code = errno
        if code == EINTR { continue }
        throw UpdateError(systemErrno: code, operation: operation(), path: path())
    }
}

extension UpdateError {
    package init(systemErrno code: Int32, operation: String, path: String) {
        let reason = String(cString: strerror(code))
        let errorCode: UpdateError.Code = (code == ENOSPC || code == EDQUOT) ? .noSpace : .io
        self.init(errorCode, "\(operation) \(path): \(reason)")
    }
}
