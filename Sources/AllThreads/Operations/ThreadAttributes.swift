import CBroadcast
import Glibc

/// What the programs that change per-thread attributes (no_new_privs, timer slack, nice value,
/// CPU affinity) need to know.
enum ThreadAttributes {
    /// How many CPUs the kernel can ever bring online: one more than the last in
    /// `/sys/devices/system/cpu/possible` ("0-1" -> 2).
    static var possibleCPUs: Int {
        guard let bytes = try? Procfs.read("/sys/devices/system/cpu/possible") else { return Int(sysconf(Int32(_SC_NPROCESSORS_CONF))) }
        let text = String(decoding: bytes, as: UTF8.self).trimmingNewline
        let last = text.split(whereSeparator: { $0 == "," || $0 == "-" }).last.flatMap { Int($0) }
        return (last ?? 0) + 1
    }
}

extension BroadcastProgram {
    /// Sets `PR_SET_NO_NEW_PRIVS` on every thread: from now on `execve` never grants
    /// privileges (set-user-ID bits, file capabilities). It cannot be unset.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    public static func setNoNewPrivileges() -> BroadcastProgram {
        BroadcastProgram([BroadcastStep(.prctl, Int(PR_SET_NO_NEW_PRIVS), 1, 0, 0, 0)])
    }

    /// Sets the timer slack (`PR_SET_TIMERSLACK`) of every thread, in whole nanoseconds (1 or more;
    /// the kernel reads 0 as "back to the default", which this refuses as ambiguous).
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - slack: the timer slack, at least one nanosecond (less is refused).
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setTimerSlack(_ slack: Duration) throws(AllThreadsError) -> BroadcastProgram {
        let nanoseconds = slack.nanoseconds
        guard nanoseconds > 0 else { throw .invalidArgument("timer slack \(nanoseconds) ns: it must be at least 1 ns") }
        return BroadcastProgram([BroadcastStep(.prctl, Int(PR_SET_TIMERSLACK), Int(nanoseconds))])
    }

    /// Sets the nice value of every thread (`setpriority(PRIO_PROCESS, 0, nice)`, which
    /// on Linux applies to the calling thread only). Lowering it needs `CAP_SYS_NICE`.
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - nice: the nice value, -20 (most favourable) to 19.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setNice(_ nice: Int) throws(AllThreadsError) -> BroadcastProgram {
        guard (-20...19).contains(nice) else { throw .invalidArgument("nice value \(nice) is outside -20...19") }
        return BroadcastProgram([BroadcastStep(.setpriority, Int(PRIO_PROCESS.rawValue), 0, nice)])
    }

    /// Restricts every thread to these CPUs (`sched_setaffinity(0, ...)` on each thread).
    /// The CPUs must exist (`/sys/devices/system/cpu/possible`).
    ///
    /// Run it with ``Broadcast/run(_:options:)``.
    ///
    /// - Parameters:
    ///   - cpus: the CPU numbers the threads may run on; not empty.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an argument that cannot work; nothing
    ///   runs.
    public static func setAffinity(cpus: Set<Int>) throws(AllThreadsError) -> BroadcastProgram {
        guard !cpus.isEmpty else { throw .invalidArgument("the CPU list is empty") }
        let possible = ThreadAttributes.possibleCPUs
        if let bad = cpus.sorted().first(where: { $0 < 0 || $0 >= possible }) {
            throw .invalidArgument("CPU \(bad) does not exist (this machine has CPUs 0...\(possible - 1))")
        }
        var mask = [UInt64](repeating: 0, count: (possible + 63) / 64)
        for cpu in cpus { mask[cpu / 64] |= 1 << UInt64(cpu % 64) }
        let bytes = mask.withUnsafeBytes { Array($0) }
        return BroadcastProgram([BroadcastStep(.sched_setaffinity, arguments: [.value(0), .value(bytes.count), .bytes(bytes)])])
    }
}
