import AllThreads

// The examples in the documentation comments of the AllThreads module's Sandbox folder.

func docFileSystemAccess() {
    // example: doc-file-system-access
    let rights: FileSystemAccess = .readExecute  // read files, list directories, execute
    // end
    _ = rights
}

func docSandbox() throws {
    // example: doc-sandbox
    let sandbox = try Sandbox(
        paths: [.init("/usr", .readExecute), .init("/tmp", .readWrite)],
        ports: [.init(443, .connectTCP)],
        compatibility: .bestEffort)
    let report = try sandbox.apply()
    print(report)  // what is enforced per layer, and what every thread proved
    // end
}

func docSandboxCredentials() throws {
    // example: doc-sandbox-credentials
    let server = try Sandbox(
        paths: [.init("/srv/www", .read), .init("/proc", .read)],
        seccomp: try SeccompFilter(parsing: "default allow\n@mount errno EPERM\n"),
        credentials: try PrivilegeDrop(user: "nobody", groups: []))
    let dropped = try server.apply()
    print(dropped.credentials?.count ?? 0, "threads dropped, as /proc shows")
    // end
}
