import Hummingbird

#if canImport(Glibc)
import Glibc
#endif

/// What one thread may still do, tried by that very thread: read a static file, read
/// `/etc/passwd`, connect to the granted port and to another one, start a program. Each is the system call's result: 0, or the errno it failed with.
struct SandboxProbe: ResponseEncodable, Sendable {
    /// The thread that tried (`/proc/thread-self/status`).
    var thread: KernelThreadView
    /// `open` of the static file for reading: 0 (granted beneath the static folder).
    var staticFile: Int32
    /// `open("/etc/passwd")` for reading: `EACCES` (13) under the sandbox.
    var passwd: Int32
    /// `connect` to 127.0.0.1 on the one granted port: 0, or `ECONNREFUSED` (111) when nothing
    /// listens there (the sandbox let it through to TCP).
    var grantedPort: Int32
    /// `connect` to 127.0.0.1 on a port not granted: `EACCES` (13) under the sandbox.
    var otherPort: Int32
    /// `posix_spawn` of `/bin/true`: `EPERM` (1), the seccomp filter's answer to `execve`.
    var exec: Int32

    /// Tries each on the calling thread.
    static func current(staticFile path: String, grantedPort: Int, otherPort: Int) throws(KernelThreadViewError) -> SandboxProbe {
        SandboxProbe(
            thread: try KernelThreadView.current(), staticFile: openForReading(path), passwd: openForReading("/etc/passwd"),
            grantedPort: connectLoopback(grantedPort), otherPort: connectLoopback(otherPort), exec: spawn("/bin/true"))
    }

    private static func openForReading(_ path: String) -> Int32 {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return errno }
        close(fd)
        return 0
    }

    private static func connectLoopback(_ port: Int) -> Int32 {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { return errno }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        return result == 0 ? 0 : errno
    }

    /// Starts `path` with `posix_spawn` (whose child calls `execve`), and reaps the child if it
    /// ran: 0 when it ran, else the error the `execve` gave.
    private static func spawn(_ path: String) -> Int32 {
        var child: pid_t = 0
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(path), nil]
        defer { free(argv[0]) }
        let result = posix_spawn(&child, path, nil, nil, argv, nil)
        guard result == 0 else { return result }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        return 0
    }
}

/// The answer of `GET /probe`: the same attempts made on the three threads that take part in a
/// request (see ``WhoAmI``).
struct SandboxProbes: ResponseEncodable, Sendable {
    /// Made on the connection's event loop thread.
    var eventLoop: SandboxProbe
    /// Made on a thread of NIO's blocking pool.
    var blockingPool: SandboxProbe
    /// Made on the thread that ran the route handler (Swift's concurrency pool).
    var handler: SandboxProbe
}
