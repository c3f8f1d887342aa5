import AllThreads
import SystemPackage

/// Why a command did not succeed, and so its exit status.
package enum CommandFailure: Error {
    /// A bad argument: nothing changed. Exit status 2.
    case usage(String)
    /// The change, its verification, or `inspect`'s comparison failed. Exit status 1.
    case failed(String)
    /// `inspect` could not read what it was asked to compare (a process, a thread, or a file of
    /// either), and found no thread that differs: it cannot say they agree. Exit status 3.
    case unreadable(String)
    /// The command after `--` could not be executed after the change: 127 when it is gone, else 126.
    case exec(command: String, Errno)
    /// The exec gave this process privileges its caller lacks: nothing was read or changed. Exit status 2.
    case refused(SecureExecution.Refusal)

    /// A usage failure for an error thrown while resolving arguments.
    package static func usage(_ error: AllThreadsError) -> CommandFailure {
        .usage(error.message ?? error.description)
    }

    /// The process's exit status.
    package var status: Int32 {
        switch self {
        case .usage, .refused: 2
        case .failed: 1
        case .unreadable: 3
        case .exec(_, let errno): errno == .noSuchFileOrDirectory || errno == .notDirectory ? 127 : 126
        }
    }

    /// Writes the failure to standard error as one line, names and paths in it escaped
    /// (``StandardError/line(_:)``); a failed write is ignored, the exit status still tells.
    package func report() {
        let message: String
        switch self {
        case .usage(let text): message = text
        case .failed(let text): message = text
        case .unreadable(let text): message = text
        case .exec(let command, let errno): message = "cannot run '\(command)' after the change: \(errno)"
        case .refused(let refusal): message = refusal.description
        }
        StandardError.line("allthreads: \(message)")
    }
}
