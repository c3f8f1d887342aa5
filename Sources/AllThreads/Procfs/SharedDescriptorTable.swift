import CBroadcast
import Glibc

/// Whether two tasks of the calling process use the same descriptor table, asked of the kernel
/// with `kcmp(KCMP_FILES)` (about 0.3 µs, against tens of microseconds to list a table in
/// /proc and read each link). Threads share their creator's table unless one was made with
/// `unshare(CLONE_FILES)` or `clone` without `CLONE_FILES`.
enum SharedDescriptorTable {
    /// `KCMP_FILES` (`linux/kcmp.h`).
    private static let kcmpFiles = 2

    /// The answer for tasks `a` and `b` (numbers of the caller's PID namespace).
    enum Answer {
        /// They use the same table.
        case shared
        /// They use different tables (or a task has none: an exited thread group leader).
        case different
        /// A task is gone (`ESRCH`).
        case gone
        /// The kernel could not answer (`ENOSYS` without `CONFIG_KCMP`, `EPERM` under a policy).
        case unknown
    }

    static func compare(_ a: Int32, _ b: Int32) -> Answer {
        switch cb_syscall(Int(SYS_kcmp), Int(a), Int(b), kcmpFiles, 0, 0, 0) {
        case 0: .shared
        case 1, 2, 3: .different
        case -Int(ESRCH): .gone
        default: .unknown
        }
    }

    /// True when /proc's task numbers are the caller's (they are not in a PID namespace whose
    /// /proc belongs to another namespace: there `/proc/self` is another number than `getpid()`).
    static var procNumbersAreOurs: Bool { DescriptorTarget.link("/proc/self") == String(getpid()) }
}
