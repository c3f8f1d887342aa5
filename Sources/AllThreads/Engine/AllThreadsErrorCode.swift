extension AllThreadsError {
    /// What happened: a code per kind of failure, each saying which threads changed and which of
    /// the error's properties describe it.
    ///
    /// A struct with a static member per code, as swift-system's `Errno`: a release may add codes,
    /// so a `switch` over them needs a `default`.
    public struct Code: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The code's name.
        public var rawValue: String

        /// A code by its name.
        ///
        /// - Parameters:
        ///   - rawValue: the code's name, such as `"unreachable"`.
        public init(rawValue: String) { self.rawValue = rawValue }

        /// The text that names it in messages and logs.
        public var description: String { rawValue }

        /// The call failed on the calling thread, so it was not run anywhere else: no thread
        /// changed. ``AllThreadsError/errno`` holds the kernel's error.
        public static let callFailed = Code(rawValue: "callFailed")

        /// Strict mode: these threads did not answer before the deadline: no thread changed.
        /// ``AllThreadsError/unreachableThreads`` names each and why; an empty list means the
        /// thread list kept changing until the deadline.
        public static let unreachable = Code(rawValue: "unreachable")

        /// Relaxed mode only: these threads (``AllThreadsError/unreachableThreads``) did not answer
        /// before the deadline, after the caller and the threads that did answer had run the call.
        public static let unreachableAfterChange = Code(rawValue: "unreachableAfterChange")

        /// Every thread ran the call, and these got a result other than the caller's
        /// (``AllThreadsError/callerResult``, ``AllThreadsError/threadResults``).
        public static let mismatch = Code(rawValue: "mismatch")

        /// A program's step failed on the calling thread (``AllThreadsError/stepFailure``): every
        /// thread ran exactly the steps before it (none, when it was the first).
        public static let stepFailed = Code(rawValue: "stepFailed")

        /// These threads (``AllThreadsError/stepMismatches``) got a result other than the expected
        /// one at a step of a program and stopped there; every other thread ran the program to its end.
        public static let stepMismatch = Code(rawValue: "stepMismatch")

        /// The deadline passed while these threads (``AllThreadsError/threadResults``) were still
        /// running the call (the call blocks); the others ran it.
        public static let incomplete = Code(rawValue: "incomplete")

        /// Another broadcast of this process held the engine until the deadline: nothing was done.
        public static let busy = Code(rawValue: "busy")

        /// `/proc`, memory or the signal handler could not be set up, or a vfork child could not
        /// prove it is alone (``AllThreadsError/errno``): strict mode changed no thread; relaxed
        /// mode may have run the call on the caller and the threads already signalled (when
        /// `/proc` failed mid-broadcast).
        public static let setupFailed = Code(rawValue: "setupFailed")

        /// `/proc` is mounted from a PID namespace this process is not in (a sibling's or a
        /// descendant's), so the engine cannot list or name its threads: nothing was done. Mount a
        /// `/proc` of the process's own namespace (`unshare --pid --fork --mount-proc`), or of an
        /// ancestor namespace.
        public static let procOfAnotherPIDNamespace = Code(rawValue: "procOfAnotherPIDNamespace")

        /// An argument was rejected before anything was done (``AllThreadsError/message``).
        /// (Not `invalidArgument`: `catch .invalidArgument` would be ambiguous with swift-system's
        /// `Errno.invalidArgument`.)
        public static let argumentRejected = Code(rawValue: "argumentRejected")

        /// The kernel refused to synchronize a seccomp filter to a thread
        /// (``AllThreadsError/thread``): it has a filter of its own that the new one does not
        /// descend from. No thread changed.
        public static let seccompSyncFailed = Code(rawValue: "seccompSyncFailed")

        /// A privilege drop could not be proven: each thread that differs from what the drop
        /// promises, with every field that differs (``AllThreadsError/differences``: from /proc,
        /// or a regain probe such as `setuid(0)` that did not fail with `EPERM`). Every thread ran
        /// the drop.
        public static let proofFailed = Code(rawValue: "proofFailed")

        /// A privilege drop found ways the process could still act with credentials other than the
        /// target's that the threads' own credentials do not show
        /// (``AllThreadsError/retainedPrivileges``: io_uring rings, io_uring tasks, traced
        /// processes). ``AllThreadsError/foundAfterChange`` false: found before the drop started,
        /// nothing changed; true: found by the proof after every thread had dropped, so the process
        /// must not be trusted. A ``Sandbox`` throws it (nothing changed) for an io_uring ring,
        /// which keeps the old domain.
        public static let privilegeRetained = Code(rawValue: "privilegeRetained")

        /// A `/proc` file needed to validate or prove a change could not be read
        /// (``AllThreadsError/procfsError``).
        public static let procfs = Code(rawValue: "procfs")

        /// A privilege drop or a sandbox failed after threads had changed:
        /// ``AllThreadsError/underlyingError`` is what failed then (such as the seccomp filter's
        /// load, or the second broadcast of a long drop), and what it says about "no thread
        /// changed" holds for that last step only. Every thread ran the drop's program (or, for a
        /// drop of several broadcasts, the broadcasts before the failed one): the process is
        /// between states and must not be trusted.
        public static let failedAfterChange = Code(rawValue: "failedAfterChange")

        /// A strict ``Sandbox`` asked for Landlock rights or scopes that the kernel's ABI
        /// (``AllThreadsError/landlockABI``; 0: no Landlock) lacks
        /// (``AllThreadsError/missingLandlockFeatures``, each named with the ABI that has it):
        /// nothing changed.
        public static let landlockUnsupported = Code(rawValue: "landlockUnsupported")

        /// Whether `error` has this code: `catch .unreachable` with typed throws.
        ///
        /// - Parameters:
        ///   - code: the code to match.
        ///   - error: the error thrown.
        public static func ~= (code: Code, error: AllThreadsError) -> Bool {
            error.code == code
        }

        /// Whether `error` is an ``AllThreadsError`` with this code:
        /// `catch AllThreadsError.Code.unreachable` where any error is thrown.
        ///
        /// - Parameters:
        ///   - code: the code to match.
        ///   - error: the error thrown.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? AllThreadsError)?.code == code
        }
    }
}
