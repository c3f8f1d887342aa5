// The engine's process-wide counters: not part of the engine's interface (CBroadcast.h).
// The module map puts this header in the explicit submodule CBroadcast.Statistics, which
// `import CBroadcast` does not bring in; AllThreads reads it for its package-access
// EngineStatistics (the command's broadcast count, the tests, the benchmark).
#ifndef CB_STATISTICS_H
#define CB_STATISTICS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cb_stats {
    uint64_t broadcasts;      ///< broadcasts that reached the signalling phase
    uint64_t handler_runs;    ///< calls run by the signal handler on other threads
    uint64_t not_ours;        ///< deliveries that were not a live broadcast (passed on or dropped)
} cb_stats;

/// Reads the counters (each atomically, not all at one instant).
void cb_get_stats(cb_stats *out);

#ifdef __cplusplus
}
#endif
#endif
