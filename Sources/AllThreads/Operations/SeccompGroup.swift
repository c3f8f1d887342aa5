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
    /// The members and their numbers are taken from the kernel's system call tables (Linux
    /// 6.18): `arch/x86/entry/syscalls/syscall_64.tbl` for x86_64, `scripts/syscall.tbl`, the
    /// generic table, for aarch64. A rule for a group filters each member by its number in the
    /// native architecture's table, so a call newer than libseccomp (`open_tree_attr`) is
    /// filtered too. A member that the native table lacks (`ioperm` on aarch64) is not
    /// filtered: ``absentMembers`` lists those, and ``nativeMembers`` what a rule covers here.
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

        /// One system call of a group, with its number in each architecture's table.
        public struct Member: Sendable, Hashable {
            /// The system call's name as the kernel's tables write it.
            public let name: String
            /// The call's number in the x86_64 table, `nil` when that table lacks it.
            let x86_64: Int?
            /// The call's number in the generic table (aarch64), `nil` when that table lacks it.
            let aarch64: Int?

            init(_ name: String, x86_64: Int?, aarch64: Int? = nil) {
                self.name = name
                self.x86_64 = x86_64
                self.aarch64 = aarch64
            }

            /// The call's number in `architecture`'s table, `nil` when that table lacks it.
            public func number(on architecture: Architecture) -> Int? {
                switch architecture {
                case .x86_64: x86_64
                case .aarch64: aarch64
                }
            }
        }

        /// The group's name, without the `@` of the text format, such as `"mount"`.
        public let name: String
        /// What the group covers.
        public let summary: String
        /// Every member, on every architecture.
        public let members: [Member]

        /// The members that `architecture`'s table has.
        public func members(on architecture: Architecture) -> [String] {
            members.filter { $0.number(on: architecture) != nil }.map(\.name)
        }

        /// The members a rule for the group covers here: those in the native architecture's table.
        public var nativeMembers: [String] { nativeCalls.map(\.name) }

        /// The members a rule for the group does not cover here: the native architecture's
        /// table lacks them (every member, on an architecture other than x86_64 and aarch64).
        public var absentMembers: [String] {
            let native = Set(nativeMembers)
            return members.map(\.name).filter { !native.contains($0) }
        }

        /// The native members with their numbers here.
        var nativeCalls: [(name: String, number: CInt)] {
            guard let native = Architecture.native else { return [] }
            return members.compactMap { member in member.number(on: native).map { (member.name, CInt($0)) } }
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
        members: [
            .init("adjtimex", x86_64: 159, aarch64: 171),
            .init("clock_adjtime", x86_64: 305, aarch64: 266),
            .init("clock_settime", x86_64: 227, aarch64: 112),
            .init("settimeofday", x86_64: 164, aarch64: 170),
        ])

    /// `@cpu-emulation`: calls that set up emulation of other processor modes.
    ///
    /// - `modify_ldt` (x86_64 only): the local descriptor table, for 16-bit and segmented code.
    ///
    /// (`vm86` and `vm86old` are in the 32-bit x86 table only.) Empty on aarch64.
    public static let cpuEmulation = Self(
        name: "cpu-emulation", summary: "emulate other processor modes",
        members: [
            .init("modify_ldt", x86_64: 154)
        ])

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
        members: [
            .init("ptrace", x86_64: 101, aarch64: 117),
            .init("process_vm_readv", x86_64: 310, aarch64: 270),
            .init("process_vm_writev", x86_64: 311, aarch64: 271),
            .init("perf_event_open", x86_64: 298, aarch64: 241),
        ])

    /// `@keyring`: the kernel's key management.
    ///
    /// - `add_key`, `request_key`: create or find a key;
    /// - `keyctl`: every other key operation.
    public static let keyring = Self(
        name: "keyring", summary: "the kernel's key management",
        members: [
            .init("add_key", x86_64: 248, aarch64: 217),
            .init("request_key", x86_64: 249, aarch64: 218),
            .init("keyctl", x86_64: 250, aarch64: 219),
        ])

    /// `@module`: calls that load and unload kernel modules (`CAP_SYS_MODULE`).
    ///
    /// - `init_module`, `finit_module`: load a module from memory or from a file;
    /// - `delete_module`: unload one.
    public static let module = Self(
        name: "module", summary: "load and unload kernel modules",
        members: [
            .init("init_module", x86_64: 175, aarch64: 105),
            .init("finit_module", x86_64: 313, aarch64: 273),
            .init("delete_module", x86_64: 176, aarch64: 106),
        ])

    /// `@mount`: calls that change the mount table or the root directory.
    ///
    /// - `mount`, `umount2`: the classic interface (x86_64 and aarch64 have no `umount`);
    /// - `pivot_root`, `chroot`: change the root;
    /// - `fsopen`, `fsconfig`, `fsmount`, `fspick`, `move_mount`, `open_tree`,
    ///   `mount_setattr`, `open_tree_attr`: the mount API of Linux 5.2 and later
    ///   (`open_tree_attr`, Linux 6.15, is newer than libseccomp 2.5, and filtered by its number).
    ///
    /// `statmount` and `listmount` only read the mount table and are not in it.
    public static let mount = Self(
        name: "mount", summary: "change the mount table or the root directory",
        members: [
            .init("mount", x86_64: 165, aarch64: 40),
            .init("umount2", x86_64: 166, aarch64: 39),
            .init("pivot_root", x86_64: 155, aarch64: 41),
            .init("chroot", x86_64: 161, aarch64: 51),
            .init("fsopen", x86_64: 430, aarch64: 430),
            .init("fsconfig", x86_64: 431, aarch64: 431),
            .init("fsmount", x86_64: 432, aarch64: 432),
            .init("fspick", x86_64: 433, aarch64: 433),
            .init("move_mount", x86_64: 429, aarch64: 429),
            .init("open_tree", x86_64: 428, aarch64: 428),
            .init("mount_setattr", x86_64: 442, aarch64: 442),
            .init("open_tree_attr", x86_64: 467, aarch64: 467),
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
            .init("_sysctl", x86_64: 156),
            .init("afs_syscall", x86_64: 183),
            .init("create_module", x86_64: 174),
            .init("epoll_ctl_old", x86_64: 214),
            .init("epoll_wait_old", x86_64: 215),
            .init("get_kernel_syms", x86_64: 177),
            .init("get_thread_area", x86_64: 211),
            .init("getpmsg", x86_64: 181),
            .init("lookup_dcookie", x86_64: 212, aarch64: 18),
            .init("nfsservctl", x86_64: 180, aarch64: 42),
            .init("putpmsg", x86_64: 182),
            .init("query_module", x86_64: 178),
            .init("set_thread_area", x86_64: 205),
            .init("tuxcall", x86_64: 184),
            .init("uselib", x86_64: 134),
            .init("vserver", x86_64: 236),
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
            .init("acct", x86_64: 163, aarch64: 89),
            .init("sethostname", x86_64: 170, aarch64: 161),
            .init("setdomainname", x86_64: 171, aarch64: 162),
            .init("vhangup", x86_64: 153, aarch64: 58),
            .init("open_by_handle_at", x86_64: 304, aarch64: 265),
            .init("quotactl", x86_64: 179, aarch64: 60),
            .init("quotactl_fd", x86_64: 443, aarch64: 443),
        ])

    /// `@raw-io`: direct access to I/O ports.
    ///
    /// - `ioperm`, `iopl` (x86_64 only): grant port access (`CAP_SYS_RAWIO`).
    ///
    /// Empty on aarch64, which has no I/O ports.
    public static let rawIO = Self(
        name: "raw-io", summary: "direct access to I/O ports",
        members: [
            .init("ioperm", x86_64: 173),
            .init("iopl", x86_64: 172),
        ])

    /// `@reboot`: calls that restart the machine or load a kernel to start (`CAP_SYS_BOOT`).
    ///
    /// - `reboot`; `kexec_load`, `kexec_file_load`: load the next kernel.
    public static let reboot = Self(
        name: "reboot", summary: "restart the machine or load a new kernel",
        members: [
            .init("reboot", x86_64: 169, aarch64: 142),
            .init("kexec_load", x86_64: 246, aarch64: 104),
            .init("kexec_file_load", x86_64: 320, aarch64: 294),
        ])

    /// `@swap`: calls that turn swap space on and off (`CAP_SYS_ADMIN`).
    ///
    /// - `swapon`, `swapoff`.
    public static let swap = Self(
        name: "swap", summary: "turn swap space on and off",
        members: [
            .init("swapon", x86_64: 167, aarch64: 224),
            .init("swapoff", x86_64: 168, aarch64: 225),
        ])
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
