/// What a broadcast does when threads disagree on the result.
public enum MismatchPolicy: Sendable, Hashable {
    /// Throw ``AllThreadsError/Code/mismatch`` naming every thread that disagreed.
    case throwError
    /// Print the disagreement on standard error and abort the process, as glibc and Go do.
    case abort
}
