import AllThreads
// The JSON forms of comparisons and changes, for tools (`allthreads --json`). Keys are snake_case.

extension FieldDifference: Encodable {
    private enum CodingKeys: String, CodingKey { case field, value, expected, note }

    /// `field`, `value`, `expected`, and `note` when there is one.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(field, forKey: .field)
        try container.encode(value, forKey: .value)
        try container.encode(expected, forKey: .expected)
        if !note.isEmpty { try container.encode(note, forKey: .note) }
    }
}

extension ThreadDifference: Encodable {
    private enum CodingKeys: String, CodingKey { case tid, name, fields }

    /// `tid`, `name` and the differing `fields`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(thread.tid, forKey: .tid)
        try container.encode(thread.name, forKey: .name)
        try container.encode(fields, forKey: .fields)
    }
}

extension ThreadComparison: Encodable {
    private enum CodingKeys: String, CodingKey {
        case pid, agree, aspects, referenceTID = "reference_tid", threadCount = "thread_count"
        case checkedThreads = "checked_threads", differing, threads, ioUringRings = "io_uring_rings"
    }

    /// Keys: `pid`, `agree`, `aspects` (names), `reference_tid` (`null` when no thread runs code),
    /// `thread_count`, `checked_threads` (those that run code and the io_uring tasks), `differing`
    /// (each differing thread and its fields), `threads`: every thread as ``ThreadState`` encodes
    /// it, with `differs`, and `io_uring_rings` (`null` when not read).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(snapshot.pid, forKey: .pid)
        try container.encode(agree, forKey: .agree)
        try container.encode(aspects.names, forKey: .aspects)
        try container.encode(reference?.tid, forKey: .referenceTID)
        try container.encode(snapshot.threads.count, forKey: .threadCount)
        try container.encode(checkedThreads, forKey: .checkedThreads)
        try container.encode(differences, forKey: .differing)
        let differing = Set(differences.map(\.thread.tid))
        try container.encode(snapshot.threads.map { MarkedThread(thread: $0, differs: differing.contains($0.tid)) }, forKey: .threads)
        try container.encode(snapshot.ioUringRings, forKey: .ioUringRings)
    }

    /// A thread with its `differs` mark.
    private struct MarkedThread: Encodable {
        var thread: ThreadState
        var differs: Bool

        private enum CodingKeys: String, CodingKey { case differs }

        func encode(to encoder: any Encoder) throws {
            try thread.encode(to: encoder)
            var container = encoder.container(keyedBy: CodingKeys.self)
            try container.encode(differs, forKey: .differs)
        }
    }
}

extension ThreadIssue: Encodable {
    private enum CodingKeys: String, CodingKey { case tid, name, state, reason }

    /// `tid`, `name`, `state` (the /proc letter or `null`) and `reason` in words.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tid, forKey: .tid)
        try container.encode(name, forKey: .name)
        try container.encode(state.map(String.init), forKey: .state)
        try container.encode(reason.description, forKey: .reason)
    }
}

extension BroadcastReport: Encodable {
    private enum CodingKeys: String, CodingKey { case result, threads, rounds, elapsedNanoseconds = "elapsed_ns", skipped }

    /// `result`, `threads` (that ran the call), `rounds`, `elapsed_ns` and `skipped` threads.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(result, forKey: .result)
        try container.encode(threads, forKey: .threads)
        try container.encode(rounds, forKey: .rounds)
        try container.encode(elapsed.nanoseconds, forKey: .elapsedNanoseconds)
        try container.encode(skipped, forKey: .skipped)
    }
}

extension ChangeRecord: Encodable {
    private enum CodingKeys: String, CodingKey {
        case change, ok, error, broadcasts, engineBroadcasts = "engine_broadcasts", rounds
        case elapsedNanoseconds = "elapsed_ns", acceptedIoUringRings = "accepted_io_uring_rings"
        case acceptedIoUringRegistrations = "accepted_io_uring_registrations"
    }

    /// `change` (the call in words), `ok`, `error` (in words, `null` on success), `broadcasts`
    /// (each successful broadcast's report), `engine_broadcasts` (all started), `rounds`, `elapsed_ns`,
    /// and the io_uring rings and registered rings a privilege drop accepted
    /// (`accepted_io_uring_rings`, `accepted_io_uring_registrations`; empty otherwise).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(change.description, forKey: .change)
        try container.encode(error == nil, forKey: .ok)
        try container.encode(error?.description, forKey: .error)
        try container.encode(reports, forKey: .broadcasts)
        try container.encode(broadcasts, forKey: .engineBroadcasts)
        try container.encode(rounds, forKey: .rounds)
        try container.encode(elapsed.nanoseconds, forKey: .elapsedNanoseconds)
        try container.encode(acceptedIoUringRings, forKey: .acceptedIoUringRings)
        try container.encode(acceptedIoUringRegistrations, forKey: .acceptedIoUringRegistrations)
    }
}
