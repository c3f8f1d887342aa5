import AllThreads
import SystemPackage

// AllThreads.docc/GettingStarted.md.

func gettingStartedDrop() throws {
    // example: getting-started-drop
    // Still root here: the server has bound its port and started its threads.
    let drop = try PrivilegeDrop(user: "nobody", noNewPrivileges: true)
    let proof = try drop.apply()
    print("nobody on all \(proof.threads.count) threads, proven through /proc")
    // end
}

func gettingStartedProve() throws {
    // example: getting-started-prove
    let snapshot = try ProcessSnapshot.current()
    for thread in snapshot.threads where !thread.runsNoCode {
        let state = thread.credentials
        print(thread.tid, thread.name, state.uids, state.capabilities.effective, state.noNewPrivs)
    }
    guard snapshot.agree, let credentials = snapshot.majority, credentials.uids.all(equal: UserID(rawValue: 65534)) else {
        fatalError("threads that differ: \(snapshot.outliers.map(\.tid))")
    }

    // Ask the kernel on every thread: setuid(0) must fail with EPERM everywhere.
    let result = try Broadcast.probe(.setuid, 0)
    precondition(result.errno == .notPermitted)
    // end
}

func gettingStartedFailure() {
    // example: getting-started-failure
    do {
        try PrivilegeDrop(user: "nobody", noNewPrivileges: true).apply()
    } catch .argumentRejected {
        print("refused before anything changed")
    } catch {
        switch error.code {
        case .unreachable:
            // Still root on every thread: name the ones that could not be stopped.
            for thread in error.unreachableThreads { print("unreachable: \(thread)") }
        default:
            // The drop began: whatever it left, this process must not serve.
            fatalError("privilege drop failed: \(error)")
        }
    }
    // end
}
