import SystemPackage

/// Why a broadcast, a typed operation, a ``PrivilegeDrop`` or a ``Sandbox`` did not do what it was
/// asked, and what changed.
///
/// An error is a ``code`` (what happened: a struct with a static member per kind, so that new
/// kinds can come without breaking a `switch`) and the properties that describe it: the threads
/// it names, the `Errno`, the step of a program. Each code's documentation says which threads
/// changed, and which properties it fills.
///
/// Match it as swift-system's `Errno` is matched, by its code:
///
/// ```swift
/// do {
///     try Broadcast.run(.setNoNewPrivileges())
/// } catch .unreachable {
///     print("no thread changed")
/// } catch {
///     switch error.code {
///     case .failedAfterChange: fatalError("threads changed, then: \(error)")
///     default: print(error)
///     }
/// }
/// ```
public struct AllThreadsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What happened, with its payload: exhaustive inside this package, where every kind is handled.
    package enum Kind: Sendable, Hashable {
        // Each case is documented at its code (AllThreadsError.Code).
        case callFailed(Errno)
        case unreachable([ThreadIssue])
        case unreachableAfterChange([ThreadIssue])
        case mismatch(caller: SyscallResult, threads: [ThreadResult])
        case stepFailed(StepFailure)
        case stepMismatch([StepMismatch])
        case incomplete([ThreadResult])
        case busy
        case setupFailed(Errno)
        case procOfAnotherPIDNamespace
        case invalidArgument(String)
        case seccompSyncFailed(ThreadIdentity)
        case proofFailed([ThreadDifference])
        case privilegeRetained([RetainedPrivilege], threadsChanged: Bool)
        case procfs(ProcfsError)
        indirect case failedAfterChange(AllThreadsError)
        case landlockUnsupported(abi: Int, missing: [String])
    }

    /// What happened, with its payload.
    package var kind: Kind

    /// An error of this kind.
    package init(_ kind: Kind) { self.kind = kind }

    /// What happened.
    public var code: Code {
        switch kind {
        case .callFailed: .callFailed
        case .unreachable: .unreachable
        case .unreachableAfterChange: .unreachableAfterChange
        case .mismatch: .mismatch
        case .stepFailed: .stepFailed
        case .stepMismatch: .stepMismatch
        case .incomplete: .incomplete
        case .busy: .busy
        case .setupFailed: .setupFailed
        case .procOfAnotherPIDNamespace: .procOfAnotherPIDNamespace
        case .invalidArgument: .argumentRejected
        case .seccompSyncFailed: .seccompSyncFailed
        case .proofFailed: .proofFailed
        case .privilegeRetained: .privilegeRetained
        case .procfs: .procfs
        case .failedAfterChange: .failedAfterChange
        case .landlockUnsupported: .landlockUnsupported
        }
    }

    /// The kernel's error: of ``Code/callFailed`` and ``Code/setupFailed``.
    public var errno: Errno? {
        switch kind {
        case .callFailed(let errno), .setupFailed(let errno): errno
        default: nil
        }
    }

    /// The threads not reached, each with why: of ``Code/unreachable`` and
    /// ``Code/unreachableAfterChange``; empty for the other codes.
    public var unreachableThreads: [ThreadIssue] {
        switch kind {
        case .unreachable(let threads), .unreachableAfterChange(let threads): threads
        default: []
        }
    }

    /// The calling thread's result: of ``Code/mismatch``.
    public var callerResult: SyscallResult? {
        guard case .mismatch(let caller, _) = kind else { return nil }
        return caller
    }

    /// The threads whose result differs from the caller's (``Code/mismatch``), or that had not
    /// finished at the deadline (``Code/incomplete``: no result when they had none); empty for
    /// the other codes.
    public var threadResults: [ThreadResult] {
        switch kind {
        case .mismatch(_, let threads), .incomplete(let threads): threads
        default: []
        }
    }

    /// The step that failed on the calling thread: of ``Code/stepFailed``.
    public var stepFailure: StepFailure? {
        guard case .stepFailed(let failure) = kind else { return nil }
        return failure
    }

    /// The threads that stopped at a step, each with both results: of ``Code/stepMismatch``;
    /// empty for the other codes.
    public var stepMismatches: [StepMismatch] {
        guard case .stepMismatch(let threads) = kind else { return [] }
        return threads
    }

    /// What was wrong with the argument: of ``Code/argumentRejected``.
    public var message: String? {
        guard case .invalidArgument(let message) = kind else { return nil }
        return message
    }

    /// The thread the kernel could not synchronize a seccomp filter to: of ``Code/seccompSyncFailed``.
    public var thread: ThreadIdentity? {
        guard case .seccompSyncFailed(let thread) = kind else { return nil }
        return thread
    }

    /// Each thread that differs from what a drop promises, with every field: of
    /// ``Code/proofFailed``; empty for the other codes.
    public var differences: [ThreadDifference] {
        guard case .proofFailed(let differences) = kind else { return [] }
        return differences
    }

    /// What would keep acting with other credentials, each with what to do: of
    /// ``Code/privilegeRetained``; empty for the other codes.
    public var retainedPrivileges: [RetainedPrivilege] {
        guard case .privilegeRetained(let found, _) = kind else { return [] }
        return found
    }

    /// Of ``Code/privilegeRetained``: true when the proof found it after every thread had dropped
    /// (the process must not be trusted), false when found before the drop (nothing changed).
    public var foundAfterChange: Bool {
        guard case .privilegeRetained(_, let threadsChanged) = kind else { return false }
        return threadsChanged
    }

    /// The `/proc` file that could not be read, and why: of ``Code/procfs``.
    public var procfsError: ProcfsError? {
        guard case .procfs(let error) = kind else { return nil }
        return error
    }

    /// What failed after threads had changed: of ``Code/failedAfterChange``.
    public var underlyingError: AllThreadsError? {
        guard case .failedAfterChange(let error) = kind else { return nil }
        return error
    }

    /// The kernel's Landlock ABI (0: no Landlock): of ``Code/landlockUnsupported``.
    public var landlockABI: Int? {
        guard case .landlockUnsupported(let abi, _) = kind else { return nil }
        return abi
    }

    /// The Landlock rights and scopes the kernel lacks, each with the ABI that has it: of
    /// ``Code/landlockUnsupported``; empty for the other codes.
    public var missingLandlockFeatures: [String] {
        guard case .landlockUnsupported(_, let missing) = kind else { return [] }
        return missing
    }

    /// The text that names it in messages and logs.
    public var description: String {
        switch kind {
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
            let outcome =
                threadsChanged
                ? "every thread was dropped, but the process can still act with other credentials"
                : "nothing changed"
            return
                "the drop or sandbox cannot be proven: \(found.map(\.description).joined(separator: "; ")); \(outcome); to fix: \(remedies.joined(separator: "; "))"
        case .procfs(let error):
            return "could not read /proc: \(error)"
        case .failedAfterChange(let error):
            return "threads had already changed when this failed (the failed step itself changed nothing): \(error)"
        case .landlockUnsupported(let abi, let missing):
            return
                "the kernel's Landlock ABI \(abi) lacks \(missing.joined(separator: ", ")); strict: nothing changed (best effort drops what the kernel lacks)"
        }
    }
}

