/// A thread whose result at a step of a program was not the expected one: it stopped there.
public struct StepMismatch: Sendable, Hashable, CustomStringConvertible {
    /// The thread.
    public var thread: ThreadIdentity
    /// The step at which it stopped (0-based).
    public var step: Int
    /// That step's system call.
    public var call: SystemCall
    /// What it returned on that thread.
    public var result: SyscallResult
    /// What the step expected (the caller's result, or the step's fixed one).
    public var expected: SyscallResult

    /// Describes a mismatch.
    ///
    /// - Parameters:
    ///   - thread: the thread.
    ///   - step: the step's index, from 1.
    ///   - call: the system call.
    ///   - result: the thread's result at that step.
    ///   - expected: the result expected at that step.
    package init(thread: ThreadIdentity, step: Int, call: SystemCall, result: SyscallResult, expected: SyscallResult) {
        self.thread = thread
        self.step = step
        self.call = call
        self.result = result
        self.expected = expected
    }

    /// The text that names it in messages and logs.
    public var description: String {
        "\(thread) stopped at step \(step + 1) (\(call)): got \(result), expected \(expected)"
    }
}
