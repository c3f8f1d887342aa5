import CBroadcast
import SystemPackage

/// Landlock: unprivileged sandboxing. A domain applies to the thread that
/// enforced it (and threads it creates later), so every thread must enforce it.
public enum Landlock {
    /// The Landlock ABI version the running kernel supports.
    /// - Throws: `.setupFailed(EOPNOTSUPP)` when Landlock is built in but disabled
    ///   at boot, `.setupFailed(ENOSYS)` when the kernel has none.
    public static func abiVersion() throws(AllThreadsError) -> Int {
        let version = cb_syscall(Int(SYS_landlock_create_ruleset), 0, 0, Int(LANDLOCK_CREATE_RULESET_VERSION), 0, 0, 0)
        guard version > 0 else { throw .setupFailed(Errno(rawValue: CInt(-version))) }
        return version
    }

    /// The Landlock ABI (Linux 7.0) whose `LANDLOCK_RESTRICT_SELF_TSYNC` enforces a ruleset on
    /// every thread of the process at once, in one domain.
    public static let processWideABI = 8

    /// `LANDLOCK_RESTRICT_SELF_TSYNC` (`uapi/linux/landlock.h`, ABI 8).
    static let restrictSelfTSYNC = 1 << 3

    /// `landlock_restrict_self(ruleset, LANDLOCK_RESTRICT_SELF_TSYNC)` from the calling thread:
    /// the kernel enforces the ruleset on every thread of the process, all or none, in one
    /// domain. Needs ABI 8 and, on the calling thread, no_new_privs or `CAP_SYS_ADMIN`.
    static func restrictProcess(ruleset: FileDescriptor) throws(AllThreadsError) {
        let result = cb_syscall(Int(SYS_landlock_restrict_self), Int(ruleset.rawValue), restrictSelfTSYNC, 0, 0, 0, 0)
        guard result == 0 else { throw .setupFailed(Errno(rawValue: CInt(-result))) }
    }
}

extension BroadcastProgram {
    /// Enforces the ruleset open at `ruleset` on every thread (`landlock_restrict_self`).
    ///
    /// The caller builds the ruleset (`landlock_create_ruleset`, `landlock_add_rule`).
    /// Each thread needs no_new_privs or `CAP_SYS_ADMIN`. The engine keeps the
    /// /proc descriptors it opened before, so later broadcasts still work when the
    /// ruleset forbids opening /proc; diagnostics that open /proc files may be
    /// refused. A ruleset with `LANDLOCK_SCOPE_SIGNAL` stops a restricted thread
    /// from signalling threads outside the domain: once every thread is inside, the
    /// broadcast signal still reaches them all.
    ///
    /// `ruleset` must be a Landlock ruleset, and stay open until the program has run.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - ruleset: a Landlock ruleset descriptor (`landlock_create_ruleset`).
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func landlockRestrictSelf(ruleset: FileDescriptor) throws(AllThreadsError) -> BroadcastProgram {
        _ = try Landlock.abiVersion()
        guard let target = DescriptorTarget.of(ruleset) else {
            throw .invalidArgument("file descriptor \(ruleset.rawValue) is not open")
        }
        guard target == "anon_inode:[landlock-ruleset]" else {
            throw .invalidArgument("file descriptor \(ruleset.rawValue) is not a Landlock ruleset (it is \(target))")
        }
        return BroadcastProgram([BroadcastStep(SystemCall(rawValue: Int(SYS_landlock_restrict_self)), Int(ruleset.rawValue), 0)])
    }
}
