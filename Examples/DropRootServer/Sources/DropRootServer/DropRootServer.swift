import AllThreads
import Hummingbird
import Logging
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Binds a privileged port on loopback as root; once the socket is listening, drops to nobody
/// and sandboxes itself on every thread in one stop (files: read-only beneath the static folder,
/// and /proc; network: connect to one port (a database's, say) only, bind nowhere; no exec);
/// then serves `GET /whoami`, `GET /static/NAME` and `GET /probe`.
///
/// Usage: `DropRootServer [port [static-folder [connect-port]]]` (default 80, `/var/www` and
/// 5432), run as root.
@main
struct DropRootServer {
    static func main() async throws {
        let logger = Logger(label: "DropRootServer")
        let arguments = Array(CommandLine.arguments.dropFirst())
        guard arguments.count <= 3, let port = Int(arguments.first ?? "80"), (1...65535).contains(port),
            case let folder = arguments.count >= 2 ? arguments[1] : "/var/www", folder.hasPrefix("/"),
            let connectPort = Int(arguments.count == 3 ? arguments[2] : "5432"), (1...65535).contains(connectPort)
        else {
            logger.critical("usage: DropRootServer [port [static-folder [connect-port]]], with ports from 1 to 65535 and an absolute folder")
            exit(2)
        }
        // A port no rule grants: connecting to it must fail with EACCES.
        let otherPort = connectPort == 65535 ? connectPort - 1 : connectPort + 1

        let router = Router(context: ServerContext.self)
        router.get("whoami") { _, context -> WhoAmI in
            let handler = try KernelThreadView.current()
            // Procfs answers from memory without blocking, so reading it on the event loop is fine.
            let eventLoop = try await context.eventLoop.submit { try KernelThreadView.current() }.get()
            let blockingPool = try await NIOThreadPool.singleton.runIfActive { try KernelThreadView.current() }
            return WhoAmI(eventLoop: eventLoop, blockingPool: blockingPool, handler: handler)
        }
        router.get("static/:name") { _, context -> String in
            guard let name = context.parameters.get("name"), !name.contains("/"), !name.hasPrefix(".") else { throw HTTPError(.badRequest) }
            return try StaticFile.read(folder + "/" + name)
        }
        router.get("probe") { _, context -> SandboxProbes in
            let file = folder + "/index.html"
            let probe: @Sendable () throws -> SandboxProbe = { try SandboxProbe.current(staticFile: file, grantedPort: connectPort, otherPort: otherPort) }
            let handler = try probe()
            let eventLoop = try await context.eventLoop.submit(probe).get()
            let blockingPool = try await NIOThreadPool.singleton.runIfActive(probe)
            return SandboxProbes(eventLoop: eventLoop, blockingPool: blockingPool, handler: handler)
        }

        let app = Application(
            router: router,
            configuration: .init(address: .hostname("127.0.0.1", port: port), serverName: "DropRootServer"),
            // Hummingbird awaits this after binding and before it handles any connection.
            onServerRunning: { _ in
                // NIO starts its blocking pool on first use; a server that reads its TLS key or
                // configuration with NIO's file system has it running by now. Start it before the
                // drop, so that the drop has those threads to cover too.
                _ = NIOThreadPool.singleton
                sandbox(connectPort: connectPort, folder: folder, logger: logger)
            },
            logger: logger
        )
        try await app.runService()
    }

    /// Drops to nobody and sandboxes every thread of the process (event loops, NIO's blocking
    /// pool, the Swift concurrency pool, everything) in one stop, and proves it on every thread,
    /// through probes in the stop and /proc after it; exits on any doubt, so the server never
    /// serves a request with root or the whole file system left on some thread.
    static func sandbox(connectPort: Int, folder: String, logger: Logger) {
        // A profile, as a configuration file would hold it. /proc: the drop's proof and /whoami read it.
        let profile = """
            ro \(folder)
            ro /proc
            connect-tcp \(connectPort)
            user nobody
            seccomp default allow
            seccomp execve errno EPERM
            seccomp execveat errno EPERM
            """
        do {
            let report = try Sandbox(profile: profile).apply()
            logger.info(
                "pid \(getpid()): dropped to nobody on every thread and proved it on \(report.credentials?.count ?? 0) threads; sandboxed: \(report)")
        } catch {
            logger.critical("could not drop root and sandbox every thread, stopping: \(error)")
            exit(1)
        }
    }
}
