import AllThreads
import AllThreadsCLISupport
import ArgumentParser
import SystemPackage

/// `allthreads seccomp FILE`.
struct SeccompCommand: ChangeCommand {
    static let configuration = CommandConfiguration(
        commandName: "seccomp",
        abstract: "Load a seccomp filter on every thread at once (SECCOMP_FILTER_FLAG_TSYNC).",
        discussion: """
            The filter file has one statement per line; '#' starts a comment line:

              default ACTION      exactly once: what calls without a rule do
              SYSCALL ACTION      a rule: calls to SYSCALL (a name, such as ptrace) get ACTION
              @GROUP ACTION       a rule for every member of a group on this machine

            ACTION is allow, log, trap, kill-process, kill-thread, or errno VALUE, where VALUE is a \
            number in 1...4094 or a name such as EPERM. At most one rule per system call (a group's \
            rule counts for each member). \
            Loading needs CAP_SYS_ADMIN or no_new_privs (see 'allthreads prctl no-new-privs').

            Groups (from the kernel's x86_64 and generic tables), with the members they cover on \
            this machine and those its architecture lacks:
            """ + SeccompFilter.Group.all.map(groupHelp).joined() + """


                Examples:
                  printf 'default allow\\nptrace errno EPERM\\n' > deny-ptrace.txt
                  allthreads seccomp deny-ptrace.txt -- grep Seccomp /proc/self/status
                  allthreads seccomp deny-ptrace.txt --threads 64 --verify --json
                  printf 'default allow\\n@mount errno EPERM\\n@module kill-process\\n' > no-mounts.txt
                  allthreads seccomp no-mounts.txt -- umount /mnt     # EPERM on every thread
                """ + ChangeOptions.commandHelp)

    /// A group's lines in the help: its name and summary, its members here, those this architecture lacks.
    static func groupHelp(_ group: SeccompFilter.Group) -> String {
        let absent = group.absentMembers
        return "\n  @\(group.name): \(group.summary)\n      " + (group.nativeMembers.isEmpty ? "(none here)" : group.nativeMembers.joined(separator: " "))
            + (absent.isEmpty ? "" : "\n      not on this architecture: " + absent.joined(separator: " "))
    }

    @Argument(help: "The filter file.")
    var file: String

    @OptionGroup var options: ChangeOptions

    func change() throws(AllThreadsError) -> ThreadChange { .seccomp(try SeccompFilter(contentsOf: FilePath(file))) }
}
