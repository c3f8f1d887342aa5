import AllThreads
import CBroadcast
import Foundation

/// A scenario: runs, proves its property or throws, and returns a one-line summary.
typealias Scenario = @Sendable (ScenarioArguments) throws -> String

/// Every scenario by name; each scenario file contributes its own table.
enum ScenarioTable {
    /// Each file's table.
    static let parts: [[String: Scenario]] = [
        EngineScenarios.all, OperationScenarios.all, SeccompScenarios.all, CLIScenarios.all, IoUringScenarios.all, DropScenarios.all,
        TortureScenarios.all, ReliabilityScenarios.all, ProgramScenarios.all, SurvivalScenarios.all, SandboxScenarios.all, ["torture": TortureRunner.run],
    ]

    /// The tables of ``parts`` in one.
    static func all() throws(ScenarioFailure) -> [String: Scenario] { try merged(parts) }

    /// `parts` in one table; a name in two of them is an error that names it (one would be lost).
    static func merged(_ parts: [[String: Scenario]]) throws(ScenarioFailure) -> [String: Scenario] {
        var table: [String: Scenario] = [:]
        for part in parts {
            for (name, scenario) in part where table.updateValue(scenario, forKey: name) != nil {
                throw ScenarioFailure(description: "two scenarios are named '\(name)'")
            }
        }
        return table
    }
}

/// A scenario failed: the message says which property broke.
struct ScenarioFailure: Error, CustomStringConvertible {
    var description: String
}

/// Throws a ScenarioFailure unless `condition` holds.
func require(_ condition: Bool, _ message: @autoclosure () -> String) throws(ScenarioFailure) {
    if !condition { throw ScenarioFailure(description: message()) }
}

/// The options a scenario was started with: `--name value` pairs.
struct ScenarioArguments: Sendable {
    var values: [String: String] = [:]

    init(_ arguments: ArraySlice<String>) throws(ScenarioFailure) {
        var rest = arguments[...]
        while let key = rest.popFirst() {
            guard key.hasPrefix("--"), let value = rest.popFirst() else {
                throw ScenarioFailure(description: "expected --name value pairs, got \(key)")
            }
            values[String(key.dropFirst(2))] = value
        }
    }

    func int(_ name: String, default value: Int) throws(ScenarioFailure) -> Int {
        guard let text = values[name] else { return value }
        guard let number = Int(text) else { throw ScenarioFailure(description: "--\(name) takes a number, not \(text)") }
        return number
    }
}

/// Reads every thread of this process from /proc and checks `property` on each
/// thread that runs code. Returns how many threads were checked.
@discardableResult
func verifyEveryThread(_ what: String, _ property: (ThreadState) -> Bool) throws -> Int {
    let threads = try ProcessSnapshot.current().threads.filter { !$0.runsNoCode }
    let bad = threads.filter { !property($0) }
    try require(
        bad.isEmpty,
        "\(bad.count) of \(threads.count) threads are not \(what): "
            + bad.prefix(10).map {
                "tid \($0.tid) (\($0.name)) uid \($0.credentials.uids) gid \($0.credentials.gids) slack \($0.timerSlack.map { String($0.nanoseconds) } ?? "?")"
            }
            .joined(separator: "; "))
    return threads.count
}

/// Sets this process's timer slack on every thread: a per-thread value the
/// kernel shows in /proc/<tid>/timerslack_ns, cheap to change every round.
@discardableResult
func broadcastTimerSlack(_ nanoseconds: Int, options: BroadcastOptions = BroadcastOptions()) throws -> BroadcastReport {
    try Broadcast.syscall(.prctl, Int(PR_SET_TIMERSLACK), nanoseconds, options: options)
}

/// Runs `broadcast` expecting `.unreachable` that names exactly `tid`, for `reason`.
func expectUnreachable(_ tid: Int32, _ reason: ThreadIssue.Reason, _ broadcast: () throws -> Void) throws -> ThreadIssue {
    do {
        try broadcast()
    } catch let error as AllThreadsError {
        guard case .unreachable(let threads) = error.kind else { throw ScenarioFailure(description: "expected unreachable, got \(error)") }
        try require(threads.map(\.tid) == [tid], "unreachable names \(threads), expected only tid \(tid)")
        try require(threads[0].reason == reason, "tid \(tid) is \(threads[0].reason), expected \(reason)")
        return threads[0]
    }
    throw ScenarioFailure(description: "the broadcast succeeded although tid \(tid) cannot answer")
}
