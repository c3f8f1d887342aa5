import AllThreads
// The JSON forms of a thread's state, for tools (`allthreads --json`). Keys are snake_case.

extension IDs: Encodable {
    private enum CodingKeys: String, CodingKey { case real, effective, saved, filesystem }

    /// `{"real": 0, "effective": 0, "saved": 0, "filesystem": 0}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(real, forKey: .real)
        try container.encode(effective, forKey: .effective)
        try container.encode(saved, forKey: .saved)
        try container.encode(filesystem, forKey: .filesystem)
    }
}

extension CapabilitySet: Encodable {
    /// The capabilities' names in ascending order, such as `["cap_chown", "cap_setuid"]`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(map(\.name))
    }
}

extension CapabilitySets: Encodable {
    private enum CodingKeys: String, CodingKey { case inheritable, permitted, effective, bounding, ambient }

    /// The five sets, each as a list of names.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(inheritable, forKey: .inheritable)
        try container.encode(permitted, forKey: .permitted)
        try container.encode(effective, forKey: .effective)
        try container.encode(bounding, forKey: .bounding)
        try container.encode(ambient, forKey: .ambient)
    }
}

extension SeccompMode: Encodable {
    /// `"disabled"`, `"strict"` or `"filter"`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(description)
    }
}

extension ThreadCredentials: Encodable {
    private enum CodingKeys: String, CodingKey {
        case uids, gids, groups, capabilities, noNewPrivs = "no_new_privs", seccomp
    }

    /// `uids`, `gids`, `groups`, `capabilities`, `no_new_privs` (a boolean) and `seccomp`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(uids, forKey: .uids)
        try container.encode(gids, forKey: .gids)
        try container.encode(groups, forKey: .groups)
        try container.encode(capabilities, forKey: .capabilities)
        try container.encode(noNewPrivs, forKey: .noNewPrivs)
        try container.encode(seccomp, forKey: .seccomp)
    }
}

extension ThreadState: Encodable {
    private enum CodingKeys: String, CodingKey {
        case tid, name, state, runsCode = "runs_code", timerSlack = "timer_slack_ns", nice, cpusAllowed = "cpus_allowed"
        case ioUring = "io_uring"
    }

    /// The credentials' keys (see ``ThreadCredentials``) at the top level, with `tid`, `name`,
    /// `state` (the /proc letter), `runs_code`, `timer_slack_ns` and `nice` (`null` when
    /// unreadable), `cpus_allowed` and `io_uring` (`"sqpoll"`, `"worker"`, or `null` for a task
    /// that is no io_uring task).
    public func encode(to encoder: any Encoder) throws {
        try credentials.encode(to: encoder)
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(tid, forKey: .tid)
        try container.encode(name, forKey: .name)
        try container.encode(String(state), forKey: .state)
        try container.encode(!runsNoCode, forKey: .runsCode)
        try container.encode(timerSlackNanoseconds, forKey: .timerSlack)
        try container.encode(nice, forKey: .nice)
        try container.encode(cpusAllowedList, forKey: .cpusAllowed)
        try container.encode(ioUringRole.map { $0 == .submissionPolling ? "sqpoll" : "worker" }, forKey: .ioUring)
    }
}

extension ProcessSnapshot: Encodable {
    private enum CodingKeys: String, CodingKey {
        case pid, threads, ioUringRings = "io_uring_rings", ioUringRegistrations = "io_uring_registrations"
    }

    /// `{"pid": 1234, "threads": [...], "io_uring_rings": [...], "io_uring_registrations": [...]}`,
    /// each thread as ``ThreadState`` encodes it; the io_uring keys are `null` when not read.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pid, forKey: .pid)
        try container.encode(threads, forKey: .threads)
        try container.encode(ioUringRings, forKey: .ioUringRings)
        try container.encode(ioUringRegistrations, forKey: .ioUringRegistrations)
    }
}

extension IoUringRing: Encodable {
    private enum CodingKeys: String, CodingKey { case inode, fds, mapped, sqThread = "sq_thread" }

    /// `{"inode": 1845091, "fds": [3], "mapped": true, "sq_thread": 812}` (`sq_thread` `null` without SQPOLL).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(inode, forKey: .inode)
        try container.encode(descriptors, forKey: .fds)
        try container.encode(isMapped, forKey: .mapped)
        try container.encode(submissionPollingThread, forKey: .sqThread)
    }
}

extension IoUringRegistration: Encodable {
    private enum CodingKeys: String, CodingKey { case slot, threads }
    private enum ThreadKeys: String, CodingKey { case tid, name }

    /// `{"slot": 0, "threads": [{"tid": 811, "name": "main"}]}`.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(slot, forKey: .slot)
        var list = container.nestedUnkeyedContainer(forKey: .threads)
        for thread in threads {
            var entry = list.nestedContainer(keyedBy: ThreadKeys.self)
            try entry.encode(thread.tid, forKey: .tid)
            try entry.encode(thread.name, forKey: .name)
        }
    }
}
