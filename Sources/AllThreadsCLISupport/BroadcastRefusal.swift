import AllThreads

extension SystemCall {
    /// The calls `allthreads syscall` refuses, each with why: run on every thread, inside the
    /// broadcast's signal handler, they end the thread or the process before it reports,
    /// start a task that would return into the handler, leave the handler by another way than
    /// its return, or wait with no deadline. Any of them hangs the broadcast or kills the
    /// process with its threads half-changed (`exit` left the main thread a zombie and the
    /// command never ended).
    ///
    /// Names that are no call on this architecture (`sigreturn`, `fork` on arm64) are left out.
    package static let refusedInBroadcast: [SystemCall: String] = {
        let reasons: [(names: [String], reason: String)] = [
            (["exit", "exit_group"], "ends the thread or the process before it reports"),
            (["execve", "execveat"], "replaces the process before the broadcast ends (run the program after '--' instead)"),
            (["clone", "clone3", "fork", "vfork"], "starts a task that would return into the signal handler"),
            (["rt_sigreturn", "sigreturn", "restart_syscall"], "leaves the signal handler by another way than its return"),
            (["pause", "rt_sigsuspend", "sigsuspend"], "waits for a signal with no deadline"),
        ]
        var refused: [SystemCall: String] = [:]
        for (names, reason) in reasons {
            for name in names {
                if let call = SystemCall(name: name) { refused[call] = reason }
            }
        }
        return refused
    }()

    /// Throws when the call is one of ``refusedInBroadcast``.
    ///
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` naming the call and why.
    package func requireBroadcastable() throws(AllThreadsError) {
        if let reason = Self.refusedInBroadcast[self] {
            throw .invalidArgument("refusing to run \(self) on every thread: it \(reason)")
        }
    }
}
