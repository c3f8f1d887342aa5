import CSeccomp

extension SeccompFilter {
    /// A named group of system calls, for one rule that covers them all.
    ///
    /// In the text format a group is written with `@` (`@mount errno EPERM`); in Swift,
    /// ``Rule/init(group:_:)``:
    ///
    /// ```swift
    /// let filter = SeccompFilter(defaultAction: .allow, rules: [
    ///     .init(group: .mount, .errno(.notPermitted)),
    ///     .init(group: .module, .killProcess),
    ///     .init("ptrace", .errno(.notPermitted)),
    /// ])
    /// ```
    ///
    /// The members are taken from the kernel's system call tables
    /// (`arch/x86/entry/syscalls/syscall_64.tbl` for x86_64, `scripts/syscall.tbl`, the
    /// generic table, for aarch64), each with the architectures whose table has it. A member
    /// that the native architecture lacks (`ioperm` on aarch64) or that this libseccomp does
    /// not know (a call newer than it) is not filtered: ``absentMembers`` lists each with the
    /// reason, and ``nativeMembers`` lists what a rule for the group covers here.
    ///
    /// Groups do not overlap, and a group's rule counts as one rule per member: a single
    /// rule for a member of a group that has a rule is a second rule for that call, an error
    /// (as two rules for one call are).
    public struct Group: Sendable, Hashable {
        /// An architecture whose system call table the groups are taken from.
        public enum Architecture: String, Sendable, Hashable, CaseIterable {
            /// 64-bit x86 (`arch/x86/entry/syscalls/syscall_64.tbl`, the `common` and `64` entries).
            case x86_64
            /// 64-bit Arm (the generic table, `scripts/syscall.tbl`, its `common` and `64` entries).
            case aarch64

            /// The architecture this program runs on, `nil` on any other.
            public static var native: Architecture? {
                #if arch(x86_64)
                    return .x86_64
                #elseif arch(arm64)
                    return .aarch64
                #else
                    return nil
                #endif
            }
        }

        /// One system call of a group and the architectures whose table has it.
        public struct Member: Sendable, Hashable {
            /// The system call's name as the kernel's table (and libseccomp) writes it.
            public let name: String
            /// The architectures whose system call table has the call.
            public let architectures: Set<Architecture>

            init(_ name: String, _ architectures: Set<Architecture> = [.x86_64, .aarch64]) {
                self.name = name
                self.architectures = architectures
            }
        }

        /// A member that a rule for the group does not cover on this machine, and why.
        public struct AbsentMember: Sendable, Hashable {
            /// The member's name.
            public let name: String
            /// Why it is not filtered here.
            public let reason: Reason

            /// Why a member is not filtered on this machine.
            public enum Reason: Sendable, Hashable {
                /// The native architecture's system call table does not have the call.
                case notOnThisArchitecture
                /// The table has it, but this libseccomp does not know the name (it is older
                /// than the call).
                case unknownToLibseccomp
            }
        }

        /// The group's name, without the `@` of the text format, such as `"mount"`.
        public let name: String
        /// What the group covers.
        public let summary: String
        /// Every member, on every architecture.
        public let members: [Member]

        /// The members whose name the native architecture's table has.
        public func members(on architecture: Architecture) -> [String] {
            members.filter { $0.architectures.contains(architecture) }.map(\.name)
        }

        /// The members a rule for the group covers on this machine: in the native
        /// architecture's table and known to libseccomp.
        public var nativeMembers: [String] {
            members.compactMap { member in
                member.architectures.contains(where: { $0 == Architecture.native })
                    && SeccompFilter.systemCallNumber(member.name) != nil ? member.name : nil
            }
        }

        /// The members a rule for the group does not cover on this machine, each with the reason.
        public var absentMembers: [AbsentMember] {
            members.compactMap { member in
                guard let native = Architecture.native, member.architectures.contains(native) else {
                    return AbsentMember(name: member.name, reason: .notOnThisArchitecture)
                }
                return SeccompFilter.systemCallNumber(member.name) == nil
                    ? AbsentMember(name: member.name, reason: .unknownToLibseccomp) : nil
            }
        }

