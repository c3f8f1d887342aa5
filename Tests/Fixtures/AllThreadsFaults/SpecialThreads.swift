import AllThreadsCLISupport
import CFaults
import CThreadStarter
import CWorkload

/// Special-purpose threads for fault scenarios: thin wrappers over CFaults.
///
/// Each call starts one detached C thread, returns its kernel tid once the
/// thread is in its state, and throws ``WorkloadError`` if it could not start.
/// The threads live until the process exits. None of them needs root.
public enum SpecialThreads {
    /// A state a thread from ``idle(_:)`` stays in forever.
    public enum IdleKind: String, CaseIterable, Sendable {
        /// Loops on `pause()`.
        case pause
        /// Blocked in `read()` on a pipe nobody writes to.
        case read
        /// Loops on a private `FUTEX_WAIT` on a word nobody changes.
        case futex
        /// Loops on a one-hour `nanosleep`.
        case nanosleep
        /// Busy: malloc/free of 1...4096 bytes in a tight loop, never sleeps.
        case malloc
        /// Busy: `snprintf` plus `fprintf` to `/dev/null` in a tight loop, never sleeps.
        case stdio
    }

    /// A busy loop for ``busy(_:)``: these threads never sleep.
    public enum BusyKind: String, CaseIterable, Sendable {
        /// malloc/free of 1...4096 bytes in a tight loop.
        case malloc
        /// `snprintf` plus `fprintf` to `/dev/null` in a tight loop.
        case stdio
    }

    /// Starts a thread that blocks kernel signal `kernelSignal` (1...64, e.g. 33) with the raw
    /// `rt_sigprocmask` syscall, then pauses forever; returns its tid once the mask is set.
    @discardableResult
    public static func signalBlocker(kernelSignal: Int32) throws(WorkloadError) -> Int32 {
        try checkedTid(cw_start_signal_blocker(kernelSignal), "signal blocker for signal \(kernelSignal)")
    }

    /// Starts a thread with a seccomp filter on itself only that makes syscall number `syscall`
    /// fail with `errno` (0...4095), then pauses forever; returns its tid once the filter is loaded.
    @discardableResult
    public static func seccompErrno(syscall: Int, errno: Int32) throws(WorkloadError) -> Int32 {
        try checkedTid(cw_start_seccomp_errno_thread(syscall, errno), "seccomp thread (syscall \(syscall) -> errno \(errno))")
    }

    /// Starts a thread that stays in state `kind` forever; returns its tid once it runs.
    @discardableResult
    public static func idle(_ kind: IdleKind) throws(WorkloadError) -> Int32 {
        let idle: ts_idle
        switch kind {
        case .pause: idle = TS_IDLE_PAUSE
        case .read: idle = TS_IDLE_READ
        case .futex: idle = TS_IDLE_FUTEX
        case .nanosleep: idle = TS_IDLE_NANOSLEEP
        case .malloc: return try busy(.malloc)
        case .stdio: return try busy(.stdio)
        }
        return try checkedTid(ts_start_idle_thread(idle), "\(kind) thread")
    }

    /// Starts a thread that runs the busy loop `kind` forever; returns its tid once it runs.
    @discardableResult
    public static func busy(_ kind: BusyKind) throws(WorkloadError) -> Int32 {
        let busy: cw_busy
        switch kind {
        case .malloc: busy = CW_BUSY_MALLOC
        case .stdio: busy = CW_BUSY_STDIO
        }
        return try checkedTid(cw_start_busy_thread(busy), "\(kind) thread")
    }
}
