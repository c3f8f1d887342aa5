/// One system call of a ``BroadcastProgram``, and what its result must be on every thread.
///
/// ```swift
/// // The proof step of a drop: setuid(0) must fail with EPERM on every thread.
/// let proof = BroadcastStep(.setuid, 0, expecting: .result(SyscallResult.failure(.notPermitted)))
/// ```
public struct BroadcastStep: Sendable, Hashable {
    /// What a step's result must be.
    public enum Expectation: Sendable, Hashable {
        /// Whatever the calling thread got; a failure there stops the program at this step.
        case callersResult
        /// Exactly this result, on the calling thread too (a proof step).
        case result(SyscallResult)
        /// Whatever the calling thread got, even a failure: the step runs everywhere and each
        /// thread's result is compared with the caller's (how ``Broadcast/probe(_:_:options:)`` works).
        case probe
    }

    /// One argument of the call.
    public enum Argument: Sendable, Hashable {
        /// A value passed as it is.
        case value(Int)
        /// A pointer to a copy of these bytes, which the program keeps alive (8-byte
        /// aligned) while it runs: a `setgroups` list, a `capset` header and data.
        case bytes([UInt8])
    }

    /// The system call.
    public var call: SystemCall
    /// At most six arguments.
    public var arguments: [Argument]
    /// What its result must be.
    public var expectation: Expectation

    /// A step with plain values as arguments.
    ///
    /// - Parameters:
    ///   - call: the system call.
    ///   - arguments: at most six arguments, as the kernel takes them.
    ///   - expectation: the result every other thread must get: the caller's (the default), a fixed one, or any (a probe).
    public init(_ call: SystemCall, _ arguments: Int..., expecting expectation: Expectation = .callersResult) {
        self.init(call, arguments: arguments.map(Argument.value), expecting: expectation)
    }

    /// A step with any arguments.
    ///
    /// - Parameters:
    ///   - call: the system call.
    ///   - arguments: at most six arguments, as the kernel takes them.
    ///   - expectation: the result every other thread must get: the caller's (the default), a fixed one, or any (a probe).
    public init(_ call: SystemCall, arguments: [Argument], expecting expectation: Expectation = .callersResult) {
        self.call = call
        self.arguments = arguments
        self.expectation = expectation
    }
}
