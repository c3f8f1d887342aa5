import AllThreads
import AllThreadsCLISupport
import ArgumentParser

/// `allthreads prctl ...`: per-thread process attributes.
struct PrctlCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "prctl",
        abstract: "Set a per-thread prctl attribute on every thread.",
        discussion: """
            Examples:
              allthreads prctl no-new-privs -- grep NoNewPrivs /proc/self/status
              allthreads prctl keepcaps on
              allthreads prctl capbset-drop cap_sys_module cap_sys_boot --verify
              allthreads prctl timerslack 100000 --threads 64 --verify --json
            """,
        subcommands: [NoNewPrivsCommand.self, KeepcapsCommand.self, CapbsetDropCommand.self, TimerslackCommand.self])
}

/// `allthreads prctl no-new-privs`.
struct NoNewPrivsCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "no-new-privs",
        abstract: "Set no_new_privs on every thread (PR_SET_NO_NEW_PRIVS); it cannot be unset.",
        discussion: """
            Examples:
              allthreads prctl no-new-privs --threads 64 --verify --json
              allthreads prctl no-new-privs -- grep NoNewPrivs /proc/self/status
            """ + ChangeOptions.commandHelp)

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange { .noNewPrivileges }
}

/// `allthreads prctl keepcaps on|off`.
struct KeepcapsCommand: ChangeCommand {
    /// The two settings.
    enum Setting: String, ExpressibleByArgument, CaseIterable {
        case on, off
    }

    static let configuration = CommandConfiguration(
        commandName: "keepcaps",
        abstract: "Set or clear keep-caps on every thread (PR_SET_KEEPCAPS).",
        discussion: """
            With keep-caps, the permitted capabilities survive a change of every uid away from 0. \
            /proc does not show it: --verify asks every thread with PR_GET_KEEPCAPS.

            Examples:
              allthreads prctl keepcaps on --verify
              allthreads prctl keepcaps off --threads 64 --verify --json
            """ + ChangeOptions.commandHelp)

    @Argument(help: "on or off.")
    var setting: Setting

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange { .keepCapabilities(setting == .on) }
}

/// `allthreads prctl capbset-drop CAP...`.
struct CapbsetDropCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "capbset-drop",
        abstract: "Drop capabilities from every thread's bounding set (PR_CAPBSET_DROP).",
        discussion: """
            Capabilities are names (cap_sys_admin, SYS_ADMIN) or numbers; 'all' drops every one. \
            Needs CAP_SETPCAP.

            Examples:
              allthreads prctl capbset-drop cap_sys_module cap_sys_boot --verify
              allthreads prctl capbset-drop net_raw,mknod --threads 64 --json
            """ + ChangeOptions.commandHelp)

    @Argument(help: ArgumentHelp("Capabilities, as names or numbers (also comma-separated).", valueName: "capability"))
    var capabilities: [String]

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange {
        .dropFromBoundingSet(try CapabilitySet(parsing: capabilities.joined(separator: ",")))
    }
}

/// `allthreads prctl timerslack NS`.
struct TimerslackCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "timerslack",
        abstract: "Set the timer slack of every thread (PR_SET_TIMERSLACK).",
        discussion: """
            Examples:
              allthreads prctl timerslack 100000 --verify
              allthreads prctl timerslack 1 --threads 64 --verify --json
            """ + ChangeOptions.commandHelp)

    @Argument(help: ArgumentHelp("The slack in nanoseconds, 1 or more.", valueName: "ns"))
    var nanoseconds: Int

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange { .timerSlack(nanoseconds: nanoseconds) }
}
