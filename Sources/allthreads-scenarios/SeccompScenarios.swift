/// Scenarios for the seccomp operations (see the table).
enum SeccompScenarios {
    static let all: [String: Scenario] = [:]
}
