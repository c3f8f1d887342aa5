/// A Linux capability, such as `CAP_SETUID` (7).
///
/// The numbering is the kernel's (`include/uapi/linux/capability.h`); bit `n` of a
/// capability mask stands for the capability whose ``rawValue`` is `n`.
public struct Capability: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The kernel's number for the capability, `0...63`.
    public let rawValue: Int32

    /// The capability numbered `rawValue`; `nil` when it is negative or above 63
    /// (the kernel's masks are 64 bits).
    ///
    /// This does not check the running kernel: see ``lastSupported``.
    ///
    /// - Parameters:
    ///   - rawValue: the raw value.
    public init?(rawValue: Int32) {
        guard (0...Self.highestBit).contains(rawValue) else { return nil }
        self.rawValue = rawValue
    }

    /// A capability known to be in range.
    private init(_ rawValue: Int32) { self.rawValue = rawValue }

    /// Parses a capability name or number, as a person types it.
    ///
    /// Names are matched case-insensitively, with or without the `cap_` prefix:
    /// `"cap_setuid"`, `"SETUID"` and `"Cap_SetUID"` are all ``setuid``. A decimal
    /// number (`"7"`, or `"cap_7"` as ``name`` writes capabilities this build has no
    /// name for) is taken as the capability's number.
    ///
    /// - Parameters:
    ///   - text: a name (`cap_chown`, `chown`, any case) or a number.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` with a message that quotes the
    ///   text when it is empty, holds whitespace or control characters, names no
    ///   capability, or names one the running kernel does not support (above
    ///   ``lastSupported``).
    public init(parsing text: String) throws(AllThreadsError) {
        self = try Self.parse(text, lastSupported: Self.lastSupported)
    }

    /// libcap's lowercase name, such as `"cap_setuid"`; `"cap_<number>"` for a
    /// capability this build has no name for, such as `"cap_41"`.
    public var name: String {
        let index = Int(rawValue)
        return index < Self.names.count ? "cap_" + Self.names[index] : "cap_\(rawValue)"
    }

    /// The capability's ``name``.
    public var description: String { name }

    /// Orders capabilities by number.
    ///
    /// - Parameters:
    ///   - lhs: a capability.
    ///   - rhs: another capability.
    public static func < (lhs: Capability, rhs: Capability) -> Bool { lhs.rawValue < rhs.rawValue }

    /// The highest capability the running kernel supports, from
    /// `/proc/sys/kernel/cap_last_cap`; the highest capability this build names
    /// when that file cannot be read or holds something unexpected.
    ///
    /// Read once, on first use.
    public static var lastSupported: Capability { runningKernelLast }

    /// Every capability the running kernel supports, `0...lastSupported`, in order.
    public static var allSupported: [Capability] { runningKernelAll }

    // MARK: Named capabilities

    /// `CAP_CHOWN` (0): change file owners and groups.
    public static let chown = Capability(0)
    /// `CAP_DAC_OVERRIDE` (1): bypass file read, write and execute permission checks.
    public static let dacOverride = Capability(1)
    /// `CAP_DAC_READ_SEARCH` (2): bypass file read and directory read and search checks.
    public static let dacReadSearch = Capability(2)
    /// `CAP_FOWNER` (3): bypass checks that require the file's owner.
    public static let fowner = Capability(3)
    /// `CAP_FSETID` (4): keep set-user-ID and set-group-ID bits when a file is modified.
    public static let fsetid = Capability(4)
    /// `CAP_KILL` (5): bypass permission checks for sending signals.
    public static let kill = Capability(5)
    /// `CAP_SETGID` (6): change group ids and supplementary groups.
    public static let setgid = Capability(6)
    /// `CAP_SETUID` (7): change user ids.
    public static let setuid = Capability(7)
    /// `CAP_SETPCAP` (8): change the bounding set and securebits, grant inheritable capabilities.
    public static let setpcap = Capability(8)
    /// `CAP_LINUX_IMMUTABLE` (9): set the immutable and append-only file attributes.
    public static let linuxImmutable = Capability(9)
    /// `CAP_NET_BIND_SERVICE` (10): bind ports below 1024.
    public static let netBindService = Capability(10)
    /// `CAP_NET_BROADCAST` (11): broadcast and listen to multicast (unused).
    public static let netBroadcast = Capability(11)
    /// `CAP_NET_ADMIN` (12): network administration.
    public static let netAdmin = Capability(12)
    /// `CAP_NET_RAW` (13): use raw and packet sockets.
    public static let netRaw = Capability(13)
    /// `CAP_IPC_LOCK` (14): lock memory.
    public static let ipcLock = Capability(14)
    /// `CAP_IPC_OWNER` (15): bypass System V IPC permission checks.
    public static let ipcOwner = Capability(15)
    /// `CAP_SYS_MODULE` (16): load and unload kernel modules.
    public static let sysModule = Capability(16)
    /// `CAP_SYS_RAWIO` (17): raw I/O port and device access.
    public static let sysRawio = Capability(17)
    /// `CAP_SYS_CHROOT` (18): use `chroot` and change mount namespaces with `setns`.
    public static let sysChroot = Capability(18)
    /// `CAP_SYS_PTRACE` (19): trace and inspect any process.
    public static let sysPtrace = Capability(19)
    /// `CAP_SYS_PACCT` (20): use `acct`.
    public static let sysPacct = Capability(20)
    /// `CAP_SYS_ADMIN` (21): a wide range of system administration.
    public static let sysAdmin = Capability(21)
    /// `CAP_SYS_BOOT` (22): use `reboot` and `kexec_load`.
    public static let sysBoot = Capability(22)
    /// `CAP_SYS_NICE` (23): raise priorities and set other processes' scheduling.
    public static let sysNice = Capability(23)
    /// `CAP_SYS_RESOURCE` (24): override resource limits.
    public static let sysResource = Capability(24)
    /// `CAP_SYS_TIME` (25): set the system clock.
    public static let sysTime = Capability(25)
    /// `CAP_SYS_TTY_CONFIG` (26): use `vhangup` and privileged terminal operations.
    public static let sysTtyConfig = Capability(26)
    /// `CAP_MKNOD` (27): create special files with `mknod`.
    public static let mknod = Capability(27)
    /// `CAP_LEASE` (28): take leases on files the caller does not own.
    public static let lease = Capability(28)
    /// `CAP_AUDIT_WRITE` (29): write to the kernel audit log.
    public static let auditWrite = Capability(29)
    /// `CAP_AUDIT_CONTROL` (30): configure kernel auditing.
    public static let auditControl = Capability(30)
    /// `CAP_SETFCAP` (31): set file capabilities.
    public static let setfcap = Capability(31)
    /// `CAP_MAC_OVERRIDE` (32): override mandatory access control.
    public static let macOverride = Capability(32)
    /// `CAP_MAC_ADMIN` (33): configure mandatory access control.
    public static let macAdmin = Capability(33)
    /// `CAP_SYSLOG` (34): privileged `syslog` operations.
    public static let syslog = Capability(34)
    /// `CAP_WAKE_ALARM` (35): set timers that wake the system.
    public static let wakeAlarm = Capability(35)
    /// `CAP_BLOCK_SUSPEND` (36): block system suspend.
    public static let blockSuspend = Capability(36)
    /// `CAP_AUDIT_READ` (37): read the audit log through multicast netlink.
    public static let auditRead = Capability(37)
    /// `CAP_PERFMON` (38): performance monitoring (Linux 5.8).
    public static let perfmon = Capability(38)
    /// `CAP_BPF` (39): privileged BPF operations (Linux 5.8).
    public static let bpf = Capability(39)
    /// `CAP_CHECKPOINT_RESTORE` (40): checkpoint and restore operations (Linux 5.9).
    public static let checkpointRestore = Capability(40)
}

