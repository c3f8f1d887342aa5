import Glibc

/// Whether this process was started from a set-user-ID or set-group-ID executable.
///
/// A tool that changes every thread's credentials is for processes that are already
/// privileged; installed set-user-ID, it would hand those privileges to whoever runs it.
public enum SetIDInvocation {
    /// Throws unless the calling thread's real and effective user ids agree, and its real and
    /// effective group ids agree.
    ///
    /// - Throws: ``AllThreadsError/invalidArgument(_:)`` naming the ids.
    public static func requireNone() throws(AllThreadsError) {
        let uid = getuid(), euid = geteuid(), gid = getgid(), egid = getegid()
        if uid != euid {
            throw .invalidArgument(
                "refusing to run set-user-ID (real uid \(uid), effective uid \(euid)): this tool is for processes that are already privileged")
        }
        if gid != egid {
            throw .invalidArgument(
                "refusing to run set-group-ID (real gid \(gid), effective gid \(egid)): this tool is for processes that are already privileged")
        }
    }
}
