import Glibc

/// Messages to standard error that never stop the command.
///
/// A message that cannot be written (descriptor 2 closed, `/dev/full`, a pipe nobody reads)
/// is dropped: the command goes on, and its exit status still says what happened.
/// `FileHandle.write(_:)` traps instead, which would keep a usage error from exiting 2 and the
/// command after `--` from running.
package enum StandardError {
    /// Writes `text` and a newline, with every character a terminal may act on escaped
    /// (``TerminalText/escaped(_:)``): one line, whatever names or paths `text` holds.
    package static func line(_ text: String) {
        write(TerminalText.escaped(text) + "\n")
    }

    /// Writes `text` to descriptor 2 with `write(2)`, retrying after interruptions and short
    /// writes and giving up at the first other error. `SIGPIPE` is blocked for the write and a
    /// `SIGPIPE` it raised is taken back, so a closed pipe does not end the process either.
    package static func write(_ text: String) {
        var pipe = sigset_t(), previous = sigset_t()
        sigemptyset(&pipe)
        sigaddset(&pipe, SIGPIPE)
        pthread_sigmask(SIG_BLOCK, &pipe, &previous)
        defer {
            // A SIGPIPE the write raised is pending on this thread while blocked: take it.
            if sigismember(&previous, SIGPIPE) == 0 {
                var timeout = timespec()
                while sigtimedwait(&pipe, nil, &timeout) == SIGPIPE {}
            }
            pthread_sigmask(SIG_SETMASK, &previous, nil)
        }
        var bytes = Array(text.utf8)[...]
        while !bytes.isEmpty {
            let written = bytes.withUnsafeBytes { Glibc.write(STDERR_FILENO, $0.baseAddress, $0.count) }
            if written > 0 {
                bytes = bytes.dropFirst(written)
            } else if written < 0, errno == EINTR {
                continue
            } else {
                return
            }
        }
    }
}
