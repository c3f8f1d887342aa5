/// A text file the caller names (a seccomp filter, a sandbox profile), read whole and parsed, with
/// every error starting with the file's path.
enum ConfigurationFile {
    /// Reads `path` as UTF-8 and parses it with `parse`; an invalid-argument error of `parse` gets
    /// `label` (the path as the messages show it) in front. `what` names the file ("the seccomp
    /// filter"), and `named` the path, in the error of a file that cannot be read.
    static func parse<T>(
        _ path: String, label: String, named: String, what: String, _ parse: (String) throws(AllThreadsError) -> T
    ) throws(AllThreadsError) -> T {
        let bytes: [UInt8]
        do throws(ProcfsError) { bytes = try Procfs.read(path) } catch {
            guard case .unreadable(let errno) = error.kind else { throw .procfs(error) }
            throw .invalidArgument("cannot read \(what) \(named): \(errno)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidArgument("\(label): \(what) is not UTF-8 text")
        }
        do throws(AllThreadsError) { return try parse(text) } catch {
            guard case .invalidArgument(let message) = error.kind else { throw error }
            throw .invalidArgument("\(label): \(message)")
        }
    }
}
