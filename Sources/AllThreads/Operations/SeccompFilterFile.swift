import SystemPackage

extension SeccompFilter {
    /// Reads a filter in the text format of ``init(parsing:)`` from the file at `path`, then
    /// validates and compiles it (``validate()``) without loading it. Changes nothing.
    ///
    /// - Parameters:
    ///   - path: the file to read.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` starting with the path: the file cannot
    ///   be read, is not UTF-8, or holds a bad line (`filter.txt: line 3: unknown action 'deny'; …`).
    public init(contentsOf path: FilePath) throws(AllThreadsError) {
        let bytes: [UInt8]
        do throws(ProcfsError) { bytes = try Procfs.read(path.string) } catch {
            guard case .unreadable(let errno) = error.kind else { throw .procfs(error) }
            throw .invalidArgument("cannot read the seccomp filter '\(path)': \(errno)")
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidArgument("\(path): the seccomp filter is not UTF-8 text")
        }
        do throws(AllThreadsError) {
            try self.init(parsing: text)
            try validate()
        } catch {
            guard case .invalidArgument(let message) = error.kind else { throw error }
            throw .invalidArgument("\(path): \(message)")
        }
    }
}
