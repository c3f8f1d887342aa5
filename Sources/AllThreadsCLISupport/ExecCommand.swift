import AllThreads
import Glibc
import SystemPackage

/// A program to run in place of this process once a change is done, as `setpriv` and `gosu`
/// do. It is found in `PATH` before anything changes, so a typo fails before the change.
///
/// ```swift
/// let command = try ExecCommand(resolving: ["id", "-u"])
/// try PrivilegeDrop(user: "nobody").apply()
/// let error = command.exec()  // returns only when execve failed
/// ```
package struct ExecCommand: Sendable, Hashable {
    /// The file to execute: the name as given when it contains `/`, else the first match in `PATH`.
    package var path: String
    /// The argument vector; `arguments[0]` is the name as given.
    package var arguments: [String]

    /// The search path used when `PATH` is not set (glibc's `execvp` default).
    package static let defaultSearchPath = "/bin:/usr/bin"

    /// Resolves `arguments[0]` like `execvp`: a name with a `/` is used as it is; any other is
    /// looked up in `searchPath` (by default `PATH`). The file must be a regular file the
    /// process may execute now.
    ///
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an empty list or name, a name that
    ///   is in no directory of the search path, or a file that is not an executable regular file.
    package init(resolving arguments: [String], searchPath: String? = nil) throws(AllThreadsError) {
        guard let name = arguments.first else { throw .invalidArgument("no command given after '--'") }
        guard !name.isEmpty else { throw .invalidArgument("the command name after '--' is empty") }
        self.arguments = arguments
        if name.contains("/") {
            if let problem = Self.problem(with: name) { throw .invalidArgument("command '\(name)' \(problem)") }
            path = name
            return
        }
        let search = searchPath ?? getenv("PATH").map { String(cString: $0) } ?? Self.defaultSearchPath
        var firstProblem: String?
        for directory in search.split(separator: ":", omittingEmptySubsequences: false) {
            let candidate = (directory.isEmpty ? "." : String(directory)) + "/" + name
            guard let problem = Self.problem(with: candidate) else {
                path = candidate
                return
            }
            if firstProblem == nil, problem != Self.missing { firstProblem = "'\(candidate)' \(problem)" }
        }
        throw .invalidArgument("command '\(name)' not found in PATH (\(search))" + (firstProblem.map { "; \($0)" } ?? ""))
    }

    /// Replaces the process with the command (`execv`), after flushing every stdio stream.
    /// The environment is inherited.
    ///
    /// - Returns: only when `execv` failed: its error.
    package func exec() -> Errno {
        fflush(nil)
        var argv: [UnsafeMutablePointer<CChar>?] = arguments.map { strdup($0) }
        argv.append(nil)
        defer { for pointer in argv { free(pointer) } }
        execv(path, argv)
        return Errno(rawValue: errno)
    }

    /// Why `path` cannot be executed, or nil when it can.
    private static func problem(with path: String) -> String? {
        var info = stat()
        guard stat(path, &info) == 0 else { return errno == ENOENT || errno == ENOTDIR ? missing : "cannot be examined (\(Errno(rawValue: errno)))" }
        guard info.st_mode & S_IFMT == S_IFREG else { return "is not a regular file" }
        guard faccessat(AT_FDCWD, path, X_OK, AT_EACCESS) == 0 else { return "is not executable (\(Errno(rawValue: errno)))" }
        return nil
    }

    /// The problem of a file that does not exist.
    private static let missing = "does not exist"
}
