import AllThreads
import AllThreadsCLISupport
import ArgumentParser

/// The options every change command takes.
struct ChangeOptions: ParsableArguments {
    /// The most threads `--threads` starts.
    static let maximumThreads = 10_000

    // `.unconditional`: `--threads -3` reads -3 (and is refused), not a missing value.
    @Option(
        parsing: .unconditional, help: "Start this many extra threads of mixed kinds (pthreads started from C and from Swift, Dispatch, async tasks) first.")
    var threads: Int = 0

    @Flag(help: "Read every thread back from /proc; exit 1 unless each agrees with the change.")
    var verify = false

    @Flag(help: "Print the result as one line of JSON: the change, its broadcasts and every thread from /proc.")
    var json = false

    @Option(parsing: .unconditional, help: ArgumentHelp("Deadline of each broadcast.", valueName: "seconds"))
    var timeout: Double = 5

    @Flag(
        help:
            "Run the command after '--' on this terminal, not on its own pseudo-terminal (it can then type into this terminal with TIOCSTI, as sudo's !use_pty)."
    )
    var noPty = false

    /// The words after `--`: a command to run in place of allthreads once every thread has
    /// changed; `nil` without `--`. ``AllThreadsCommand/main()`` splits them off before parsing,
    /// because the parser takes no positional argument after a list such as `syscall`'s.
    var command: [String]?

    /// How the help describes `-- COMMAND`, added to each change command's discussion.
    static let commandHelp = """


        After the options, '-- COMMAND [ARG...]' runs COMMAND in place of allthreads once every \
        thread has changed (execv; it is looked up in PATH before anything changes), as setpriv \
        and gosu do; then allthreads prints nothing but --json output, and the exit status is \
        COMMAND's.

        When allthreads has a controlling terminal or a standard descriptor is a terminal, \
        COMMAND runs in a new session, and on its own pseudo-terminal (as sudo's use_pty): \
        allthreads forks before anything changes, the child makes the change and runs COMMAND, \
        and the parent, unchanged, relays between the terminal and the pseudo-terminal, so that \
        COMMAND cannot type into the terminal (TIOCSTI) or keep it. --no-pty turns this off.
        """

    private enum CodingKeys: String, CodingKey {
        case threads, verify, json, timeout, noPty
    }

    func validate() throws {
        guard (0...Self.maximumThreads).contains(threads) else {
            throw ValidationError("--threads \(threads): give a number of threads from 0 to \(Self.maximumThreads)")
        }
    }
}
