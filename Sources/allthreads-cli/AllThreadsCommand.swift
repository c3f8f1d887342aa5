import ArgumentParser

/// `allthreads`: apply a per-thread change to every thread of a process, and prove it.
@main
struct AllThreadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allthreads",
        abstract: "Run one system call on every thread of this process, and prove it through /proc.",
        subcommands: [SyscallCommand.self, InspectCommand.self]
    )
}
