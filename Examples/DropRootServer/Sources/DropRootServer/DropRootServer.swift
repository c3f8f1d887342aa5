import AllThreads
import Hummingbird
import Logging
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// Binds a privileged port on loopback as root, drops to nobody on every thread once the
/// socket is listening, then serves `GET /whoami`.
///
/// Usage: `DropRootServer [port]` (default 80), run as root.
@main
struct DropRootServer {
    static func main() async throws {
        let logger = Logger(label: "DropRootServer")
        let arguments = CommandLine.arguments.dropFirst()
        guard arguments.count <= 1, let port = Int(arguments.first ?? "80"), (1...65535).contains(port) else {
            logger.critical("usage: DropRootServer [port], with a port from 1 to 65535")
            exit(2)
        }

        let router = Router(context: ServerContext.self)
        router.get("whoami") { _, context -> WhoAmI in
            let handler = try KernelThreadView.current()
            // Procfs answers from memory without blocking, so reading it on the event loop is fine.
            let eventLoop = try await context.eventLoop.submit { try KernelThreadView.current() }.get()
            let blockingPool = try await NIOThreadPool.singleton.runIfActive { try KernelThreadView.current() }
            return WhoAmI(eventLoop: eventLoop, blockingPool: blockingPool, handler: handler)
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
                dropRoot(logger: logger)
            },
            logger: logger
        )
        try await app.runService()
    }

    /// Drops to nobody on every thread of the process (event loops, NIO's blocking pool, the
    /// Swift concurrency pool, everything) and proves it through /proc; exits on any doubt,
    /// so the server never serves a request with root left on some thread.
    static func dropRoot(logger: Logger) {
        do {
            let proof = try PrivilegeDrop(user: "nobody", noNewPrivileges: true).apply()
            logger.info("pid \(proof.pid): dropped to nobody on every thread and proved it on \(proof.threads.count) threads")
        } catch {
            logger.critical("could not drop root on every thread, stopping: \(error)")
            exit(1)
        }
    }
}
