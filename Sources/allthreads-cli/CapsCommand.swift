import AllThreads
import AllThreadsCLISupport
import ArgumentParser

/// `allthreads caps ...`: the capability sets of every thread.
struct CapsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "caps",
        abstract: "Set or drop the effective, permitted and inheritable capabilities of every thread (capset).",
        discussion: """
            Capabilities are names (cap_net_raw, NET_RAW) or numbers, separated by commas or \
            spaces; 'all' and 'none' stand alone.

            Examples:
              allthreads caps set --permitted chown,net_raw --effective chown --verify
              allthreads caps drop cap_net_raw cap_sys_admin --threads 64 --verify
            """,
        subcommands: [CapsSetCommand.self, CapsDropCommand.self])
}

/// `allthreads caps set --permitted LIST [--effective LIST] [--inheritable LIST]`.
struct CapsSetCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "set",
        abstract: "Set the effective, permitted and inheritable sets of every thread.",
        discussion: """
            The effective set defaults to the permitted set; the inheritable set to none. \
            The kernel lowers ambient capabilities that leave the permitted or inheritable set.

            Examples:
              allthreads caps set --permitted chown,net_raw --effective chown --verify
              allthreads caps set --permitted none --threads 64 --json
            """ + ChangeOptions.commandHelp)

    @Option(help: ArgumentHelp("The permitted set.", valueName: "capabilities"))
    var permitted: String

    @Option(help: ArgumentHelp("The effective set, part of the permitted set (default: the permitted set).", valueName: "capabilities"))
    var effective: String?

    @Option(help: ArgumentHelp("The inheritable set (default: none).", valueName: "capabilities"))
    var inheritable: String = "none"

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange {
        let permittedSet = try CapabilitySet(parsing: permitted)
        let effectiveSet = try effective.map { text throws(AllThreadsError) in try CapabilitySet(parsing: text) } ?? permittedSet
        return .setCapabilities(effective: effectiveSet, permitted: permittedSet, inheritable: try CapabilitySet(parsing: inheritable))
    }
}

/// `allthreads caps drop CAP...`.
struct CapsDropCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "drop",
        abstract: "Remove capabilities from the effective, permitted, inheritable and ambient sets of every thread.",
        discussion: """
            Every thread gets the calling thread's sets without these capabilities.

            Examples:
              allthreads caps drop cap_net_raw --verify
              allthreads caps drop net_raw,sys_admin --threads 64 --json
            """ + ChangeOptions.commandHelp)

    @Argument(help: ArgumentHelp("Capabilities, as names or numbers (also comma-separated).", valueName: "capability"))
    var capabilities: [String]

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange {
        .dropCapabilities(try CapabilitySet(parsing: capabilities.joined(separator: ",")))
    }
}
