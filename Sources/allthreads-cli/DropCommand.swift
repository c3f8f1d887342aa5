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

    @OptionGroup var credentials: CredentialOptions

    @Flag(help: "Set no_new_privs.")
    var noNewPrivs = false

    @Option(
        help: ArgumentHelp(
            "A seccomp filter file to load last (format: see 'allthreads seccomp --help'); needs --no-new-privs or a kept cap_sys_admin.", valueName: "file"))
    var seccomp: String?

    @Flag(help: "Accept io_uring rings that exist before the drop (they may carry personalities registered as root); they are named in the output.")
    var acceptIoUring = false

    @OptionGroup var options: ChangeOptions

    func validate() throws {
        guard credentials.user != nil else { throw ValidationError("Missing expected argument '--user <user>'") }
    }

    func change() throws(AllThreadsError) -> ThreadChange {
        let seccomp = try seccomp.map { path throws(AllThreadsError) in try SeccompFilter(contentsOf: FilePath(path)) }
        guard let drop = try credentials.drop(noNewPrivileges: noNewPrivs, seccomp: seccomp, ioUringPolicy: acceptIoUring ? .accept : .refuse) else {
            throw .invalidArgument("--user is required")
        }
        return .privilegeDrop(drop)
    }
}
