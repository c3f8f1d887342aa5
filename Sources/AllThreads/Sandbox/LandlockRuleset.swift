import CBroadcast
import Glibc
import SystemPackage

/// A ``Sandbox``'s Landlock ruleset, built on the calling thread before any thread changes: every
/// path opened `O_PATH` and checked, every rule added. It holds the descriptors the broadcast uses
/// (the ruleset, the rules' paths, the proof's listening socket) until ``close()``.
struct LandlockRuleset {
    /// The ruleset; nil when the negotiation left nothing to handle (best effort, old kernel).
    var descriptor: FileDescriptor?
    /// The paths skipped as missing.
    var missingPaths: [String] = []
    /// Each rule that exists: its path, `O_PATH` descriptor, identity and the rights the ruleset grants.
    private var rules: [(path: String, fd: FileDescriptor, identity: FileIdentity, access: FileSystemAccess)] = []
    private var negotiated: SandboxNegotiation
    private var ports: [Sandbox.PortRule]

    /// `LANDLOCK_RULE_PATH_BENEATH` and `LANDLOCK_RULE_NET_PORT`.
    private static let pathBeneath = 1, netPort = 2

    init(_ sandbox: Sandbox, negotiated: SandboxNegotiation) throws(AllThreadsError) {
        self.negotiated = negotiated
        ports = sandbox.ports
        do throws(AllThreadsError) {
            for (i, rule) in sandbox.paths.enumerated() {
                let path = rule.path.description
                let which = "path rule \(i + 1) (\(Sandbox.quoted(path)))"
                let fd = open(path, LinuxFlags.path | O_CLOEXEC)
                if fd < 0 {
                    let error = Errno(rawValue: errno)
                    if error == .noSuchFileOrDirectory && rule.ignoreIfMissing {
                        missingPaths.append(path)
                        continue
                    }
                    throw .invalidArgument("\(which) cannot be opened: \(error)")
                }
                let descriptor = FileDescriptor(rawValue: fd)
                guard let identity = FileIdentity(of: descriptor) else {
                    _ = try? descriptor.close()
                    throw .invalidArgument("\(which) cannot be examined: \(Errno(rawValue: errno))")
                }
                var access = rule.access
                if !identity.isDirectory {
                    guard !access.isDisjoint(with: .fileRights) else {
                        _ = try? descriptor.close()
                        throw .invalidArgument("\(which) is not a directory, and \(access) holds no right that applies to a file")
                    }
                    access.formIntersection(.fileRights)
                }
                rules.append((path, descriptor, identity, access.intersection(negotiated.fileSystem)))
            }
            try build()
        } catch {
            close()
            throw error
        }
    }

    /// Creates the ruleset and adds every rule that grants something it handles.
    private mutating func build() throws(AllThreadsError) {
        let attributes = Self.bytes(negotiated.fileSystem.rawValue, negotiated.network.rawValue, negotiated.scopes.rawValue)
        guard attributes.contains(where: { $0 != 0 }) else { return }
        let fd = attributes.withUnsafeBytes { cb_syscall(Int(SYS_landlock_create_ruleset), Int(bitPattern: $0.baseAddress), $0.count, 0, 0, 0, 0) }
        guard fd >= 0 else { throw .setupFailed(Errno(rawValue: CInt(-fd))) }
        let ruleset = FileDescriptor(rawValue: CInt(fd))
        descriptor = ruleset
        for rule in rules where !rule.access.isEmpty {
            // struct landlock_path_beneath_attr is packed: u64 allowed_access, s32 parent_fd.
            let attribute = Self.bytes(rule.access.rawValue) + Self.bytes(UInt32(bitPattern: rule.fd.rawValue))
            try add(Self.pathBeneath, attribute, "path rule \(Sandbox.quoted(rule.path))")
        }
        for rule in ports where !rule.access.intersection(negotiated.network).isEmpty {
            // struct landlock_net_port_attr: u64 allowed_access, u64 port.
            try add(Self.netPort, Self.bytes(rule.access.intersection(negotiated.network).rawValue, UInt64(rule.port)), "port rule \(rule.port)")
        }
    }

    private func add(_ type: Int, _ attribute: [UInt8], _ which: String) throws(AllThreadsError) {
        let result = attribute.withUnsafeBytes {
            cb_syscall(Int(SYS_landlock_add_rule), Int(descriptor!.rawValue), type, Int(bitPattern: $0.baseAddress), 0, 0, 0)
        }
        guard result == 0 else { throw .invalidArgument("\(which): the kernel refused it (\(Errno(rawValue: CInt(-result))))") }
    }

    /// Closes every descriptor this holds.
    func close() {
        if let descriptor { _ = try? descriptor.close() }
        for rule in rules { _ = try? rule.fd.close() }
        for socket in proofSockets { _ = try? socket.close() }
    }

