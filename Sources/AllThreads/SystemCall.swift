import CBroadcast

/// A Linux system call number for the running architecture.
public struct SystemCall: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The number the kernel dispatches on (`SYS_*`).
    public var rawValue: Int

    /// Wraps a system call number.
    public init(rawValue: Int) { self.rawValue = rawValue }

    /// The call named `name` (`"setresuid"`, `"SYS_setresuid"`), among the per-thread
    /// calls this library knows; `nil` for any other name.
    public init?(name: String) {
        let bare = name.hasPrefix("SYS_") ? String(name.dropFirst(4)) : name
        guard let call = Self.known.first(where: { $0.name == bare }) else { return nil }
        self = call.call
    }

    /// The call's name when it is one of the known per-thread calls, else its number.
    public var description: String {
        Self.known.first(where: { $0.call == self })?.name ?? "syscall \(rawValue)"
    }

    public static let setuid = SystemCall(rawValue: Int(SYS_setuid))
    public static let setgid = SystemCall(rawValue: Int(SYS_setgid))
    public static let setreuid = SystemCall(rawValue: Int(SYS_setreuid))
    public static let setregid = SystemCall(rawValue: Int(SYS_setregid))
    public static let setresuid = SystemCall(rawValue: Int(SYS_setresuid))
    public static let setresgid = SystemCall(rawValue: Int(SYS_setresgid))
    public static let setfsuid = SystemCall(rawValue: Int(SYS_setfsuid))
    public static let setfsgid = SystemCall(rawValue: Int(SYS_setfsgid))
    public static let setgroups = SystemCall(rawValue: Int(SYS_setgroups))
    public static let capset = SystemCall(rawValue: Int(SYS_capset))
    public static let prctl = SystemCall(rawValue: Int(SYS_prctl))
    public static let setns = SystemCall(rawValue: Int(SYS_setns))
    public static let setpriority = SystemCall(rawValue: Int(SYS_setpriority))
    public static let sched_setaffinity = SystemCall(rawValue: Int(SYS_sched_setaffinity))
    public static let unshare = SystemCall(rawValue: Int(SYS_unshare))
    public static let close = SystemCall(rawValue: Int(SYS_close))
    public static let getpid = SystemCall(rawValue: Int(SYS_getpid))

    private static let known: [(name: String, call: SystemCall)] = [
        ("setuid", .setuid), ("setgid", .setgid), ("setreuid", .setreuid), ("setregid", .setregid),
        ("setresuid", .setresuid), ("setresgid", .setresgid), ("setfsuid", .setfsuid), ("setfsgid", .setfsgid),
        ("setgroups", .setgroups), ("capset", .capset), ("prctl", .prctl), ("setns", .setns),
        ("setpriority", .setpriority), ("sched_setaffinity", .sched_setaffinity), ("unshare", .unshare),
        ("close", .close), ("getpid", .getpid),
    ]
}
