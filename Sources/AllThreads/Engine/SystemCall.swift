import CBroadcast
import CSeccomp
import Glibc

/// A Linux system call number for the running architecture.
public struct SystemCall: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The number the kernel dispatches on (`SYS_*`).
    public var rawValue: Int

    /// Wraps a system call number.
    ///
    /// - Parameters:
    ///   - rawValue: the raw value.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The call named `name` (`"setresuid"`, `"SYS_setresuid"`) for this architecture,
    /// as libseccomp knows it; `nil` for a name that is no system call here.
    ///
    /// - Parameters:
    ///   - name: the call's name, with or without `SYS_`.
    public init?(name: String) {
        let bare = name.hasPrefix("SYS_") ? String(name.dropFirst(4)) : name
        guard !bare.isEmpty, bare.utf8.allSatisfy({ $0 == UInt8(ascii: "_") || ($0 >= 48 && $0 <= 57) || ($0 | 0x20 >= 97 && $0 | 0x20 <= 122) }) else {
            return nil
        }
        let number = seccomp_syscall_resolve_name(bare)
        guard number >= 0 else { return nil }
        self.init(rawValue: Int(number))
    }

    /// The call's name for this architecture (libseccomp), else `syscall N`.
    public var description: String {
        guard let name = seccomp_syscall_resolve_num_arch(UInt32(SCMP_ARCH_NATIVE), Int32(clamping: rawValue)) else { return "syscall \(rawValue)" }
        defer { free(name) }
        return String(cString: name)
    }

    /// `setuid(2)`.
    public static let setuid = SystemCall(rawValue: Int(SYS_setuid))
    /// `setgid(2)`.
    public static let setgid = SystemCall(rawValue: Int(SYS_setgid))
    /// `setreuid(2)`.
    public static let setreuid = SystemCall(rawValue: Int(SYS_setreuid))
    /// `setregid(2)`.
    public static let setregid = SystemCall(rawValue: Int(SYS_setregid))
    /// `setresuid(2)`.
    public static let setresuid = SystemCall(rawValue: Int(SYS_setresuid))
    /// `setresgid(2)`.
    public static let setresgid = SystemCall(rawValue: Int(SYS_setresgid))
    /// `setfsuid(2)`.
    public static let setfsuid = SystemCall(rawValue: Int(SYS_setfsuid))
    /// `setfsgid(2)`.
    public static let setfsgid = SystemCall(rawValue: Int(SYS_setfsgid))
    /// `setgroups(2)`.
    public static let setgroups = SystemCall(rawValue: Int(SYS_setgroups))
    /// `capset(2)`.
    public static let capset = SystemCall(rawValue: Int(SYS_capset))
    /// `prctl(2)`.
    public static let prctl = SystemCall(rawValue: Int(SYS_prctl))
    /// `setns(2)`.
    public static let setns = SystemCall(rawValue: Int(SYS_setns))
    /// `setpriority(2)`.
    public static let setpriority = SystemCall(rawValue: Int(SYS_setpriority))
    /// `sched_setaffinity(2)`.
    public static let sched_setaffinity = SystemCall(rawValue: Int(SYS_sched_setaffinity))
    /// `unshare(2)`.
    public static let unshare = SystemCall(rawValue: Int(SYS_unshare))
    /// `close(2)`.
    public static let close = SystemCall(rawValue: Int(SYS_close))
    /// `getpid(2)`.
    public static let getpid = SystemCall(rawValue: Int(SYS_getpid))
}
