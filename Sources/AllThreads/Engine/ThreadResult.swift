import SystemPackage

/// One thread's result of the call, in a mismatch or an incomplete broadcast.
public struct ThreadResult: Sendable, Hashable, CustomStringConvertible {
    /// The kernel thread id.
    public var tid: Int32
    /// The thread's name (`comm`).
    public var name: String
    /// What the call returned on that thread; `nil` when it had not finished.
    public var result: SyscallResult?

    /// Creates a result entry.
    ///
    /// - Parameters:
    ///   - tid: the thread's kernel id.
    ///   - name: the thread's name (`comm`).
    ///   - result: the thread's result; `nil` when it has none (it gave up).
    package init(tid: Int32, name: String, result: SyscallResult?) {
        self.tid = tid
        self.name = name
        self.result = result
    }

    /// The text that names it in messages and logs.
    public var description: String {
        let label = name.isEmpty ? "" : " (\(name))"
        return "tid \(tid)\(label): \(result.map { "\($0)" } ?? "no result")"
    }
}
