import AllThreads
import AllThreadsCLISupport
import ArgumentParser
import SystemPackage

/// `allthreads setuid UID`.
struct SetuidCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "setuid",
        abstract: "Set the user id of every thread (setuid).",
        discussion: """
            With CAP_SETUID this sets the real, effective, saved and filesystem uids; without it, \
            only the effective and filesystem ones (see setuid(2)).

            Examples:
              allthreads setuid nobody --verify
              allthreads setuid 1000 --threads 64 --verify --json
              allthreads setuid nobody -- id -u
            """ + ChangeOptions.commandHelp)

    @Argument(help: "A user name or numeric uid.")
    var uid: String

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange { .setuid(try Account.userID(parsing: uid)) }
}

/// `allthreads setgid GID`.
struct SetgidCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "setgid",
        abstract: "Set the group id of every thread (setgid).",
        discussion: """
            Change groups before dropping the user id: without CAP_SETGID only the effective and \
            filesystem gids can change.

            Examples:
              allthreads setgid nogroup --verify
              allthreads setgid 1000 --threads 64 --verify --json
            """ + ChangeOptions.commandHelp)

    @Argument(help: "A group name or numeric gid.")
    var gid: String

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange { .setgid(try Account.groupID(parsing: gid)) }
}

/// The three ids `setresuid` and `setresgid` take, as names or numbers.
struct RealEffectiveSaved: ParsableArguments {
    @Argument(help: "The real id: a name or a number.")
    var real: String
    @Argument(help: "The effective id.")
    var effective: String
    @Argument(help: "The saved id.")
    var saved: String
}

/// `allthreads setresuid R E S`.
struct SetresuidCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "setresuid",
        abstract: "Set the real, effective and saved user ids of every thread (setresuid).",
        discussion: """
            Examples:
              allthreads setresuid 65534 65534 65534 --threads 200 --verify
              allthreads setresuid nobody nobody root --json
            """ + ChangeOptions.commandHelp)

    @OptionGroup var ids: RealEffectiveSaved

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange {
        .setresuid(
            real: try Account.userID(parsing: ids.real), effective: try Account.userID(parsing: ids.effective), saved: try Account.userID(parsing: ids.saved))
    }
}

/// `allthreads setresgid R E S`.
struct SetresgidCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "setresgid",
        abstract: "Set the real, effective and saved group ids of every thread (setresgid).",
        discussion: """
            Examples:
              allthreads setresgid 65534 65534 65534 --verify
              allthreads setresgid nogroup nogroup root --threads 64 --json
            """ + ChangeOptions.commandHelp)

    @OptionGroup var ids: RealEffectiveSaved

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange {
        .setresgid(
            real: try Account.groupID(parsing: ids.real), effective: try Account.groupID(parsing: ids.effective), saved: try Account.groupID(parsing: ids.saved)
        )
    }
}

/// `allthreads setgroups G,G,...`.
struct SetgroupsCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "setgroups",
        abstract: "Set the supplementary groups of every thread (setgroups).",
        discussion: """
            An empty list ('') drops every supplementary group, as setpriv --clear-groups does.

            Examples:
              allthreads setgroups 1000,2000 --verify
              allthreads setgroups nogroup,1000 --threads 64 --json
              allthreads setgroups '' -- id -G
            """ + ChangeOptions.commandHelp)

    @Argument(help: ArgumentHelp("Group names or gids separated by commas; '' for none.", valueName: "groups"))
    var groups: String

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange { .setGroups(try GroupID.list(parsing: groups)) }
}
