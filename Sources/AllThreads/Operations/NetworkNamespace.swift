import CBroadcast
import Glibc
import SystemPackage

/// Network namespaces: on Linux each thread has its own, so joining one must happen on every thread
/// (``join(path:options:)``, or ``BroadcastProgram/joinNetworkNamespace(_:)`` for a descriptor).
public enum NetworkNamespace {
    /// Opens `path` (`/run/netns/NAME`, `/proc/<pid>/ns/net`) and moves every thread into that namespace.
    ///
    /// - Parameters:
    ///   - path: the namespace's file (`/run/netns/NAME`, `/proc/<pid>/ns/net`).
    ///   - options: deadline, signal, mismatch policy and mode of the broadcast.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` before any thread changes for an argument
    ///   that cannot work; otherwise the errors of ``Broadcast/run(_:options:)``, each saying which
    ///   threads changed.
    @discardableResult
    public static func join(path: FilePath, options: BroadcastOptions = BroadcastOptions()) throws(AllThreadsError) -> BroadcastReport {
        let fd: FileDescriptor
        do {
            fd = try FileDescriptor.open(path, .readOnly, options: .closeOnExec)
        } catch {
            throw .invalidArgument("cannot open network namespace '\(path)': \(error)")
        }
        defer { try? fd.close() }
        return try Broadcast.run(.joinNetworkNamespace(fd), options: options)
    }

    /// The namespace's identity as the kernel names it (`net:[4026531840]`), from
    /// the descriptor's link in `/proc/self/fd`. Throws unless it is a network namespace.
    ///
    /// - Parameters:
    ///   - fd: a descriptor of a network namespace (`/proc/<pid>/ns/net`, `/run/netns/NAME`).
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming what is wrong; nothing changes.
    public static func identity(of fd: FileDescriptor) throws(AllThreadsError) -> String {
        guard let target = DescriptorTarget.of(fd) else {
            throw .invalidArgument("file descriptor \(fd.rawValue) is not open")
        }
        guard target.hasPrefix("net:[") else {
            throw .invalidArgument("file descriptor \(fd.rawValue) is not a network namespace (it is \(target))")
        }
        return target
    }

    /// The network namespace of one thread (`/proc/<pid>/task/<tid>/ns/net`), e.g. `net:[4026531840]`.
    ///
    /// - Parameters:
    ///   - pid: the process id.
    ///   - tid: the thread's kernel id.
    public static func identity(pid: Int32, tid: Int32) -> String? {
        DescriptorTarget.link("/proc/\(pid)/task/\(tid)/ns/net")
    }
}

extension BroadcastProgram {
    /// Moves every thread into the network namespace open at `fd` (`setns(fd, CLONE_NEWNET)`).
    ///
    /// The descriptor must refer to a network namespace (as `/proc/<pid>/ns/net` or
    /// `/run/netns/NAME` do); anything else is refused before any thread changes.
    ///
    /// `fd` must be open on a network namespace, and stay open until the program has run.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - fd: a descriptor of a network namespace (`/proc/<pid>/ns/net`, `/run/netns/NAME`).
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func joinNetworkNamespace(_ fd: FileDescriptor) throws(AllThreadsError) -> BroadcastProgram {
        _ = try NetworkNamespace.identity(of: fd)
        return BroadcastProgram([BroadcastStep(.setns, Int(fd.rawValue), Int(CLONE_NEWNET))])
    }
}
