import AllThreads
import CBroadcast
import Glibc
import SystemPackage

/// The command after `--` kept off the invoker's terminal, as sudo's `use_pty` does.
///
/// A command that shares the terminal of whoever runs allthreads (root's shell, typically) can
/// push input into it with `ioctl(TIOCSTI)`: dropped to nobody, it types `id > file` into root's
/// shell, which runs it as root once the command ends; or it keeps the terminal open and reads
/// what root types next. So when this process has a controlling terminal or one of its standard
/// descriptors is a terminal, ``isolate()`` forks before anything changes, while the process
/// still has one thread:
///
/// - The child starts a new session, which has no controlling terminal. When a standard
///   descriptor was a terminal, a new pseudo-terminal becomes the child's controlling terminal
///   and its slave takes the place of each standard descriptor that was a terminal (pipes and
///   files stay). The child then makes the change on its own threads, proves it and executes
///   the command: `TIOCSTI` reaches only the pseudo-terminal.
/// - The parent changes nothing and acts for the child in no way but this: it relays bytes
///   between the terminal and the pseudo-terminal (the terminal in raw mode meanwhile), passes
///   on window size changes and the signals `kill` or a hangup sends it, and exits with the
///   child's status (128 + N when signal N ended it); when the child stops (^Z), it stops too,
///   and continues the child when continued. The child keeps no descriptor of the terminal,
///   nor the master side of the pseudo-terminal.
package enum CommandTerminal {
    /// The standard descriptors that are terminals.
    package static var terminalDescriptors: [CInt] { (0...2).filter { isatty($0) == 1 } }

    /// True when this process has a controlling terminal (`/dev/tty` opens).
    package static var hasControllingTerminal: Bool {
        let fd = open("/dev/tty", O_RDWR | O_NOCTTY | O_CLOEXEC)
        guard fd >= 0 else { return false }
        close(fd)
        return true
    }

    /// True when a command run in place of this process would share a terminal with its invoker.
    package static var isShared: Bool { hasControllingTerminal || !terminalDescriptors.isEmpty }

    /// The signals the parent takes through a descriptor: the child's end, window size changes,
    /// and those it passes on to the child.
    private static let relayedSignals = [SIGCHLD, SIGWINCH, SIGHUP, SIGINT, SIGQUIT, SIGTERM]

    /// How often the parent looks for the child's end when it has no signal descriptor.
    private static let fallbackMilliseconds: CInt = 100

    /// How long the parent passes on output, once the child has ended, while something else
    /// keeps the pseudo-terminal open (a process the command left in the background); it stops
    /// sooner at the pseudo-terminal's hangup, once the last holder has closed it.
    private static let drainMilliseconds: CInt = 2000

    /// Forks as described above. Returns in the child, in its own session and on its own
    /// pseudo-terminal; in the parent, relays until the child ends and exits with its status.
    /// Call it while the process has one thread: the child goes on running Swift after `fork`.
    ///
    /// - Throws: ``CommandFailure/failed(_:)`` when no pseudo-terminal could be made or the
    ///   fork failed: nothing changed.
    package static func isolate() throws(CommandFailure) {
        let terminals = terminalDescriptors
        var terminal: PseudoTerminal?
        if let first = terminals.first {
            do throws(Errno) {
                terminal = try PseudoTerminal(like: first)
            } catch {
                throw .failed("cannot make a pseudo-terminal for the command (\(error)); nothing changed; --no-pty runs it on this terminal")
            }
        }
        var signals = sigset_t(), previous = sigset_t()
        sigemptyset(&signals)
        for signal in relayedSignals { sigaddset(&signals, signal) }
        // Blocked before the fork, so that a child that ends at once is still seen.
        pthread_sigmask(SIG_BLOCK, &signals, &previous)
        let child = fork()
        if child < 0 {
            let error = Errno(rawValue: errno)
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            throw .failed("cannot fork the command off this terminal (\(error)); nothing changed")
        }
        if child == 0 {
            pthread_sigmask(SIG_SETMASK, &previous, nil)
            setsid()
            terminal?.attach(in: terminals)
            return
        }
        let status = relay(child: child, terminal: terminal, terminals: terminals, signals: &signals)
        exit(status)
    }

    /// The parent's part: relays until `child` ends (the terminal in raw mode meanwhile, when
    /// standard input is one), then returns the exit status to pass on.
    private static func relay(child: pid_t, terminal: PseudoTerminal?, terminals: [CInt], signals: inout sigset_t) -> CInt {
        // signalfd(2), which Swift's Glibc module does not import: 8 bytes of mask, the kernel's size.
        let signalDescriptor = CInt(
            truncatingIfNeeded: withUnsafePointer(to: &signals) {
                cb_syscall(Int(SYS_signalfd4), -1, Int(bitPattern: $0), 8, Int(O_CLOEXEC | O_NONBLOCK), 0, 0)
            })
        let mode = RawMode(terminal != nil && terminals.contains(0) ? 0 : -1)
        defer { mode.restore() }
        return wait(for: child, signals: signalDescriptor, relay: terminal.map { ($0, terminals) }, mode: mode)
    }

    /// Waits for `child`, relaying between the terminal and `relay`'s pseudo-terminal if any.
    /// When the child stops (^Z on its terminal), the parent restores the terminal and stops
    /// too, as a shell expects of its job; continued (`fg`), it puts the terminal back in raw
    /// mode and continues the child.
    private static func wait(for child: pid_t, signals: CInt, relay: (PseudoTerminal, [CInt])?, mode: RawMode) -> CInt {
        let input: CInt = relay?.1.contains(0) == true ? 0 : -1
        let output: CInt = relay.map { $0.1.first { $0 != 0 } ?? $0.1[0] } ?? -1
        let master = relay?.0.master ?? -1
        var descriptors = [
            pollfd(fd: signals, events: Int16(POLLIN), revents: 0), pollfd(fd: master, events: Int16(POLLIN), revents: 0),
            pollfd(fd: input, events: Int16(POLLIN), revents: 0),
        ]
        var status: CInt?
        func reap(_ options: CInt) {
            var raw: CInt = 0
            let reaped = waitpid(child, &raw, options | WUNTRACED)
            if reaped < 0, errno != EINTR {
                status = 1
            } else if reaped == child, raw & 0xff == 0x7f {
                mode.restore()
                kill(getpid(), SIGSTOP)
                mode.apply()
                kill(child, SIGCONT)
            } else if reaped == child {
                status = exitStatus(raw)
            }
        }
        // Without a signal descriptor (signalfd failed), the child's end is looked for each
        // `fallbackMilliseconds`.
        let timeout = signals < 0 ? fallbackMilliseconds : -1
        while status == nil {
            // Each wake-up has a cause: a signal (the child's end among them) or bytes to move.
            guard poll(&descriptors, nfds_t(descriptors.count), timeout) >= 0 || errno == EINTR else { break }
            if signals < 0 { reap(WNOHANG) }
            if descriptors[0].revents != 0 {
                // A signalfd_siginfo: 128 bytes, the signal number first.
                var info = [UInt32](repeating: 0, count: 32)
                while info.withUnsafeMutableBytes({ read(signals, $0.baseAddress, $0.count) }) == 128 {
                    let signal = CInt(bitPattern: info[0])
                    switch signal {
                    case SIGCHLD:
                        reap(WNOHANG)
                    case SIGWINCH:
                        if let relay { relay.0.copyWindowSize(from: output) }
                    default:
                        kill(child, signal)
                    }
                }
            }
            if descriptors[1].revents != 0, !copy(from: master, to: output) { descriptors[1].fd = -1 }
            if descriptors[2].revents != 0, !copy(from: input, to: master) { descriptors[2].fd = -1 }
        }
        // poll failed for want of memory: the relay ends, the wait does not.
        while status == nil { reap(0) }
        if let relay {
            // The child is gone: let the pseudo-terminal hang up once its last holder closes it,
            // and pass on what is still on its way, for at most `drainMilliseconds`.
            relay.0.closeSlave()
            let clock = ContinuousClock(), deadline = clock.now + .milliseconds(drainMilliseconds)
            var last = pollfd(fd: master, events: Int16(POLLIN), revents: 0)
            while clock.now < deadline, poll(&last, 1, drainMilliseconds) > 0, copy(from: master, to: output) {}
        }
        return status ?? 1
    }

    /// Moves one read's worth of bytes; false at end of file or on an error of `source`.
    /// A destination that fails drops the bytes: the command's end still decides.
    private static func copy(from source: CInt, to destination: CInt) -> Bool {
        var buffer = [UInt8](repeating: 0, count: 4096)
        let count = buffer.withUnsafeMutableBytes { read(source, $0.baseAddress, $0.count) }
        if count < 0, errno == EINTR || errno == EAGAIN { return true }
        guard count > 0 else { return false }
        var offset = 0
        while offset < count {
            let written = buffer[offset..<count].withUnsafeBytes { write(destination, $0.baseAddress, $0.count) }
            if written > 0 {
                offset += written
            } else if written < 0, errno == EINTR {
                continue
            } else {
                break
            }
        }
        return true
    }

    /// The shell's convention: the exit status, or 128 + N for signal N.
    private static func exitStatus(_ raw: CInt) -> CInt {
        let signal = raw & 0x7f
        return signal == 0 ? (raw >> 8) & 0xff : 128 + signal
    }
}

