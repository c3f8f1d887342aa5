import AllThreads
import AllThreadsCLISupport
import ArgumentParser
import SystemPackage

/// `allthreads drop --user U ...`: a whole privilege drop, proven.
struct DropCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "drop",
        abstract: "Drop root on every thread: groups, gid, bounding set, uid, kept capabilities, no_new_privs, seccomp.",
        discussion: """
            Supplementary groups: none unless asked for (as setpriv): --groups LIST sets them, \
            --init-groups takes the user's groups from the group database (as gosu and su do). \
            --clear-groups and --groups '' say "none" explicitly. The gid defaults to the user's \
            primary group. The bounding set is reduced to the kept capabilities unless \
            --keep-bounding-set. The whole change is one broadcast, and in it setuid(0) and \
            setgid(0) must fail on every thread; afterwards every thread is read back from /proc.

            io_uring: a ring created before the drop may carry personalities registered as root, \
            which /proc does not show, so the drop refuses while the process holds any ring (exit \
            1, nothing changed). --accept-io-uring accepts the rings and names them in the output. \
            A thread that has used io_uring, any SQPOLL thread, an io-wq worker still holding other \
            credentials, and a process traced since before the drop, always fail it.

            Examples:
              allthreads drop --user nobody --no-new-privs -- id -u
              allthreads drop --user www-data --init-groups \\
                --keep-caps cap_net_bind_service -- nginx
              allthreads drop --user 1000 --groups 1000,2000 --no-new-privs \\
                --seccomp filter.txt --threads 64 --verify --json
            """ + ChangeOptions.commandHelp)

    @Option(help: "The user to become: a name or a uid with an entry in the password database.")
    var user: String

    @Option(help: "The group to become (default: the user's primary group).")
    var group: String?

    @Option(help: ArgumentHelp("Supplementary groups, names or gids separated by commas; '' for none.", valueName: "groups"))
    var groups: String?

    @Flag(help: "Hold no supplementary groups (the default).")
    var clearGroups = false

    @Flag(help: "Take the supplementary groups the user has in the group database.")
    var initGroups = false

    @Option(help: ArgumentHelp("Capabilities to keep (permitted, effective, inheritable and ambient).", valueName: "capabilities"))
    var keepCaps: String?

    @Option(
        help: ArgumentHelp(
            "Root-equivalent capabilities to keep as well (cap_chown, cap_dac_override, cap_fowner, cap_sys_admin, ...; see docs/security.md): --keep-caps refuses them.",
            valueName: "capabilities"))
    var keepRootEquivalentCaps: String?

    @Flag(help: "Leave the bounding set as it is (as setpriv and gosu do); by default it is reduced to the kept capabilities.")
    var keepBoundingSet = false

    @Flag(help: "Set no_new_privs.")
    var noNewPrivs = false

    @Option(help: ArgumentHelp("A seccomp filter file to load last (format: see 'allthreads seccomp --help'); needs --no-new-privs or a kept cap_sys_admin.", valueName: "file"))
    var seccomp: String?

    @Flag(help: "Accept io_uring rings that exist before the drop (they may carry personalities registered as root); they are named in the output.")
    var acceptIoUring = false

    @OptionGroup var options: ChangeOptions

    func validate() throws {
        let choices = [groups != nil, clearGroups, initGroups].filter { $0 }.count
        guard choices <= 1 else { throw ValidationError("give only one of --groups, --clear-groups and --init-groups") }
    }

    func change() throws(AllThreadsError) -> ThreadChange {
        let supplementary = initGroups ? nil : try GroupID.list(parsing: groups ?? "")
        let disguised = try keepRootEquivalentCaps.map { text throws(AllThreadsError) in try CapabilitySet(parsing: text) } ?? []
        return .privilegeDrop(
            try PrivilegeDrop(
                user: try Account.lookUp(user), group: try group.map { text throws(AllThreadsError) in try Account.groupID(parsing: text) },
                groups: supplementary,
                keepCapabilities: (try keepCaps.map { text throws(AllThreadsError) in try CapabilitySet(parsing: text) } ?? []).union(disguised),
                allowingRootEquivalentCapabilities: disguised,
                dropBoundingSet: !keepBoundingSet, noNewPrivileges: noNewPrivs,
                seccomp: try seccomp.map { path throws(AllThreadsError) in try SeccompFilter(contentsOf: FilePath(path)) },
                ioUringPolicy: acceptIoUring ? .accept : .refuse))
    }
}
