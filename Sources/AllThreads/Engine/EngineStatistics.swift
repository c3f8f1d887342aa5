import CBroadcast

/// Process-wide counters kept by the engine, for tests and benchmarks.
public struct EngineStatistics: Sendable, Hashable {
    /// Broadcasts that reached the signalling phase.
    public var broadcasts: UInt64
    /// Calls run by the signal handler on threads other than the caller.
    public var handlerRuns: UInt64
    /// Deliveries of the signal that were not a live broadcast: glibc's own setxid
    /// signals (passed on to glibc), stale deliveries and signals from other processes.
    public var notOurs: UInt64

    /// The counters now.
    public static var current: EngineStatistics {
        var stats = cb_stats()
        cb_get_stats(&stats)
        return EngineStatistics(broadcasts: stats.broadcasts, handlerRuns: stats.handler_runs, notOurs: stats.not_ours)
    }
}