// The package's own code throws the kinds by name: `throw .invalidArgument("...")`.
extension AllThreadsError {
    package static func callFailed(_ errno: Errno) -> Self { Self(.callFailed(errno)) }
    package static func unreachable(_ threads: [ThreadIssue]) -> Self { Self(.unreachable(threads)) }
    package static func unreachableAfterChange(_ threads: [ThreadIssue]) -> Self { Self(.unreachableAfterChange(threads)) }
    package static func mismatch(caller: SyscallResult, threads: [ThreadResult]) -> Self { Self(.mismatch(caller: caller, threads: threads)) }
    package static func stepFailed(_ failure: StepFailure) -> Self { Self(.stepFailed(failure)) }
    package static func stepMismatch(_ threads: [StepMismatch]) -> Self { Self(.stepMismatch(threads)) }
    package static func incomplete(_ threads: [ThreadResult]) -> Self { Self(.incomplete(threads)) }
    package static var busy: Self { Self(.busy) }
    package static func setupFailed(_ errno: Errno) -> Self { Self(.setupFailed(errno)) }
    package static var procOfAnotherPIDNamespace: Self { Self(.procOfAnotherPIDNamespace) }
    package static func invalidArgument(_ message: String) -> Self { Self(.invalidArgument(message)) }
    package static func seccompSyncFailed(_ thread: ThreadIdentity) -> Self { Self(.seccompSyncFailed(thread)) }
    package static func proofFailed(_ differences: [ThreadDifference]) -> Self { Self(.proofFailed(differences)) }
    package static func privilegeRetained(_ found: [RetainedPrivilege], threadsChanged: Bool) -> Self {
        Self(.privilegeRetained(found, threadsChanged: threadsChanged))
    }
    package static func procfs(_ error: ProcfsError) -> Self { Self(.procfs(error)) }
    package static func failedAfterChange(_ error: AllThreadsError) -> Self { Self(.failedAfterChange(error)) }
    package static func landlockUnsupported(abi: Int, missing: [String]) -> Self { Self(.landlockUnsupported(abi: abi, missing: missing)) }
}
