import AllThreadsTestSupport
import XCTest

/// The sandbox on 200+ threads of every kind, each scenario in a process of its own (Landlock
/// cannot be undone), in both modes; each thread's denials and allowances shown by the thread
/// itself, no_new_privs from /proc.
final class SandboxTests: XCTestCase {
    private func bothModes(_ name: String) throws {
        for mode in ["strict", "relaxed"] { try sandboxScenario(name, ["--mode", mode]) }
    }

    /// Runs `name` with `--root`, a fresh directory removed afterwards.
    @discardableResult
    private func sandboxScenario(_ name: String, _ options: [String] = []) throws -> String {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("allthreads-sandbox-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: root, withIntermediateDirectories: false)
        defer { try? FileManager.default.removeItem(at: root) }
        return try scenario(name, options + ["--root", root.path])
    }

    /// Files, ports, no_new_privs in one stop, proven in it; every thread shows each denial and allowance.
    func testSandboxAppliesAndIsProvenOnEveryThread() throws { try bothModes("sandbox") }

    /// Strict: a right beyond the kernel's ABI (ABI 3 simulated) is refused; nothing changed.
    func testStrictRefusesWhatTheKernelLacks() throws { try bothModes("sandbox-abi-strict") }

    /// Best effort: what the kernel lacks is dropped and reported per layer.
    func testBestEffortReportsWhatIsNotEnforced() throws { try bothModes("sandbox-abi-best-effort") }

    /// Bad input, bad profiles among it (each error naming the line and the field), is refused
    /// before anything changes: /proc and every thread's own probes show no thread changed.
    func testBadInputIsRefusedAndNothingChanges() throws {
        let output = try sandboxScenario("sandbox-bad-input")
        XCTAssertTrue(output.contains("18 bad inputs refused"), output)
    }

    /// A thread whose own earlier domain makes a proof fail is named, with the step and its result.
    func testAThreadThatDisagreesIsNamed() throws { try bothModes("sandbox-thread-disagrees") }

    /// An io_uring ring (whose workers keep the old credentials) makes the sandbox refuse; nothing changed.
    func testAnIoUringRingIsRefused() throws { try sandboxScenario("sandbox-io-uring") }

    /// Scopes with a domain per thread: a sibling's abstract socket is refused; our signal still reaches every thread.
    func testScopesSeparateSiblingThreadsButNotOurSignal() throws { try bothModes("sandbox-scopes") }
}
