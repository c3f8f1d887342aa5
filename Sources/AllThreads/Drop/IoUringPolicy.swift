/// What a ``PrivilegeDrop`` does about io_uring rings that exist when it runs.
///
/// A ring keeps every personality registered with it (`IORING_REGISTER_PERSONALITY`): a
/// submission that names one acts with the credentials of the thread that registered it, root's
/// if that was before the drop. `/proc` does not show personalities, so the drop cannot tell a
/// harmless ring from one that hands root back. Close the rings made before the drop, or make
/// them after it; accept them only when you know that no personality was registered while the
/// process held other credentials.
///
/// Accepting never covers what the drop cannot see: a thread that has used io_uring (requests it
/// queued, rings alive only through their own requests), any io_uring task (an SQPOLL thread
/// serves rings attached to it with their creators' credentials), a process with a seccomp filter
/// (the probe for io_uring use cannot run). So only rings without SQPOLL whose every user has
/// exited (or that came across `execve`, which ends the thread's io_uring use) can be accepted.
public enum IoUringPolicy: Sendable, Hashable {
    /// Refuse the drop while any ring exists (the default): before anything changes, and again
    /// in the proof afterwards, for a ring made meanwhile.
    case refuse
    /// Accept the rings (and registered rings) that exist, and name them in the result
    /// (``ProcessSnapshot/ioUringRings``, ``ProcessSnapshot/ioUringRegistrations``). A thread that
    /// has used io_uring and any io_uring task still fail the drop (``RetainedPrivilege``).
    case accept
}
