import SystemPackage

/// A descriptor whose signal owner (`F_SETOWN`) a privilege drop could not re-record under the
/// new credentials, or a thread's descriptor table it could not look through: the owner may still
/// carry the credentials of before the drop, which the kernel checks when it signals the owner.
public struct DescriptorOwner: Sendable, Hashable, CustomStringConvertible {
    /// The thread whose descriptor table holds the descriptor.
    public var thread: ThreadIdentity
    /// The descriptor; `nil` when the whole table could not be looked through.
    public var fd: FileDescriptor?
    /// Why.
    public var error: Errno

    /// Describes a descriptor or table.
    ///
    /// - Parameters:
    ///   - thread: the thread whose descriptor table holds it.
    ///   - fd: the descriptor; `nil` for the table as a whole.
    ///   - error: why its owner could not be re-recorded.
    package init(thread: ThreadIdentity, fd: Int32?, error: Errno) {
        self.thread = thread
        self.fd = fd.map(FileDescriptor.init(rawValue:))
        self.error = error
    }

    /// Such as `fd 7 of tid 812 (worker): F_SETOWN owner not re-recorded (EPERM)`.
    public var description: String {
        (fd.map { "fd \($0.rawValue) of \(thread)" } ?? "the descriptor table of \(thread)") + ": F_SETOWN owner not re-recorded (\(error))"
    }
}
