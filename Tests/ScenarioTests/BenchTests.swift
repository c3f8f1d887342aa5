import AllThreadsTestSupport
import Foundation
import XCTest

/// The benchmark program runs end to end, and the engine's wake-up economy holds:
/// glibc and relaxed wake each idle thread once per call, strict twice; heap allocations per
/// broadcast do not grow with the threads. Counts, not timings (timings belong to
/// scripts/bench.sh, in a release build, which also fails unless a broadcast allocates nothing).
///
/// The test target does not depend on allthreads-bench: that executable interposes
/// malloc, which must not leak into the test runner (nor clash with ASan's). It is
/// built with every target by `swift build --build-tests` (scripts/test.sh).
final class BenchTests: XCTestCase {
    private struct Timing: Decodable { var wakeupsPerThread: Double?; var samples: Int }
    private struct Config: Decodable { var threads: Int; var glibc: Timing; var strict: Timing; var relaxed: Timing; var allocationsPerBroadcast: Double }

    func testWakeUpsPerThreadAreOneForRelaxedAndTwoForStrict() throws {
        for sanitizer in ["thread", "address"] {
            try skipUnderSanitizer(sanitizer, because: "the benchmark interposes malloc, as the sanitizer runtimes do")
        }
        let result = try runProduct("allthreads-bench", ["one", "--threads", "16", "--idle", "futex", "--reps", "20"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let config = try JSONDecoder().decode(Config.self, from: Data(result.stdout.utf8))
        XCTAssertEqual(config.threads, 16)
        XCTAssertEqual(config.strict.samples, 20)
        let glibc = try XCTUnwrap(config.glibc.wakeupsPerThread), strict = try XCTUnwrap(config.strict.wakeupsPerThread)
        let relaxed = try XCTUnwrap(config.relaxed.wakeupsPerThread)
        XCTAssertEqual(glibc, 1, accuracy: 0.25, "glibc wakes each thread once")
        XCTAssertEqual(relaxed, 1, accuracy: 0.25, "relaxed must wake each thread once")
        XCTAssertEqual(strict, 2, accuracy: 0.25, "strict wakes each thread twice: to stop it, then to run the call")
        // The optimized build makes none (the benchmark fails otherwise); this debug build makes a
        // few, and never one per thread: 4 times the threads make no more.
        let more = try runProduct("allthreads-bench", ["one", "--threads", "64", "--idle", "futex", "--reps", "3"])
        XCTAssertEqual(more.status, 0, more.stderr)
        let allocations = try JSONDecoder().decode(Config.self, from: Data(more.stdout.utf8)).allocationsPerBroadcast
        XCTAssertLessThan(config.allocationsPerBroadcast, Double(config.threads), "allocations per broadcast at 16 threads")
        XCTAssertEqual(
            allocations, config.allocationsPerBroadcast, accuracy: 0.5,
            "allocations per broadcast grow with the threads (16: \(config.allocationsPerBroadcast))")
        print(
            "wake-ups per thread per call: glibc \(glibc), strict \(strict), relaxed \(relaxed); allocations per broadcast (debug build) \(config.allocationsPerBroadcast) at 16 threads, \(allocations) at 64"
        )
    }

    /// The contention row's processes (glibc's tst-pthread-setuid-loop shape) run every call:
    /// a failed setuid fails the process, and ours makes one engine broadcast per call.
    func testContentionRunsOneBroadcastPerCall() throws {
        for sanitizer in ["thread", "address"] {
            try skipUnderSanitizer(sanitizer, because: "the benchmark interposes malloc, as the sanitizer runtimes do")
        }
        struct Sample: Decodable { var broadcasts: Int; var contextSwitches: Int }
        for (kind, broadcasts) in [("glibc", 0), ("strict", 40), ("relaxed", 40)] {
            let result = try runProduct("allthreads-bench", ["contention", "--kind", kind, "--iterations", "10"])
            XCTAssertEqual(result.status, 0, "\(kind): \(result.stderr)")
            let sample = try JSONDecoder().decode(Sample.self, from: Data(result.stdout.utf8))
            XCTAssertEqual(sample.broadcasts, broadcasts, "\(kind): 10 iterations of 4 calls")
            XCTAssertGreaterThan(sample.contextSwitches, 0, kind)
        }
    }

    /// The sandbox rows' processes apply the whole sandbox: one stop (and the io_uring probe
    /// before the drop) against one broadcast per layer.
    func testSandboxRowsApplyTheSandboxInOneStopOrOnePerLayer() throws {
        for sanitizer in ["thread", "address"] {
            try skipUnderSanitizer(sanitizer, because: "the benchmark interposes malloc, as the sanitizer runtimes do")
        }
        for (kind, broadcasts) in [("one-stop", 2), ("per-layer", 3)] {
            let result = try runProduct("allthreads-bench", ["sandbox", "--kind", kind, "--mode", "strict", "--threads", "8", "--idle", "pause"])
            XCTAssertEqual(result.status, 0, "\(kind): \(result.stderr)")
            let sample = try JSONDecoder().decode([Int64].self, from: Data(result.stdout.utf8))
            XCTAssertEqual(sample.count, 4, kind)
            XCTAssertEqual(sample.count == 4 ? sample[1] : -1, Int64(broadcasts), "\(kind): broadcasts")
            XCTAssertGreaterThan(sample.count == 4 ? sample[3] : 0, 0, "\(kind): the stops took no time")
        }
    }
}
