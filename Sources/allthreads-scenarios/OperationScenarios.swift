/// Scenarios for the operation operations (see the table).
enum OperationScenarios {
    static let all: [String: Scenario] = [:]
}
