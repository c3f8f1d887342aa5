/// The five capability sets (CapInh, CapPrm, CapEff, CapBnd, CapAmb).
///
/// Each is the kernel's 64-bit mask: bit `n` stands for capability number `n` (`CAP_CHOWN` is bit 0).
public struct CapabilitySets: Sendable, Hashable {
    /// `CapInh`: capabilities kept across `execve` for programs with matching file capabilities.
    public var inheritable: CapabilitySet
    /// `CapPrm`: the limit on the effective set.
    public var permitted: CapabilitySet
    /// `CapEff`: the capabilities the kernel checks.
    public var effective: CapabilitySet
    /// `CapBnd`: the bounding set.
    public var bounding: CapabilitySet
    /// `CapAmb`: capabilities kept across `execve` of unprivileged programs.
    public var ambient: CapabilitySet

    /// Creates capability sets from the five sets.
    ///
    /// - Parameters:
    ///   - inheritable: the inheritable set.
    ///   - permitted: the permitted set.
    ///   - effective: the effective set.
    ///   - bounding: the bounding set.
    ///   - ambient: the ambient set.
    public init(
        inheritable: CapabilitySet, permitted: CapabilitySet, effective: CapabilitySet, bounding: CapabilitySet,
        ambient: CapabilitySet
    ) {
        self.inheritable = inheritable
        self.permitted = permitted
        self.effective = effective
        self.bounding = bounding
        self.ambient = ambient
    }
}
