/// System calls that every thread runs in order, as a whole, in one broadcast (one stop of
/// the process).
///
/// Every operation is a program (``BroadcastProgram/setuid(_:)``,
/// ``BroadcastProgram/setNoNewPrivileges()``, ``BroadcastProgram/landlockRestrictSelf(ruleset:)``,
/// ``BroadcastProgram/dropFromBoundingSet(_:)``, …), validated when it is made;
/// ``Broadcast/run(_:options:)`` runs one (`try Broadcast.run(.setuid(uid))`), or the sum of
/// several added with `+`:
///
/// ```swift
/// let sandbox = try BroadcastProgram.setNoNewPrivileges()
///     + .dropFromBoundingSet(CapabilitySet.allSupported.subtracting([.netBindService]))
/// try Broadcast.run(sandbox)
/// ```
public struct BroadcastProgram: Sendable, Hashable {
    /// The most steps one broadcast carries.
    public static let maxSteps = 64

    /// The steps, in the order every thread runs them.
    public var steps: [BroadcastStep]

    /// A program of these steps.
    ///
    /// - Parameters:
    ///   - steps: the steps, in order.
    public init(_ steps: [BroadcastStep] = []) {
        self.steps = steps
    }

    /// The steps of `first`, then those of `second`.
    ///
    /// - Parameters:
    ///   - first: the steps that run first.
    ///   - second: the steps that run after them.
    public static func + (first: BroadcastProgram, second: BroadcastProgram) -> BroadcastProgram {
        BroadcastProgram(first.steps + second.steps)
    }

    /// Appends the steps of `other`.
    ///
    /// - Parameters:
    ///   - program: the program to append to.
    ///   - other: the program whose steps follow.
    public static func += (program: inout BroadcastProgram, other: BroadcastProgram) {
        program.steps += other.steps
    }
}
