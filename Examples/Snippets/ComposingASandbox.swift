import AllThreads
import SystemPackage

// AllThreads.docc/ComposingASandbox.md.

func composingASandbox(ruleset: FileDescriptor) throws {
    // example: composing-a-sandbox
    var sandbox = BroadcastProgram.setNoNewPrivileges()
    sandbox += try .landlockRestrictSelf(ruleset: ruleset)
    sandbox += try .dropFromBoundingSet(CapabilitySet.allSupported.subtracting([.netBindService]))
    sandbox += try .setCapabilities(effective: [.netBindService], permitted: [.netBindService], inheritable: [])
    let report = try Broadcast.run(sandbox)
    print("\(sandbox.steps.count) steps on \(report.threads) threads, in one stop")
    // end
}

func composingASandboxProof() throws {
    // example: composing-a-sandbox-proof
    let notPermitted = SyscallResult.failure(.notPermitted)
    let drop = BroadcastProgram.clearGroups() + BroadcastProgram([
        BroadcastStep(.setresgid, 65534, 65534, 65534),
        BroadcastStep(.setresuid, 65534, 65534, 65534),
        BroadcastStep(.setuid, 0, expecting: .result(notPermitted)),
    ])
    try Broadcast.run(drop)
    // end
}

func composingASandboxLimit() {
    // example: composing-a-sandbox-limit
    let tooLong = BroadcastProgram(Array(repeating: BroadcastStep(.getpid), count: BroadcastProgram.maxSteps + 1))
    do {
        try Broadcast.run(tooLong)
    } catch {
        print(error)  // invalid argument: a program takes at most 64 steps, not 65
    }
    // end
}

func composingASandboxGroups() {
    // example: composing-a-sandbox-groups
    for group in SeccompFilter.Group.all {
        print("@\(group.name):", group.nativeMembers.joined(separator: " "))
        if !group.absentMembers.isEmpty { print("  not on this architecture:", group.absentMembers.joined(separator: " ")) }
    }
    // end
}
