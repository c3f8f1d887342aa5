import AllThreads

// AllThreads.docc/ErrorsAndWhatChanged.md.

func errorsAndWhatChanged(_ program: BroadcastProgram) {
    // example: errors-and-what-changed
    do {
        let report = try Broadcast.run(program)
        print("every thread ran \(program.steps.count) steps: \(report.stepResults)")
    } catch {
        switch error.code {
        case .stepFailed:
            // Every thread ran exactly the steps before the failed one.
            print("applied everywhere: the steps before the failed one; \(error)")
        case .stepMismatch:
            for thread in error.stepMismatches { print("stopped early: \(thread)") }
        case .unreachable:
            print("nothing changed; could not stop: \(error.unreachableThreads)")
        default:
            print(error)
        }
    }
    // end
}
