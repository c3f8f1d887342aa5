/// The calling thread's step of a program failed: the program stopped there.
public struct StepFailure: Sendable, Hashable, CustomStringConvertible {
    /// The failed step's position (0-based).
    public var step: Int
    /// Its system call.
    public var call: SystemCall
    /// What it returned on the calling thread.
    public var result: SyscallResult
    /// How many steps every thread ran: exactly those before the failed one.
    public var appliedSteps: Int

    /// Describes a failed step.
    ///
    /// - Parameters:
    ///   - step: the step's index, from 1.
    ///   - call: the system call.
    ///   - result: the caller's result at that step.
    ///   - appliedSteps: how many steps every thread holds.
    package init(step: Int, call: SystemCall, result: SyscallResult, appliedSteps: Int) {
        self.step = step
        self.call = call
        self.result = result
        self.appliedSteps = appliedSteps
    }

    /// The text that names it in messages and logs.
    public var description: String {
        let applied = appliedSteps == 0 ? "no step ran on any thread" : "steps 1...\(appliedSteps) are applied on every thread"
        return "step \(step + 1) (\(call)) failed on the calling thread: \(result); \(applied)"
    }
}
