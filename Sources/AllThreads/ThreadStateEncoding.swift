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
    }

    /// The credentials' keys (see ``ThreadCredentials``) at the top level, with `tid`, `name`,
    /// `state` (the /proc letter), `runs_code`, `timer_slack_ns` and `nice` (`null` when
    /// unreadable) and `cpus_allowed`.
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
    }
}

extension ProcessSnapshot: Encodable {
    private enum CodingKeys: String, CodingKey { case pid, threads }

    /// `{"pid": 1234, "threads": [...]}`, each thread as ``ThreadState`` encodes it.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(pid, forKey: .pid)
        try container.encode(threads, forKey: .threads)
    }
}