    /// The sockets the network and scope proofs use, made by ``proofSteps()``.
    private var proofSockets: [FileDescriptor] = []

    /// Throws unless the rules grant what the ruleset handles of reading (`read_file`,
    /// `read_dir`) on `path`, which something after the stop reads (`why`).
    func requireReadable(_ path: String, for why: String) throws(AllThreadsError) {
        let needed = negotiated.fileSystem.intersection([.readFile, .readDirectory])
        guard descriptor != nil, !needed.isEmpty else { return }
        let fd = open(path, LinuxFlags.path | O_CLOEXEC)
        guard fd >= 0 else { throw .invalidArgument("\(path) cannot be opened: \(Errno(rawValue: errno))") }
        defer { Glibc.close(fd) }
        let granted = grantedBeneath(FileDescriptor(rawValue: fd)) ?? []
        guard granted.isSuperset(of: needed) else {
            throw .invalidArgument("grant read on /proc (or \(path)): \(why), and the sandbox would deny it \(needed.subtracting(granted))")
        }
    }

    /// The proof steps, at most `limit`: each was run on the calling thread first, and kept only
    /// when its result there shows what it must show (see ``Sandbox``).
    mutating func proofSteps(limit: Int) -> [SandboxProof] {
        guard descriptor != nil else { return [] }
        var candidates: [SandboxProof.Candidate] = []
        let openat = SystemCall(rawValue: Int(SYS_openat))
        let directoryFlags = Int(O_RDONLY | O_DIRECTORY | LinuxFlags.direct | O_CLOEXEC)
        if negotiated.fileSystem.contains(.readDirectory), let root = FileIdentity(path: "/"),
            !rules.contains(where: { $0.identity == root })
        {
            candidates.append(
                .init(
                    openat, [.value(Int(AT_FDCWD)), .bytes(Array("/".utf8) + [0]), .value(directoryFlags)], allowed: false,
                    "openat(\"/\", O_DIRECTORY|O_DIRECT): read_dir is not granted on /"))
        }
        for rule in rules {
            if rule.identity.isDirectory, rule.access.contains(.readDirectory) {
                candidates.append(
                    .init(
                        openat, [.value(Int(rule.fd.rawValue)), .bytes(Array(".".utf8) + [0]), .value(directoryFlags)], allowed: true,
                        "openat(\(Sandbox.quoted(rule.path)), O_DIRECTORY|O_DIRECT): read_dir is granted"))
            }
            // Regular files only: opening a device (a watchdog, a tape) can act, even with O_DIRECT.
            if rule.identity.isRegularFile, rule.access.contains(.readFile) {
                candidates.append(
                    .init(
                        openat,
                        [
                            .value(Int(AT_FDCWD)), .bytes(Array(rule.path.utf8) + [0]),
                            .value(Int(O_RDONLY | LinuxFlags.direct | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)),
                        ],
                        allowed: true, "openat(\(Sandbox.quoted(rule.path)), O_RDONLY|O_DIRECT): read_file is granted"))
            }
            if rule.identity.isRegularFile, rule.access.contains(.execute) {
                candidates.append(
                    .init(
                        SystemCall(rawValue: Int(SYS_execveat)),
                        [.value(Int(rule.fd.rawValue)), .bytes([0]), .value(0), .value(0), .value(LinuxFlags.emptyPath | LinuxFlags.executeCheck)],
                        allowed: true, "execveat(\(Sandbox.quoted(rule.path)), AT_EXECVE_CHECK): execute is granted"))
            }
            if rule.identity.isRegularFile, negotiated.fileSystem.contains(.execute), let granted = grantedBeneath(rule.fd),
                !granted.contains(.execute)
            {
                candidates.append(
                    .init(
                        SystemCall(rawValue: Int(SYS_execveat)),
                        [.value(Int(rule.fd.rawValue)), .bytes([0]), .value(0), .value(0), .value(LinuxFlags.emptyPath | LinuxFlags.executeCheck)],
                        allowed: false, "execveat(\(Sandbox.quoted(rule.path)), AT_EXECVE_CHECK): execute is granted neither on it nor above it"))
            }
        }
        candidates += networkCandidates() + scopeCandidates()
        let proofs = candidates.compactMap { $0.proof() }
        return Array(proofs.prefix(limit))
    }

