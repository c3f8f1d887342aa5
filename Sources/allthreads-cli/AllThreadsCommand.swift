import AllThreads
import AllThreadsCLISupport
import ArgumentParser
import Glibc

/// `allthreads`: apply a per-thread change to every thread of a process, and prove it.
@main
struct AllThreadsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "allthreads",
        abstract: "Change every thread of this process with one system call, prove it through /proc, then run a command.",
        discussion: """
            On Linux, credentials, capabilities, no_new_privs, the bounding set and the timer slack \
            belong to each thread. allthreads changes all of its threads at once, like setpriv and \
            gosu for multi-threaded processes, and 'inspect' finds threads that differ in any process.

            Every change command takes --threads N (start N extra threads of mixed kinds first), \
            --verify (read every thread back from /proc; fail unless all agree), --json (one line \
            of JSON), --timeout SECONDS, and -- COMMAND [ARG...] (run a command after the change).

            Exit status: 0 success; 1 the change or the verification failed, or 'inspect' found \
            threads that differ; 2 usage error, or started set-user-ID, set-group-ID or with file \
            capabilities, which it always refuses (nothing changed; use sudo instead); 3 'inspect' \
            could not read a process or thread and found none that differ; 126/127 the \
            command after '--' could not be run after the change; otherwise the command's own status.

            Examples:
              allthreads drop --user nobody --no-new-privs -- id -u
              allthreads setresuid 65534 65534 65534 --threads 200 --verify
              allthreads inspect --pid 1234
              allthreads --generate-completion-script bash > allthreads.bash
            """,
        // The newest release of CHANGELOG.md (VersionTests checks they agree).
        version: "0.1.0",
        subcommands: [
            SetuidCommand.self, SetgidCommand.self, SetresuidCommand.self, SetresgidCommand.self, SetgroupsCommand.self,
            PrctlCommand.self, CapsCommand.self, SeccompCommand.self, DropCommand.self, SyscallCommand.self,
            SandboxCommand.self, InspectCommand.self,
        ]
    )

    /// Refuses to run when the exec gave this process privileges (``SecureExecution``), then
    /// splits off the command after `--`, parses the rest, runs, and exits with the status of
    /// ``CommandFailure`` (usage errors exit 2, not the parser's 64).
    static func main() {
        // First of all, before any argument is read or any thread started, and for every
        // subcommand alike: no option or environment variable can switch this off, because
        // whoever runs a set-ID or file-capability install chooses both.
        if let refusal = SecureExecution.current().refusal {
            let failure = CommandFailure.refused(refusal)
            failure.report()
            Glibc.exit(failure.status)
        }
        // Before the parse and the change touch their pages: the peak memory of a start is
        // smaller by the table's size (docs/benchmark.md, "Command start-up").
        RelocationTable.release()
        var arguments = Array(CommandLine.arguments.dropFirst())
        var trailing: [String]?
        if let terminator = arguments.firstIndex(of: "--") {
            trailing = Array(arguments[(terminator + 1)...])
            arguments.removeSubrange(terminator...)
        }
        do {
            var command = try parseAsRoot(arguments)
            if let trailing {
                guard var change = command as? any ChangeCommand else {
                    throw CommandFailure.usage("only the change commands run a command after '--'")
                }
                change.options.command = trailing
                command = change
            }
            try command.run()
            Glibc.exit(0)
        } catch let failure as CommandFailure {
            failure.report()
            Glibc.exit(failure.status)
        } catch {
            // Help, completion scripts and version requests exit 0 with their text on stdout.
            guard exitCode(for: error) != .success else {
                print(fullMessage(for: error))
                Glibc.exit(0)
            }
            let failure = CommandFailure.usage(message(for: error))
            failure.report()
            Glibc.exit(failure.status)
        }
    }
}
