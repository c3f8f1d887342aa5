// allthreads-scenarios: process-wide and irreversible scenarios, one per run.
// Usage: allthreads-scenarios NAME [--option value ...]
// Prints "PASS NAME: summary" and exits 0, or "FAIL NAME: reason" and exits 1.
import Foundation

let scenarios: [String: Scenario]
do {
    scenarios = try ScenarioTable.all()
} catch {
    print("FAIL: \(error)")
    exit(1)
}

let arguments = CommandLine.arguments.dropFirst()
guard let name = arguments.first, let scenario = scenarios[name] else {
    FileHandle.standardError.write(Data("usage: allthreads-scenarios {\(scenarios.keys.sorted().joined(separator: "|"))} [--option value ...]\n".utf8))
    exit(2)
}
do {
    let summary = try scenario(try ScenarioArguments(arguments.dropFirst()))
    print("PASS \(name): \(summary)")
    exit(0)
} catch {
    print("FAIL \(name): \(error)")
    exit(1)
}