    /// Scopes: signal 0 to the parent process (outside every thread's domain) gives `EPERM`; so
    /// does `connect` to an abstract UNIX socket that this thread made listen before the sandbox
    /// (never run first: it would connect).
    private mutating func scopeCandidates() -> [SandboxProof.Candidate] {
        var candidates: [SandboxProof.Candidate] = []
        // getppid() is 0 when the parent is outside our pid namespace: kill(0) would mean our group.
        if negotiated.scopes.contains(.signal), case let parent = Int(getppid()), parent > 0 {
            candidates.append(
                .init(
                    SystemCall(rawValue: Int(SYS_kill)), [.value(parent), .value(0)], allowed: false,
                    "kill(\(parent), 0): the parent process is outside the domain", denial: EPERM))
        }
        if negotiated.scopes.contains(.abstractUnixSocket) {
            let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
            let listener = socket(AF_UNIX, type, 0), client = socket(AF_UNIX, type, 0)
            for fd in [listener, client] where fd >= 0 { proofSockets.append(FileDescriptor(rawValue: fd)) }
            guard listener >= 0, client >= 0 else { return candidates }
            // sockaddr_un: the family, then a NUL and the name (abstract), the length counting only those.
            let address = LandlockRuleset.bytes(UInt16(AF_UNIX)) + [0] + Array("allthreads-scope-proof-\(getpid())-\(listener)".utf8)
            let bound = address.withUnsafeBytes { cb_syscall(Int(SYS_bind), Int(listener), Int(bitPattern: $0.baseAddress), $0.count, 0, 0, 0) }
            guard bound == 0, listen(listener, 1) == 0 else { return candidates }
            candidates.append(
                .init(
                    SystemCall(rawValue: Int(SYS_connect)), [.value(Int(client)), .bytes(address), .value(address.count)], allowed: false,
                    "connect to an abstract UNIX socket bound before the sandbox: it is outside the domain", denial: EPERM, checkFirst: false))
        }
        return candidates
    }

    /// The rights the rules grant on the file open at `fd`: those of every rule on it or on a
    /// directory above it (Landlock adds them up along the path). `nil` when its path is unknown.
    private func grantedBeneath(_ fd: FileDescriptor) -> FileSystemAccess? {
        guard let target = DescriptorTarget.of(fd), target.hasPrefix("/"), !target.hasSuffix(" (deleted)") else { return nil }
        var path = FilePath(target), granted = FileSystemAccess()
        for _ in 0..<path.components.count + 1 {
            guard let identity = FileIdentity(path: path.description) else { return nil }
            for rule in rules where rule.identity == identity { granted.formUnion(rule.access) }
            guard !path.removeLastComponent() else { continue }
            return granted
        }
        return granted
    }

    /// bind and connect on a socket listening on 127.0.0.1: the kernel checks Landlock's rules
    /// before the protocol, which refuses both (already bound: EINVAL; listening: EISCONN).
    private mutating func networkCandidates() -> [SandboxProof.Candidate] {
        guard !negotiated.network.isEmpty else { return [] }
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return [] }
        proofSockets.append(FileDescriptor(rawValue: fd))
        let any = SandboxProof.loopback(port: 0)
        let bound = any.withUnsafeBytes { cb_syscall(Int(SYS_bind), Int(fd), Int(bitPattern: $0.baseAddress), $0.count, 0, 0, 0) }
        guard bound == 0, listen(fd, 0) == 0 else { return [] }
        var candidates: [SandboxProof.Candidate] = []
        for (right, call, name) in [(NetworkAccess.bindTCP, SYS_bind, "bind"), (.connectTCP, SYS_connect, "connect")]
        where negotiated.network.contains(right) {
            let granted = ports.filter { $0.access.contains(right) }.map(\.port)
            for port in granted.prefix(8) {
                candidates.append(
                    .init(
                        SystemCall(rawValue: Int(call)), [.value(Int(fd)), .bytes(SandboxProof.loopback(port: port)), .value(16)], allowed: true,
                        "\(name)(127.0.0.1:\(port)) on a listening socket: \(right) is granted on port \(port)"))
            }
            if let denied = (1024...65535).reversed().first(where: { !granted.contains($0) }) {
                candidates.append(
                    .init(
                        SystemCall(rawValue: Int(call)), [.value(Int(fd)), .bytes(SandboxProof.loopback(port: denied)), .value(16)], allowed: false,
                        "\(name)(127.0.0.1:\(denied)): \(right) is not granted on port \(denied)"))
            }
        }
        return candidates
    }

    static func bytes<T: FixedWidthInteger>(_ values: T...) -> [UInt8] {
        values.flatMap { value in withUnsafeBytes(of: value.littleEndian) { Array($0) } }
    }
}

/// A file's device, inode and type.
struct FileIdentity: Hashable {
    var device: UInt64
    var inode: UInt64
    var type: mode_t

    var isDirectory: Bool { type == S_IFDIR }
    var isRegularFile: Bool { type == S_IFREG }

    init?(of fd: FileDescriptor) {
        var st = stat()
        guard fstat(fd.rawValue, &st) == 0 else { return nil }
        self.init(st)
    }

    init?(path: String) {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        self.init(st)
    }

    private init(_ st: stat) {
        device = UInt64(st.st_dev)
        inode = UInt64(st.st_ino)
        type = st.st_mode & S_IFMT
    }
}
