import SystemPackage

/// Why a broadcast did not apply the call to every thread.
public enum AllThreadsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The call failed on the calling thread, so it was not run anywhere else: no thread changed.
    case callFailed(Errno)
    /// These threads did not answer before the deadline: no thread changed.
    /// An empty list means the thread list kept changing until the deadline.
    case unreachable([ThreadIssue])
    /// Relaxed mode only: these threads did not answer before the deadline, after the
    /// caller and the threads that did answer had run the call.
    case unreachableAfterChange([ThreadIssue])
    /// Every thread ran the call, and these got a result other than the caller's.
    case mismatch(caller: SyscallResult, threads: [ThreadResult])
    /// A program's step failed on the calling thread: every thread ran exactly the steps
    /// before it (none, when it was the first).
    case stepFailed(StepFailure)
    /// These threads got a result other than the expected one at a step of a program and
    /// stopped there; every other thread ran the program to its end.
    case stepMismatch([StepMismatch])
    /// The deadline passed while these threads were still running the call
    /// (the call blocks); the others ran it.
    case incomplete([ThreadResult])
    /// Another broadcast of this process held the engine until the deadline: nothing was done.
    case busy
    /// `/proc`, memory or the signal handler could not be set up, or a vfork child could not
    /// prove it is alone: strict mode changed no thread; relaxed mode may have run the call on
    /// the caller and the threads already signalled (when `/proc` failed mid-broadcast).
    case setupFailed(Errno)
    /// `/proc` is mounted from a PID namespace this process is not in (a sibling's or a
    /// descendant's), so the engine cannot list or name its threads: nothing was done. Mount a
    /// `/proc` of the process's own namespace (`unshare --pid --fork --mount-proc`), or of an
    /// ancestor namespace.
    case procOfAnotherPIDNamespace
    /// An argument was rejected before anything was done.
    case invalidArgument(String)
    /// The kernel refused to synchronize a seccomp filter to this thread (it has a
    /// filter of its own that the new one does not descend from): no thread changed.
    case seccompSyncFailed(ThreadIdentity)
    /// A privilege drop could not be proven: each thread that differs from what the drop
    /// promises, with every field that differs (from /proc, or a regain probe such as
    /// `setuid(0)` that did not fail with `EPERM`).
    case proofFailed([ThreadDifference])
    /// A privilege drop found ways the process could still act with credentials other than the
    /// target's that the threads' own credentials do not show: io_uring rings, io_uring tasks,
    /// traced processes. `threadsChanged` false: found before the drop started, nothing changed;
    /// true: found by the proof after every thread had dropped, so the process must not be trusted.
    /// A ``Sandbox`` throws it (nothing changed) for an io_uring ring, which keeps the old domain.
    case privilegeRetained([RetainedPrivilege], threadsChanged: Bool)
    /// A `/proc` file needed to validate or prove a change could not be read.
    case procfs(ProcfsError)
    /// A privilege drop failed after threads had changed: the error is what failed then (such as
    /// the seccomp filter's load, or the second broadcast of a long drop), and what it says about
    /// "no thread changed" holds for that last step only. Every thread ran the drop's program (or,
    /// for a drop of several broadcasts, the broadcasts before the failed one): the process is
    /// between states and must not be trusted.
    indirect case failedAfterChange(AllThreadsError)
    /// A strict ``Sandbox`` asked for Landlock rights or scopes that the kernel's ABI `abi` lacks
    /// (each named with the ABI that has it; ABI 0: no Landlock): nothing changed.
    case landlockUnsupported(abi: Int, missing: [String])

    public var description: String {
        switch self {
        case .callFailed(let errno):
            return "the call failed on the calling thread (\(errno)); no thread changed"
        case .unreachable(let threads) where threads.isEmpty:
            return "the thread list did not settle before the deadline; no thread changed"
        case .unreachable(let threads):
            return "unreachable: \(threads.map(\.description).joined(separator: "; ")); no thread changed"
        case .unreachableAfterChange(let threads):
            return "unreachable: \(threads.map(\.description).joined(separator: "; ")); the caller and every other thread ran the call (relaxed mode)"
        case .mismatch(let caller, let threads):
            return "threads disagree with the caller's result (\(caller)): \(threads.map(\.description).joined(separator: "; "))"
        case .stepFailed(let failure):
            return "\(failure)"
        case .stepMismatch(let threads):
            return "threads stopped early: \(threads.map(\.description).joined(separator: "; "))"
        case .incomplete(let threads):
            return "the deadline passed while threads were still running the call: \(threads.map(\.description).joined(separator: "; "))"
        case .busy:
            return "another broadcast held the engine until the deadline; nothing was done"
        case .setupFailed(let errno):
            return "could not set up the broadcast (\(errno)); strict: no thread changed"
        case .procOfAnotherPIDNamespace:
            return "/proc belongs to a PID namespace this process is not in, so its threads cannot be listed "
                + "(mount a /proc of its own PID namespace); nothing was done"
        case .invalidArgument(let message):
            return "invalid argument: \(message)"
        case .seccompSyncFailed(let thread):
            return "the kernel could not synchronize the seccomp filter to \(thread) (it has an unrelated filter); no thread changed"
        case .proofFailed(let failures):
            return "the result could not be proven: \(failures.map(\.description).joined(separator: "; "))"
        case .privilegeRetained(let found, let threadsChanged):
            var remedies: [String] = []
            for remedy in found.map(\.remedy) where !remedies.contains(remedy) { remedies.append(remedy) }
            let outcome = threadsChanged
                ? "every thread was dropped, but the process can still act with other credentials"
                : "nothing changed"
            return "the drop or sandbox cannot be proven: \(found.map(\.description).joined(separator: "; ")); \(outcome); to fix: \(remedies.joined(separator: "; "))"
        case .procfs(let error):
            return "could not read /proc: \(error)"
        case .failedAfterChange(let error):
            return "threads had already changed when this failed (the failed step itself changed nothing): \(error)"
        case .landlockUnsupported(let abi, let missing):
            return "the kernel's Landlock ABI \(abi) lacks \(missing.joined(separator: ", ")); strict: nothing changed (best effort drops what the kernel lacks)"
        }
    }
}