        /// The group called `name` (without `@`), or `nil`.
        public static func named(_ name: some StringProtocol) -> Group? {
            all.first { $0.name == name }
        }

        /// Every group, by name.
        public static let all: [Group] = [
            .clock, .cpuEmulation, .debug, .keyring, .module, .mount, .obsolete, .privileged, .rawIO, .reboot, .swap,
        ]
    }
}

// MARK: - The groups

extension SeccompFilter.Group {
    /// `@clock`: calls that set the system's clocks (each needs `CAP_SYS_TIME` for that).
    ///
    /// - `adjtimex`, `clock_adjtime`: tune or step the clock (NTP's interface);
    /// - `clock_settime`, `settimeofday`: set a clock.
    ///
    /// Reading a clock (`clock_gettime`, `gettimeofday`) is not in it; `adjtimex` and
    /// `clock_adjtime` called without changes only read the clock's state, and a rule
    /// stops those reads too.
    public static let clock = Self(
        name: "clock", summary: "set the system clocks",
        members: [.init("adjtimex"), .init("clock_adjtime"), .init("clock_settime"), .init("settimeofday")])

    /// `@cpu-emulation`: calls that set up emulation of other processor modes.
    ///
    /// - `modify_ldt` (x86_64 only): the local descriptor table, for 16-bit and segmented code.
    ///
    /// (`vm86` and `vm86old` are in the 32-bit x86 table only.) Empty on aarch64.
    public static let cpuEmulation = Self(
        name: "cpu-emulation", summary: "emulate other processor modes",
        members: [.init("modify_ldt", [.x86_64])])

    /// `@debug`: calls that trace, read or write another process, or observe the system's
    /// performance counters.
    ///
    /// - `ptrace`: trace and control another thread;
    /// - `process_vm_readv`, `process_vm_writev`: read and write another process's memory;
    /// - `perf_event_open`: performance counters and tracepoints.
    ///
    /// `kcmp` and `pidfd_getfd` are not in it: they compare and copy descriptors rather than
    /// trace, and this library's own proof of a privilege drop uses them.
    public static let debug = Self(
        name: "debug", summary: "trace, read or write other processes; performance counters",
        members: [.init("ptrace"), .init("process_vm_readv"), .init("process_vm_writev"), .init("perf_event_open")])

    /// `@keyring`: the kernel's key management.
    ///
    /// - `add_key`, `request_key`: create or find a key;
    /// - `keyctl`: every other key operation.
    public static let keyring = Self(
        name: "keyring", summary: "the kernel's key management",
        members: [.init("add_key"), .init("request_key"), .init("keyctl")])

    /// `@module`: calls that load and unload kernel modules (`CAP_SYS_MODULE`).
    ///
    /// - `init_module`, `finit_module`: load a module from memory or from a file;
    /// - `delete_module`: unload one.
    public static let module = Self(
        name: "module", summary: "load and unload kernel modules",
        members: [.init("init_module"), .init("finit_module"), .init("delete_module")])

    /// `@mount`: calls that change the mount table or the root directory.
    ///
    /// - `mount`, `umount2`: the classic interface (x86_64 and aarch64 have no `umount`);
    /// - `pivot_root`, `chroot`: change the root;
    /// - `fsopen`, `fsconfig`, `fsmount`, `fspick`, `move_mount`, `open_tree`,
    ///   `mount_setattr`, `open_tree_attr`: the mount API of Linux 5.2 and later
    ///   (`open_tree_attr`, Linux 6.15, is newer than libseccomp 2.5).
    ///
    /// `statmount` and `listmount` only read the mount table and are not in it.
    public static let mount = Self(
        name: "mount", summary: "change the mount table or the root directory",
        members: [
            .init("mount"), .init("umount2"), .init("pivot_root"), .init("chroot"), .init("fsopen"), .init("fsconfig"),
            .init("fsmount"), .init("fspick"), .init("move_mount"), .init("open_tree"), .init("mount_setattr"),
            .init("open_tree_attr"),
        ])

