import AllThreads
import AllThreadsCLISupport
import ArgumentParser

/// A command that changes every thread: it resolves its arguments to a ``ThreadChange``,
/// and ``run()`` does the rest the same way for all of them.
protocol ChangeCommand: ParsableCommand {
    /// The shared options.
    var options: ChangeOptions { get set }
    /// The change the arguments ask for, resolved and validated; changes nothing.
    func change() throws(AllThreadsError) -> ThreadChange
}

extension ChangeCommand {
    /// Resolves everything (nothing changes if an argument is bad), moves off a shared terminal
    /// when a command follows (``CommandTerminal``), starts the extra threads, applies the
    /// change, verifies it, prints the result, and executes the command after `--`.
    func run() throws {
        let broadcast: BroadcastOptions
        let change: ThreadChange
        var command: ExecCommand?
        do throws(AllThreadsError) {
            broadcast = try BroadcastOptions(timeoutSeconds: options.timeout)
            change = try self.change()
            try change.validate()
            if let words = options.command { command = try ExecCommand(resolving: words) }
        } catch {
            throw CommandFailure.usage(error)
        }

        // Before any thread starts or anything changes: the parent stays as it is and relays.
        if command != nil, !options.noPty, CommandTerminal.isShared { try CommandTerminal.isolate() }

        do {
            try ThreadCrowd.grow(by: options.threads)
        } catch {
            throw CommandFailure.failed("could not start \(options.threads) threads: \(error); nothing changed")
        }

        let record = change.apply(options: broadcast)
        var output = ChangeOutput(
            command: Self.configuration.commandName ?? "", threadsStarted: options.threads, record: record, verifyRequested: options.verify,
            exec: command)
        if let error = record.error {
            if record.rejectedUpFront { throw CommandFailure.usage(error) }
            output.print(json: options.json)
            throw CommandFailure.failed("\(change) failed: \(error)")
        }
        if options.verify || options.json {
            do throws(AllThreadsError) {
                output.verification = try change.verify(options: broadcast)
            } catch {
                output.verificationError = error
            }
        }
        output.print(json: options.json, quiet: command != nil)
        if let failure = output.verificationFailure { throw CommandFailure.failed(failure) }
        if let command { throw CommandFailure.exec(command: command.path, command.exec()) }
    }
}