/// A new pseudo-terminal with the settings and window size of the terminal at a descriptor.
struct PseudoTerminal {
    /// The master side, which the parent reads and writes.
    let master: CInt
    /// The slave side, which becomes the child's terminal; the parent holds it until the
    /// child ends, so that the master does not hang up before the child has it.
    let slave: CInt

    /// Opens a pseudo-terminal (`openpty`; both sides close-on-exec) with the settings and
    /// window size of `terminal`.
    init(like terminal: CInt) throws(Errno) {
        var master: CInt = -1, slave: CInt = -1
        var settings = termios(), size = winsize()
        let hasSettings = tcgetattr(terminal, &settings) == 0
        let hasSize = ioctl(terminal, UInt(TIOCGWINSZ), &size) == 0
        let opened = withUnsafeMutablePointer(to: &settings) { settings in
            withUnsafeMutablePointer(to: &size) { size in
                openpty(&master, &slave, nil, hasSettings ? settings : nil, hasSize ? size : nil)
            }
        }
        guard opened == 0 else {
            throw Errno(rawValue: errno)
        }
        // The process has one thread here: no exec can happen before these.
        _ = fcntl(master, F_SETFD, FD_CLOEXEC)
        _ = fcntl(slave, F_SETFD, FD_CLOEXEC)
        self.master = master
        self.slave = slave
    }

