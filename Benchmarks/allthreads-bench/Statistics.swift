import Glibc

/// Monotonic time in nanoseconds.
func nowNanoseconds() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_MONOTONIC, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// Times one call in nanoseconds.
func timed(_ body: () throws -> Void) rethrows -> Int64 {
    let start = nowNanoseconds()
    try body()
    return nowNanoseconds() - start
}

/// Median and 90th percentile of a set of samples, in microseconds.
struct Timing: Codable, Sendable {
    var medianMicroseconds: Double
    var p90Microseconds: Double
    var samples: Int
    /// Voluntary context switches per idle thread per call.
    var wakeupsPerThread: Double?

    init(nanoseconds: [Int64], wakeupsPerThread: Double? = nil) {
        let sorted = nanoseconds.sorted()
        func at(_ q: Double) -> Double {
            guard !sorted.isEmpty else { return .nan }
            return Double(sorted[min(sorted.count - 1, Int((Double(sorted.count - 1) * q).rounded()))]) / 1000
        }
        medianMicroseconds = at(0.5)
        p90Microseconds = at(0.9)
        samples = sorted.count
        self.wakeupsPerThread = wakeupsPerThread
    }
}