    /// `@obsolete`: numbers the tables keep with no implementation behind them (no entry
    /// point or `sys_ni_syscall`): the kernel answers `ENOSYS`. A rule gives them another
    /// answer, such as killing a program that probes for them.
    ///
    /// - x86_64: `_sysctl`, `afs_syscall`, `create_module`, `epoll_ctl_old`,
    ///   `epoll_wait_old`, `get_kernel_syms`, `get_thread_area`, `getpmsg`, `lookup_dcookie`,
    ///   `nfsservctl`, `putpmsg`, `query_module`, `set_thread_area`, `tuxcall`, `uselib`,
    ///   `vserver`;
    /// - aarch64: `lookup_dcookie`, `nfsservctl`.
    public static let obsolete = Self(
        name: "obsolete", summary: "table entries without an implementation (ENOSYS)",
        members: [
            .init("_sysctl", [.x86_64]), .init("afs_syscall", [.x86_64]), .init("create_module", [.x86_64]),
            .init("epoll_ctl_old", [.x86_64]), .init("epoll_wait_old", [.x86_64]), .init("get_kernel_syms", [.x86_64]),
            .init("get_thread_area", [.x86_64]), .init("getpmsg", [.x86_64]), .init("lookup_dcookie"), .init("nfsservctl"),
            .init("putpmsg", [.x86_64]), .init("query_module", [.x86_64]), .init("set_thread_area", [.x86_64]),
            .init("tuxcall", [.x86_64]), .init("uselib", [.x86_64]), .init("vserver", [.x86_64]),
        ])

    /// `@privileged`: administration calls outside the other groups, each of which needs a
    /// capability to change anything.
    ///
    /// - `acct`: process accounting (`CAP_SYS_PACCT`);
    /// - `sethostname`, `setdomainname`: the UTS names (`CAP_SYS_ADMIN`);
    /// - `vhangup`: hang up the terminal (`CAP_SYS_TTY_CONFIG`);
    /// - `open_by_handle_at`: open a file by handle, bypassing path checks (`CAP_DAC_READ_SEARCH`);
    /// - `quotactl`, `quotactl_fd`: disk quotas (`CAP_SYS_ADMIN` to change them; reading
    ///   one's own is allowed without it).
    ///
    /// Credentials (`setuid` and its kind) are not in it: a privilege drop needs them.
    public static let privileged = Self(
        name: "privileged", summary: "administration calls outside the other groups",
        members: [
            .init("acct"), .init("sethostname"), .init("setdomainname"), .init("vhangup"), .init("open_by_handle_at"),
            .init("quotactl"), .init("quotactl_fd"),
        ])

    /// `@raw-io`: direct access to I/O ports.
    ///
    /// - `ioperm`, `iopl` (x86_64 only): grant port access (`CAP_SYS_RAWIO`).
    ///
    /// Empty on aarch64, which has no I/O ports.
    public static let rawIO = Self(
        name: "raw-io", summary: "direct access to I/O ports",
        members: [.init("ioperm", [.x86_64]), .init("iopl", [.x86_64])])

    /// `@reboot`: calls that restart the machine or load a kernel to start (`CAP_SYS_BOOT`).
    ///
    /// - `reboot`; `kexec_load`, `kexec_file_load`: load the next kernel.
    public static let reboot = Self(
        name: "reboot", summary: "restart the machine or load a new kernel",
        members: [.init("reboot"), .init("kexec_load"), .init("kexec_file_load")])

    /// `@swap`: calls that turn swap space on and off (`CAP_SYS_ADMIN`).
    ///
    /// - `swapon`, `swapoff`.
    public static let swap = Self(
        name: "swap", summary: "turn swap space on and off",
        members: [.init("swapon"), .init("swapoff")])
}

extension SeccompFilter.Rule {
    /// A rule for every member of `group` on this machine
    /// (``SeccompFilter/Group/nativeMembers``): calls to any of them get `action`.
    ///
    /// Its ``syscall`` is the group's name with `@`, as the text format writes it.
    public init(group: SeccompFilter.Group, _ action: SeccompFilter.Action) {
        self.init("@" + group.name, action)
    }

    /// The group the rule is for, `nil` for a rule for one system call (or an unknown group).
    public var group: SeccompFilter.Group? {
        guard syscall.hasPrefix("@") else { return nil }
        return SeccompFilter.Group.named(syscall.dropFirst())
    }
}
