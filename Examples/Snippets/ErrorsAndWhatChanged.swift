import AllThreads

// AllThreads.docc/ErrorsAndWhatChanged.md.

func errorsAndWhatChanged(_ program: BroadcastProgram) {
    // example: errors-and-what-changed
    do {
        let report = try Broadcast.run(program)
        print("every thread ran \(program.steps.count) steps: \(report.stepResults)")
    } catch .stepFailed(let failure) {
        // Every thread ran exactly the steps before the failed one.
        print("applied everywhere: steps 1...\(failure.appliedSteps); \(failure)")
    } catch .stepMismatch(let threads) {
        for thread in threads { print("stopped early: \(thread)") }
    } catch .unreachable(let threads) {
        print("nothing changed; could not stop: \(threads)")
    } catch {
        print(error)
    }
    // end
}
