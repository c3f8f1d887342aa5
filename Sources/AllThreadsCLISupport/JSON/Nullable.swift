/// A value that the CLI's JSON writes as `null` when it is missing, rather than leaving the key
/// out (what synthesized `Encodable` does with a plain optional).
@propertyWrapper
package struct Nullable<Value: Encodable & Sendable>: Encodable, Sendable {
    /// The value, or `nil` for `null`.
    package var wrappedValue: Value?

    /// Wraps `wrappedValue`.
    package init(wrappedValue: Value?) { self.wrappedValue = wrappedValue }

    /// The value, or `null`.
    package func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if let wrappedValue { try container.encode(wrappedValue) } else { try container.encodeNil() }
    }
}
