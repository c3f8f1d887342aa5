/// How a broadcast runs.
public struct BroadcastOptions: Sendable, Hashable {
    /// How long the whole broadcast may take, waiting for the lock included.
    /// A thread that has not answered by then makes the broadcast fail, and then no thread has changed.
    public var timeout: Duration
    /// The signal used to reach the other threads.
    public var signal: KernelSignal
    /// What happens when a thread's result differs from the caller's.
    public var onMismatch: MismatchPolicy
    /// Strict (the default) or relaxed.
    public var mode: BroadcastMode

    /// Creates options; the defaults suit every credential change.
    ///
    /// - Parameters:
    ///   - timeout: the deadline of each wait of the broadcast (default 5 s).
    ///   - signal: the signal that reaches every thread (default the kernel's 33).
    ///   - onMismatch: throw (the default) or abort like glibc and Go when a thread's result differs.
    ///   - mode: strict (the default) or relaxed.
    public init(
        timeout: Duration = .seconds(5), signal: KernelSignal = .setxid, onMismatch: MismatchPolicy = .throwError,
        mode: BroadcastMode = .strict
    ) {
        self.timeout = timeout
        self.signal = signal
        self.onMismatch = onMismatch
        self.mode = mode
    }
}