// MARK: - The running kernel

extension Capability {
    /// The highest bit of the kernel's 64-bit capability masks.
    static let highestBit: Int32 = 63

    /// libcap's names without `cap_`, indexed by number.
    static let names = [
        "chown", "dac_override", "dac_read_search", "fowner", "fsetid", "kill", "setgid", "setuid", "setpcap",
        "linux_immutable", "net_bind_service", "net_broadcast", "net_admin", "net_raw", "ipc_lock", "ipc_owner",
        "sys_module", "sys_rawio", "sys_chroot", "sys_ptrace", "sys_pacct", "sys_admin", "sys_boot", "sys_nice",
        "sys_resource", "sys_time", "sys_tty_config", "mknod", "lease", "audit_write", "audit_control", "setfcap",
        "mac_override", "mac_admin", "syslog", "wake_alarm", "block_suspend", "audit_read", "perfmon", "bpf",
        "checkpoint_restore",
    ]

    /// Numbers by name without `cap_`.
    static let numbersByName: [String: Int32] = Dictionary(
        uniqueKeysWithValues: names.enumerated().map { ($0.element, Int32($0.offset)) })

    /// The highest capability this build names.
    static let highestNamed = Capability(Int32(names.count - 1))

    /// Where the kernel publishes its highest capability.
    static let lastCapabilityPath = "/proc/sys/kernel/cap_last_cap"

