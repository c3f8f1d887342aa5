/// What a comparison of threads looks at: the per-thread state a change is expected to make equal.
public struct ThreadAspects: OptionSet, Sendable, Hashable, CustomStringConvertible {
    /// The aspects as bits.
    public var rawValue: UInt8

    /// Wraps raw bits.
    ///
    /// - Parameters:
    ///   - rawValue: the raw value.
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Ids, supplementary groups, capability sets, no_new_privs and seccomp mode (``ThreadCredentials``).
    public static let credentials = ThreadAspects(rawValue: 1 << 0)
    /// The timer slack (`/proc/<tid>/timerslack_ns`).
    public static let timerSlack = ThreadAspects(rawValue: 1 << 1)
    /// The nice value (`stat` field 19).
    public static let nice = ThreadAspects(rawValue: 1 << 2)
    /// The CPU affinity (`Cpus_allowed_list:`).
    public static let cpuAffinity = ThreadAspects(rawValue: 1 << 3)

    /// Each aspect with its name, in a fixed order.
    static let named: [(aspect: ThreadAspects, name: String)] = [
        (.credentials, "credentials"), (.timerSlack, "timer_slack"), (.nice, "nice"), (.cpuAffinity, "cpu_affinity"),
    ]

    /// The names of the aspects in the set, such as `["credentials", "timer_slack"]`.
    public var names: [String] { Self.named.filter { contains($0.aspect) }.map(\.name) }

    /// The names joined with `+`, such as `credentials+timer_slack`.
    public var description: String { names.joined(separator: "+") }
}
