import AllThreads
import AllThreadsCLISupport
import ArgumentParser

/// `allthreads syscall NAME|NR [ARG...]`: a raw broadcast.
struct SyscallCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "syscall",
        abstract: "Run any system call on every thread, with up to six integer arguments.",
        discussion: """
            The call is a name (setresuid, SYS_setresuid) or a number; arguments are decimal or \
            0x-hexadecimal integers. Every thread must get the caller's result. --verify compares \
            every thread's credentials with the caller's (and the timer slack, nice value or \
            CPU affinity for prctl(PR_SET_TIMERSLACK), setpriority and sched_setaffinity).

            Refused (exit 2, nothing runs): calls that end the thread or the process (exit, \
            exit_group, execve, execveat: run a program after '--' instead), start a task \
            (clone, clone3, fork, vfork), leave the signal handler another way (rt_sigreturn, \
            sigreturn, restart_syscall) or wait for a signal without a deadline (pause, \
            rt_sigsuspend, sigsuspend); by name or by number.

            Examples:
              allthreads syscall setresuid 65534 65534 65534 --threads 64 --verify
              allthreads syscall prctl 29 100000 --threads 64 --verify --json
            """ + ChangeOptions.commandHelp)

    @Argument(help: "The system call: a name or a number.")
    var call: String

    // Unrecognized words are arguments too, so that negative numbers (-1) are not taken for options.
    @Argument(parsing: .allUnrecognized, help: ArgumentHelp("Up to six integer arguments.", valueName: "arg"))
    var arguments: [String] = []

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange {
        .syscall(try SystemCall(parsing: call), arguments: try SystemCall.arguments(parsing: arguments))
    }
}