    /// ``lastSupported``, read once (globals and static properties are initialized lazily and atomically).
    private static let runningKernelLast: Capability = {
        guard let text = try? Procfs.read(lastCapabilityPath) else { return highestNamed }
        return lastCapability(fromProcText: text) ?? highestNamed
    }()

    /// ``allSupported``, computed once.
    private static let runningKernelAll: [Capability] = (0...runningKernelLast.rawValue).map(Capability.init(_:))

    /// The contents of `cap_last_cap`: a decimal number in `0...63` and a newline; `nil` otherwise.
    static func lastCapability(fromProcText bytes: [UInt8]) -> Capability? {
        guard bytes.last == 10, let value = ProcText.decimal(bytes.dropLast(), max: UInt64(highestBit)) else {
            return nil
        }
        return Capability(Int32(value))
    }
}

// MARK: - Parsing

extension Capability {
    /// The longest part of a person's text quoted in an error message.
    static let quotedLimit = 64

    /// `text` in single quotes for an error message: control characters escaped, long text clipped.
    static func quoted(_ text: String) -> String {
        "'" + escaped(text) + "'"
    }

    /// `text` with control characters escaped (`\0`, `\t`, `\u{7F}`) and clipped to ``quotedLimit`` characters.
    static func escaped(_ text: String) -> String {
        var result = ""
        for (index, character) in text.enumerated() {
            if index == quotedLimit {
                result += "…"
                break
            }
            for scalar in character.unicodeScalars {
                switch scalar.properties.generalCategory {
                case .control, .format, .lineSeparator, .paragraphSeparator, .surrogate, .unassigned,
                    .privateUse:
                    result += scalar.escaped(asASCII: true)
                default:
                    result.unicodeScalars.append(scalar)
                }
            }
        }
        return result
    }

    /// Parses `text` against a kernel whose highest capability is `last`.
    static func parse(_ text: String, lastSupported last: Capability) throws(AllThreadsError) -> Capability {
        func invalid(_ message: String) -> AllThreadsError { .invalidArgument(message) }
        let unsupported = "(the running kernel's last is \(last.name))"

        guard !text.isEmpty else { throw invalid("empty capability name") }
        let isBlankOrControl = { (scalar: Unicode.Scalar) in
            scalar.properties.isWhitespace || scalar.properties.generalCategory == .control
        }
        if text.unicodeScalars.contains(where: isBlankOrControl) {
            throw invalid("capability \(quoted(text)) contains whitespace or a control character")
        }

        // Numbers: "7", "-1", "99999999999999999999", and "cap_7" as `name` writes unnamed ones.
        var bytes = Array(text.utf8)
        let isDigit = { (byte: UInt8) in (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) }
        let negative = bytes.first == UInt8(ascii: "-") && bytes.count > 1 && bytes.dropFirst().allSatisfy(isDigit)
        if negative || bytes.allSatisfy(isDigit) {
            guard !negative, let number = ProcText.decimal(bytes[...], max: UInt64(last.rawValue)) else {
                throw invalid(
                    "capability \(escaped(text)) is out of range 0...\(last.rawValue) \(unsupported)")
            }
            return Capability(Int32(number))
        }

        // Names, ASCII case-insensitively: Unicode case mapping would turn "\u{212A}ill" (Kelvin sign) into "kill".
        for index in bytes.indices where (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(bytes[index]) {
            bytes[index] |= 0x20
        }
        let prefix = Array("cap_".utf8)
        let bare = bytes.starts(with: prefix) ? bytes[prefix.count...] : bytes[...]
        if !bare.isEmpty, bare.allSatisfy(isDigit) {
            guard let number = ProcText.decimal(bare, max: UInt64(last.rawValue)) else {
                throw invalid("capability \(quoted(text)) is out of range 0...\(last.rawValue) \(unsupported)")
            }
            return Capability(Int32(number))
        }
        guard let number = numbersByName[String(decoding: bare, as: UTF8.self)] else {
            throw invalid("unknown capability \(quoted(text))")
        }
        let capability = Capability(number)
        guard capability <= last else {
            let known = text == capability.name ? "\(number)" : "\(capability.name), \(number)"
            throw invalid(
                "capability \(quoted(text)) (\(known)) is not supported by the running kernel "
                    + "(its last is \(last.name), \(last.rawValue))")
        }
        return capability
    }
}