    /// Gives the pseudo-terminal the window size of `terminal` (the kernel tells the child's
    /// foreground process group with `SIGWINCH`).
    func copyWindowSize(from terminal: CInt) {
        var size = winsize()
        if ioctl(terminal, UInt(TIOCGWINSZ), &size) == 0 { _ = ioctl(master, UInt(TIOCSWINSZ), &size) }
    }

    /// In the child, in its new session: makes the slave its controlling terminal and puts it
    /// in place of each descriptor of `terminals`; closes the master.
    func attach(in terminals: [CInt]) {
        close(master)
        _ = ioctl(slave, UInt(TIOCSCTTY), 0)
        for descriptor in terminals { dup2(slave, descriptor) }
        if !terminals.contains(slave) { close(slave) }
    }

    /// In the parent, once the child has ended.
    func closeSlave() { close(slave) }
}

/// A terminal in raw mode (bytes pass as typed: ^C reaches the command's terminal, not this
/// process), and its settings to restore.
struct RawMode {
    private let descriptor: CInt
    /// The settings before, `nil` when `descriptor` is no terminal.
    private let saved: termios?

    /// Puts the terminal at `descriptor` in raw mode; does nothing for -1 or a non-terminal.
    init(_ descriptor: CInt) {
        self.descriptor = descriptor
        var settings = termios()
        saved = descriptor >= 0 && tcgetattr(descriptor, &settings) == 0 ? settings : nil
        apply()
    }

    /// Puts the terminal in raw mode (again, after a stop).
    func apply() {
        guard var raw = saved else { return }
        cfmakeraw(&raw)
        tcsetattr(descriptor, TCSADRAIN, &raw)
    }

    /// Restores the settings from before.
    func restore() {
        guard var settings = saved else { return }
        tcsetattr(descriptor, TCSADRAIN, &settings)
    }
}
