import SystemPackage

/// A thread named by its kernel id and its name.
public struct ThreadIdentity: Sendable, Hashable, Codable, CustomStringConvertible {
    /// The kernel thread id.
    public var tid: Int32
    /// The thread's name (`comm`), empty when it is gone.
    public var name: String

    /// Names a thread.
    ///
    /// - Parameters:
    ///   - tid: the thread's kernel id.
    ///   - name: the thread's name (`comm`).
    public init(tid: Int32, name: String) {
        self.tid = tid
        self.name = name
    }

    /// The text that names it in messages and logs.
    public var description: String { name.isEmpty ? "tid \(tid)" : "tid \(tid) (\(name))" }
}
