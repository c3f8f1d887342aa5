import AllThreads
import AllThreadsCLISupport
import ArgumentParser

/// `allthreads seccomp FILE`.
struct SeccompCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "seccomp",
        abstract: "Load a seccomp filter on every thread at once (SECCOMP_FILTER_FLAG_TSYNC).",
        discussion: """
            The filter file has one statement per line; '#' starts a comment line:

              default ACTION      exactly once: what calls without a rule do
              SYSCALL ACTION      a rule: calls to SYSCALL (a name, such as ptrace) get ACTION

            ACTION is allow, log, trap, kill-process, kill-thread, or errno VALUE, where VALUE is a \
            number in 1...4094 or a name such as EPERM. At most one rule per system call. \
            Loading needs CAP_SYS_ADMIN or no_new_privs (see 'allthreads prctl no-new-privs').

            Examples:
              printf 'default allow\\nptrace errno EPERM\\n' > deny-ptrace.txt
              allthreads seccomp deny-ptrace.txt -- grep Seccomp /proc/self/status
              allthreads seccomp deny-ptrace.txt --threads 64 --verify --json
            """ + ChangeOptions.commandHelp)

    @Argument(help: "The filter file.")
    var file: String

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange { .seccomp(try SeccompFilter(contentsOf: file)) }
}
