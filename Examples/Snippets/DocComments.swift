import AllThreads
import Glibc
import SystemPackage

// The examples in the documentation comments of the AllThreads module, in the order of its folders.

func docBroadcastSyscall() throws {
    // example: doc-broadcast-syscall
    // Drop to nobody on every thread, groups first.
    try Broadcast.syscall(.setresgid, 65534, 65534, 65534)
    try Broadcast.syscall(.setresuid, 65534, 65534, 65534)
    // end
}

func docBroadcastStep() {
    // example: doc-broadcast-step
    // The proof step of a drop: setuid(0) must fail with EPERM on every thread.
    let proof = BroadcastStep(.setuid, 0, expecting: .result(SyscallResult.failure(.notPermitted)))
    // end
    _ = proof
}

func docBroadcastProgram() throws {
    // example: doc-broadcast-program
    let sandbox = try BroadcastProgram.setNoNewPrivileges()
        + .dropFromBoundingSet(CapabilitySet.allSupported.subtracting([.netBindService]))
    try Broadcast.run(sandbox)
    // end
}

func docAllThreadsError() {
    // example: doc-all-threads-error
    do {
        try Broadcast.run(.setNoNewPrivileges())
    } catch .unreachable {
        print("no thread changed")
    } catch {
        switch error.code {
        case .failedAfterChange: fatalError("threads changed, then: \(error)")
        default: print(error)
        }
    }
    // end
}

func docPrivilegeDrop() throws {
    // example: doc-privilege-drop
    let drop = try PrivilegeDrop(user: "nobody", noNewPrivileges: true)
    let proof = try drop.apply()
    print("dropped and proven on \(proof.threads.count) threads")
    // end
}

func docPrivilegeDropTyped() throws {
    // example: doc-privilege-drop-typed
    let drop = try PrivilegeDrop(user: try Account.user(named: "nobody"), groups: [], noNewPrivileges: true)
    // end
    _ = drop
}

func docIoUringRing() throws {
    // example: doc-io-uring-ring
    for ring in try IoUringRing.current() { print(ring) }   // io_uring ring fd 3 (SQPOLL thread tid 812)
    // end
}

func docSeccompFilter() throws {
    // example: doc-seccomp-filter
    let filter = SeccompFilter(defaultAction: .allow, rules: [
        .init("ptrace", .errno(.notPermitted)),
        .init("kexec_load", .killProcess),
    ])
    try filter.loadOnAllThreads()
    // end
}

func docSeccompGroup() throws {
    // example: doc-seccomp-group
    let filter = SeccompFilter(defaultAction: .allow, rules: [
        .init(group: .mount, .errno(.notPermitted)),
        .init(group: .module, .killProcess),
        .init("ptrace", .errno(.notPermitted)),
    ])
    // end
    try filter.validate()
}

func docSeccompLoad(_ filter: SeccompFilter) throws {
    // example: doc-seccomp-load
    try Broadcast.run(.setNoNewPrivileges())
    try filter.loadOnAllThreads()
    // end
}

func docHostAudit() throws {
    // example: doc-host-audit
    let audit = try HostAudit.current()
    for process in audit.divergent {
        print(process.pid, process.name, process.comparison.differences)
    }
    // end
}

func docProcessSnapshot() throws {
    // example: doc-process-snapshot
    try Broadcast.syscall(.setresuid, 65534, 65534, 65534)
    let snapshot = try ProcessSnapshot.current()
    assert(snapshot.agree && snapshot.majority?.uids.all(equal: UserID(rawValue: 65534)) == true)
    // end
}

func docThreadComparison() throws {
    // example: doc-thread-comparison
    let comparison = ThreadComparison(majorityOf: try ProcessSnapshot.current())
    for thread in comparison.differences { print(thread) }
    // end
}
