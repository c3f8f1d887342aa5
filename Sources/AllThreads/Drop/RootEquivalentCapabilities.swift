extension Capability {
    /// Why keeping this capability after a drop is root in disguise, or `nil` when it is not one
    /// of ``CapabilitySet/rootEquivalent``.
    public var rootEquivalence: String? {
        switch self {
        case .chown: "chown any file to yourself (/etc/passwd, a copy of a set-user-ID program), then change it"
        case .dacOverride: "read and write any file: /etc/shadow, /etc/passwd, root's crontab"
        case .dacReadSearch: "read any file (/etc/shadow, private keys) and open files by handle outside a chroot or container"
        case .fowner: "chmod any file: make /etc/shadow readable, /etc/passwd writable, a root-owned copy of a shell set-user-ID"
        case .setgid: "setgid(0) and setgroups: regain root's groups on any thread"
        case .setuid: "setuid(0): regain root on any thread"
        case .setpcap: "raise inheritable capabilities up to the bounding set, which executables with file capabilities then grant"
        case .sysModule: "load kernel modules: run any code in the kernel"
        case .sysRawio: "raw port I/O and /dev/mem: write kernel memory"
        case .sysPtrace: "trace any process, a root one too: read and write its memory and registers"
        case .sysAdmin: "mount, namespaces, BPF, quota and device administration: many known ways back to full root"
        case .sysBoot: "kexec_load: boot a kernel of your choice"
        case .mknod: "create a device node for the root disk or /dev/mem, owned by you, and write through it"
        case .setfcap: "give a file you own any file capability (cap_setuid=ep on a copy of a shell)"
        case .bpf: "with cap_perfmon or cap_net_admin, load BPF programs that read kernel memory and write other processes' memory"
        case .perfmon: "with cap_bpf, load tracing BPF programs that read kernel memory and write other processes' memory"
        default: nil
        }
    }
}

extension CapabilitySet {
    /// The capabilities that are root in disguise: a process that keeps one (alone or with another
    /// of this set) can make itself root again, or do what root does. ``PrivilegeDrop`` keeps one
    /// only when it is also named in `allowingRootEquivalentCapabilities:`, and never keeps
    /// `cap_setuid` or `cap_setgid` (its proof that `setuid(0)` fails would fail).
    /// ``Capability/rootEquivalence`` says why for each.
    public static let rootEquivalent: CapabilitySet = [
        .chown, .dacOverride, .dacReadSearch, .fowner, .setgid, .setuid, .setpcap, .sysModule, .sysRawio, .sysPtrace,
        .sysAdmin, .sysBoot, .mknod, .setfcap, .bpf, .perfmon,
    ]
}
