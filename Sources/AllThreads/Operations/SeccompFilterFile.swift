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
        self = try ConfigurationFile.parse(path.string, label: path.string, named: "'\(path)'", what: "the seccomp filter") { text throws(AllThreadsError) in
            let filter = try SeccompFilter(parsing: text)
            try filter.validate()
            return filter
        }
    }
}
