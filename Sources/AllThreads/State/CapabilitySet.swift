/// A set of capabilities, stored as the kernel's 64-bit mask: bit `n` stands for the
/// capability numbered `n` (``Capability/chown`` is bit 0).
///
/// Iteration visits the capabilities in ascending order.
public struct CapabilitySet: RawRepresentable, Hashable, Sendable, SetAlgebra, Sequence, ExpressibleByArrayLiteral,
    CustomStringConvertible
{
    /// The mask, as `capget(2)` and `/proc/<pid>/status` show it.
    public var rawValue: UInt64

    /// The set whose mask is `rawValue`; every bit stands for a capability, supported or not.
    ///
    /// - Parameters:
    ///   - rawValue: the raw value.
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// The empty set.
    public init() { rawValue = 0 }

    /// The set of the given capabilities.
    ///
    /// - Parameters:
    ///   - capabilities: the capabilities.
    public init(arrayLiteral capabilities: Capability...) {
        self.init(capabilities)
    }

    /// Every capability the running kernel supports, `0...Capability.lastSupported`.
    public static var allSupported: CapabilitySet { runningKernelAll }

    /// ``allSupported``, computed once.
    private static let runningKernelAll = CapabilitySet(through: Capability.lastSupported)

    /// The capabilities `0...last`.
    init(through last: Capability) {
        rawValue = last.rawValue == Capability.highestBit ? .max : (1 << UInt64(last.rawValue + 1)) - 1
    }

    /// The mask bit of `capability`.
    private static func bit(_ capability: Capability) -> UInt64 { 1 << UInt64(capability.rawValue) }

    /// The number of capabilities in the set.
    public var count: Int { rawValue.nonzeroBitCount }

    /// True when the set holds no capability.
    public var isEmpty: Bool { rawValue == 0 }

    /// The capabilities' names separated by commas, in ascending order, such as
    /// `"cap_chown,cap_setuid"`; `"none"` for the empty set.
    ///
    /// ``init(parsing:)`` reads it back, for capabilities the running kernel supports.
    public var description: String {
        isEmpty ? "none" : map(\.name).joined(separator: ",")
    }

    /// Parses a comma-separated list of capability names or numbers, as
    /// ``Capability/init(parsing:)`` reads them, with optional spaces around the commas
    /// (`"cap_chown, setuid,7"`); or `"all"` (``allSupported``) or `"none"` alone.
    ///
    /// A capability listed twice is in the set once.
    ///
    /// - Parameters:
    ///   - text: a comma-separated list of capability names or numbers, `all` or `none`.
    /// - Throws: ``AllThreadsError/Code/argumentRejected`` for an empty text or list item,
    ///   `all` or `none` among other items, and anything ``Capability/init(parsing:)`` rejects.
    public init(parsing text: String) throws(AllThreadsError) {
        self = try Self.parse(text, lastSupported: Capability.lastSupported)
    }

    /// Parses `text` against a kernel whose highest capability is `last`.
    static func parse(_ text: String, lastSupported last: Capability) throws(AllThreadsError) -> CapabilitySet {
        let items = text.split(separator: ",", omittingEmptySubsequences: false).map { item in
            String(item.drop { $0 == " " }.dropLast(item.reversed().prefix { $0 == " " }.count))
        }
        guard items.contains(where: { !$0.isEmpty }) else {
            throw .invalidArgument("empty capability list \(Capability.quoted(text)); write 'none' for no capabilities")
        }
        var set = CapabilitySet()
        for item in items {
            // ASCII case folding only, as for capability names.
            let folded = String(decoding: item.utf8.map { (65...90).contains($0) ? $0 | 0x20 : $0 }, as: UTF8.self)
            switch folded {
            case "all", "none":
                guard items.count == 1 else {
                    throw .invalidArgument(
                        "\(Capability.quoted(item)) must stand alone in the capability list \(Capability.quoted(text))")
                }
                return folded == "all" ? CapabilitySet(through: last) : CapabilitySet()
            case "":
                throw .invalidArgument("empty item in the capability list \(Capability.quoted(text))")
            default:
                set.insert(try Capability.parse(item, lastSupported: last))
            }
        }
        return set
    }

    // MARK: SetAlgebra

    /// True when the set holds `capability`.
    ///
    /// - Parameters:
    ///   - capability: the capability.
    public func contains(_ capability: Capability) -> Bool { rawValue & Self.bit(capability) != 0 }

    /// The capabilities in either set.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public func union(_ other: CapabilitySet) -> CapabilitySet { CapabilitySet(rawValue: rawValue | other.rawValue) }

    /// The capabilities in both sets.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public func intersection(_ other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(rawValue: rawValue & other.rawValue)
    }

    /// The capabilities in exactly one of the sets.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public func symmetricDifference(_ other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(rawValue: rawValue ^ other.rawValue)
    }

    /// The capabilities in this set and not in `other`.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public func subtracting(_ other: CapabilitySet) -> CapabilitySet {
        CapabilitySet(rawValue: rawValue & ~other.rawValue)
    }

    /// Adds `capability`; returns whether it was new, and the capability.
    ///
    /// - Parameters:
    ///   - capability: the capability.
    @discardableResult
    public mutating func insert(_ capability: Capability) -> (inserted: Bool, memberAfterInsert: Capability) {
        let inserted = !contains(capability)
        rawValue |= Self.bit(capability)
        return (inserted, capability)
    }

    /// Removes `capability`; returns it when it was in the set, else `nil`.
    ///
    /// - Parameters:
    ///   - capability: the capability.
    @discardableResult
    public mutating func remove(_ capability: Capability) -> Capability? {
        guard contains(capability) else { return nil }
        rawValue &= ~Self.bit(capability)
        return capability
    }

    /// Adds `capability`; returns it when it was already in the set, else `nil`.
    ///
    /// - Parameters:
    ///   - capability: the capability.
    @discardableResult
    public mutating func update(with capability: Capability) -> Capability? {
        insert(capability).inserted ? nil : capability
    }

    /// Adds the capabilities of `other`.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public mutating func formUnion(_ other: CapabilitySet) { rawValue |= other.rawValue }

    /// Keeps only the capabilities also in `other`.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public mutating func formIntersection(_ other: CapabilitySet) { rawValue &= other.rawValue }

    /// Keeps the capabilities in exactly one of the sets.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public mutating func formSymmetricDifference(_ other: CapabilitySet) { rawValue ^= other.rawValue }

    /// Removes the capabilities of `other`.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public mutating func subtract(_ other: CapabilitySet) { rawValue &= ~other.rawValue }

    /// True when every capability of this set is in `other`.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public func isSubset(of other: CapabilitySet) -> Bool { rawValue & ~other.rawValue == 0 }

    /// True when every capability of `other` is in this set.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public func isSuperset(of other: CapabilitySet) -> Bool { other.isSubset(of: self) }

    /// True when the sets have no capability in common.
    ///
    /// - Parameters:
    ///   - other: the other set.
    public func isDisjoint(with other: CapabilitySet) -> Bool { rawValue & other.rawValue == 0 }

    // MARK: Sequence

    /// Visits a set's capabilities in ascending order.
    public struct Iterator: IteratorProtocol, Sendable {
        /// The bits not visited yet.
        var remaining: UInt64

        /// The lowest capability not visited yet; `nil` at the end.
        public mutating func next() -> Capability? {
            guard remaining != 0 else { return nil }
            let bit = remaining.trailingZeroBitCount
            remaining &= remaining - 1
            return Capability(rawValue: Int32(bit))
        }
    }

    /// An iterator over the capabilities in ascending order.
    public func makeIterator() -> Iterator { Iterator(remaining: rawValue) }

    /// The number of capabilities in the set.
    public var underestimatedCount: Int { count }
}
