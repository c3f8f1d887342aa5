import CBroadcast.Statistics

/// Process-wide counters kept by the engine: the command's broadcast count, the tests and the
/// benchmark read them.
package struct EngineStatistics: Sendable, Hashable {
    /// Broadcasts that reached the signalling phase.
    package var broadcasts: UInt64
    /// Calls run by the signal handler on threads other than the caller.
    package var handlerRuns: UInt64
    /// Deliveries of the signal that were not a live broadcast: glibc's own setxid
    /// signals (passed on to glibc), stale deliveries and signals from other processes.
    package var notOurs: UInt64

    /// The counters now.
    package static var current: EngineStatistics {
        var stats = cb_stats()
        cb_get_stats(&stats)
        return EngineStatistics(broadcasts: stats.broadcasts, handlerRuns: stats.handler_runs, notOurs: stats.not_ours)
    }
}
