import AllThreads
import SystemPackage

// README.md, "Use it from Swift" (also on the catalog's landing page, AllThreads.md), and
// docs/swift-api.md (the raw broadcast).

func readmeSandbox() throws {
    // example: readme-sandbox
    // A sandbox: drop to nobody on every thread, set no_new_privs, load a seccomp filter,
    // and prove it on every thread (ids, groups, capabilities, NoNewPrivs, Seccomp from
    // /proc; setuid(0) and setgid(0) fail everywhere). Any doubt throws.
    let filter = SeccompFilter(defaultAction: .allow, rules: [.init("ptrace", .errno(.notPermitted))])
    let snapshot = try PrivilegeDrop(user: "nobody", noNewPrivileges: true, seccomp: filter).apply()
    print("dropped and proven on \(snapshot.threads.count) threads")
    // end
}

func readmeRawBroadcast() throws {
    // example: readme-raw-broadcast
    let report = try Broadcast.syscall(.setresuid, 65534, 65534, 65534)
    print("ran on \(report.threads) threads in \(report.rounds) round(s), \(report.elapsed)")
    let snapshot = try ProcessSnapshot.current()          // every thread, read from /proc
    precondition(snapshot.agree && snapshot.majority!.uids.all(equal: UserID(rawValue: 65534)))
    // end
}

// README.md, "Add AllThreads to your package": the main.swift of the package shown there.

func readmeAdopt() throws {
    // example: readme-adopt
    let proof = try PrivilegeDrop(user: "nobody", noNewPrivileges: true).apply()
    print("dropped to nobody and proven on \(proof.threads.count) threads")
    // end
}
