import AllThreadsCLISupport
import CFaults
import CWorkload

/// Continuous thread creation and exit: creator threads that each create and join
/// short-lived children (now and then a few at once) until ``stop()``.
public enum ThreadChurn {
    /// Starts `creators` creator threads; throws if churn already runs or a creator cannot start.
    /// Resets ``created``.
    public static func start(creators: Int) throws(WorkloadError) {
        guard let n = Int32(exactly: creators) else { throw .startFailed("churn: \(creators) creators is out of range") }
        let result = cw_churn_start(n)
        if result < 0 { throw .startFailed("churn with \(creators) creators: \(errnoText(result))") }
    }

    /// Stops the churn and joins the creators (within a few seconds); does nothing if none runs.
    public static func stop() {
        cw_churn_stop()
    }

    /// Children created since the last ``start(creators:)``.
    public static var created: UInt {
        UInt(cw_churn_created())
    }
}
