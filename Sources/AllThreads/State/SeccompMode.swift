/// Seccomp mode from `Seccomp:`: 0 disabled, 1 strict, 2 filter.
public enum SeccompMode: Int, Sendable, Hashable {
    /// No seccomp.
    case disabled = 0
    /// `SECCOMP_MODE_STRICT`: only `read`, `write`, `_exit` and `sigreturn`.
    case strict = 1
    /// `SECCOMP_MODE_FILTER`: one or more BPF filters.
    case filter = 2
}
