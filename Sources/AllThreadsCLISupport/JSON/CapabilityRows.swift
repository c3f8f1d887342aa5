import AllThreads

/// A thread's five capability sets in the CLI's JSON, each as a list of names.
package struct CapabilityRows: Encodable, Sendable {
    /// The `inheritable` value.
    package var inheritable, permitted, effective, bounding, ambient: [String]

    /// The sets of `sets`.
    package init(_ sets: CapabilitySets) {
        let names = { (set: CapabilitySet) in set.map(\.name) }
        inheritable = names(sets.inheritable)
        permitted = names(sets.permitted)
        effective = names(sets.effective)
        bounding = names(sets.bounding)
        ambient = names(sets.ambient)
    }
}
