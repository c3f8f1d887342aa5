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
