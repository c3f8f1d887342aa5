import AllThreads

// AllThreads.docc/SandboxingARunningServer.md.

func sandboxingARunningServer() throws {
    // example: sandboxing-a-running-server
    // Bound to 8080 and opened the database already: keep read-only assets, the data folder
    // and one outbound port; nothing else, on every thread.
    let sandbox = try Sandbox(
        paths: [
            .init("/srv/www", .read),
            .init("/var/lib/app", .readWrite),
            .init("/usr", .readExecute),
        ],
        ports: [.init(5432, .connectTCP)],
        scopes: .abstractUnixSocket,
        compatibility: .bestEffort,
        seccomp: try SeccompFilter(parsing: "default allow\nptrace errno EPERM\n"))
    let report = try sandbox.apply()
    print(report.network)  // enforced, or what the kernel's ABI lacks
    // end
}
