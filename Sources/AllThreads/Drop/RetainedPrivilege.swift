/// A way the process could still act with credentials other than a privilege drop's target
/// that its threads' own credentials do not show. ``PrivilegeDrop`` looks for each before it
/// changes anything and again in its proof, and fails with
/// ``AllThreadsError/Code/privilegeRetained`` naming them.
public enum RetainedPrivilege: Sendable, Hashable, CustomStringConvertible {
    /// An io_uring ring: it may carry personalities registered before the drop, which `/proc`
    /// does not show (accepted with ``IoUringPolicy/accept``).
    case ioUringRing(IoUringRing)
    /// A ring in threads' registered-ring tables, usable without a descriptor: it may carry
    /// personalities too (accepted with ``IoUringPolicy/accept``).
    case registeredIoUringRing(IoUringRegistration)
    /// An SQPOLL thread or io-wq worker: the kernel acts for the process in it. It counts whatever
    /// it holds: rings attached to an SQPOLL thread (`IORING_SETUP_ATTACH_WQ`) are served with
    /// their own creators' credentials, which neither the thread's credentials nor /proc show, and
    /// its name (`iou-sqp-*`) can be changed. One not tied to a ring with a descriptor is waited
    /// for (it exits once its rings are torn down), up to the timeout. Never accepted.
    case ioUringTask(IoUringTask)
    /// A thread that has used io_uring since it started (the kernel keeps its io_uring context
    /// until it exits): requests it queued before the drop (drained, linked or waiting behind a
    /// poll) run with the credentials it had then, and a ring kept alive only by its own pending
    /// requests has no descriptor, mapping or registration. /proc shows none of it. Never accepted.
    case ioUringContext(ThreadIdentity)
    /// Whether a thread has used io_uring could not be probed: a thread has a seccomp filter, and
    /// the probe's `io_uring_enter` might kill the process. Never accepted.
    case ioUringNotProbed
    /// A descriptor whose `F_SETOWN` owner could not be re-recorded under the new credentials:
    /// the kernel checks the recorded ones when it signals the owner. Never accepted.
    case descriptorOwner(DescriptorOwner)
    /// A task of another process that one of our threads traces, with other credentials: ptrace
    /// keeps the rights the tracer had when it attached. Never accepted.
    case tracedProcess(TracedProcess)

    /// True for what ``IoUringPolicy/accept`` accepts: rings, whose personalities cannot be seen.
    /// A task that visibly holds other credentials is never accepted.
    public var isIoUringRing: Bool {
        switch self {
        case .ioUringRing, .registeredIoUringRing: true
        case .ioUringTask, .ioUringContext, .ioUringNotProbed, .descriptorOwner, .tracedProcess: false
        }
    }

    /// The finding, with the reason it is one.
    public var description: String {
        switch self {
        case .ioUringRing(let ring):
            "\(ring): may carry personalities registered with the old credentials (IORING_REGISTER_PERSONALITY), which /proc does not show"
        case .registeredIoUringRing(let registration):
            "\(registration): usable without a descriptor, and may carry personalities registered with the old credentials"
        case .ioUringTask(let task) where task.differences.isEmpty:
            "\(task) (an SQPOLL thread serves rings attached to it with their creators' credentials, which /proc does not show, "
                + "and a task's name does not tell an SQPOLL thread from an io-wq worker)"
        case .ioUringTask(let task):
            "\(task) (the kernel does io_uring work for the process with these credentials)"
        case .ioUringContext(let thread):
            "\(thread) has used io_uring: requests it queued before the drop, and rings kept alive only by their own requests, "
                + "act with its credentials of then, and /proc does not show them"
        case .ioUringNotProbed:
            "whether a thread has used io_uring could not be probed: a thread has a seccomp filter, which the probe could trip"
        case .descriptorOwner(let owner):
            "\(owner): signals to the owner are checked against the credentials recorded before the drop"
        case .tracedProcess(let traced):
            "\(traced) (ptrace keeps the rights the tracer had when it attached)"
        }
    }

    /// What to do about it.
    public var remedy: String {
        switch self {
        case .ioUringRing, .registeredIoUringRing:
            "close the io_uring rings created before the drop (and unregister registered ring fds), or create them after it; "
                + "or accept them if no personality was registered before the drop (IoUringPolicy.accept, --accept-io-uring)"
        case .ioUringTask(let task) where task.role == .worker || task.rings.isEmpty:
            "close the rings created before the drop and wait for their io_uring threads to exit, or create the rings after it"
        case .ioUringTask:
            "close the SQPOLL ring created before the drop, or create it after it"
        case .ioUringContext:
            "use io_uring only after the drop, or only in threads that exit before it (a thread's io_uring context ends with the thread)"
        case .ioUringNotProbed:
            "load the seccomp filter with the drop (PrivilegeDrop seccomp:, --seccomp), which loads it after the probe"
        case .descriptorOwner:
            "clear the owner (F_SETOWN 0) or close the descriptor before the drop, and set it again after"
        case .tracedProcess:
            "detach (PTRACE_DETACH) from processes traced before the drop"
        }
    }

    /// True for an io_uring task not tied to a ring that still has a descriptor: one the kernel
    /// removes on its own once the ring it served is torn down, which it does some time after
    /// the last close (about 40 ms for an SQPOLL thread on Linux 6.18).
    var mayExitOnItsOwn: Bool {
        guard case .ioUringTask(let task) = self else { return false }
        return task.rings.isEmpty
    }
}
