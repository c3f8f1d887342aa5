import AllThreads
import CAuxiliaryVector
import Glibc

/// How the kernel started this process, as far as it decides whether a tool that changes
/// credentials on request may run.
///
/// The kernel starts a program in secure-execution mode (`AT_SECURE` in its auxiliary vector)
/// when the exec gave it privileges its caller did not have: a set-user-ID or set-group-ID file,
/// file capabilities, or an LSM transition. Whoever runs the program still chooses its arguments
/// and environment, so such a program would hand those privileges to any local user.
package struct SecureExecution: Sendable, Hashable {
    /// Whether the kernel started the process in secure-execution mode (`AT_SECURE`).
    package var atSecure: Bool
    /// The real user id.
    package var uid: uid_t
    /// The effective user id.
    package var euid: uid_t
    /// The real group id.
    package var gid: gid_t
    /// The effective group id.
    package var egid: gid_t

    /// A state given field by field (to decide about a state other than this process's).
    package init(atSecure: Bool, uid: uid_t, euid: uid_t, gid: gid_t, egid: gid_t) {
        self.atSecure = atSecure
        self.uid = uid
        self.euid = euid
        self.gid = gid
        self.egid = egid
    }

    /// This process's state: `AT_SECURE` from the auxiliary vector and the calling thread's ids.
    package static func current() -> SecureExecution {
        SecureExecution(atSecure: cav_secure_execution() != 0, uid: getuid(), euid: geteuid(), gid: getgid(), egid: getegid())
    }

    /// Why a process in this state must refuse to run; `nil` when it may run.
    ///
    /// Differing ids are named first (they say which bit the file carries); `AT_SECURE` alone
    /// covers file capabilities and LSM transitions, where the ids agree.
    package var refusal: Refusal? {
        if uid != euid { return .setUserID(real: uid, effective: euid) }
        if gid != egid { return .setGroupID(real: gid, effective: egid) }
        if atSecure { return .secureExecution }
        return nil
    }

    /// Throws unless a process in this state may run.
    ///
    /// - Throws: ``Refusal``, why not.
    package func requireOrdinary() throws(Refusal) {
        if let refusal { throw refusal }
    }
}

extension SecureExecution {
    /// Why a process must not run: the exec gave it privileges its caller did not have.
    package enum Refusal: Error, Sendable, Hashable, CustomStringConvertible {
        /// The real and effective user ids differ: the file is set-user-ID.
        case setUserID(real: uid_t, effective: uid_t)
        /// The real and effective group ids differ: the file is set-group-ID.
        case setGroupID(real: gid_t, effective: gid_t)
        /// The ids agree but the kernel set `AT_SECURE`: file capabilities or an LSM transition.
        case secureExecution

        /// One line: what was found, and what to do instead.
        package var description: String {
            let why: String
            switch self {
            case .setUserID(let real, let effective):
                why = "set-user-ID (real uid \(real), effective uid \(effective))"
            case .setGroupID(let real, let effective):
                why = "set-group-ID (real gid \(real), effective gid \(effective))"
            case .secureExecution:
                why = "in secure-execution mode (AT_SECURE: file capabilities or an LSM transition gave it privileges its caller lacks)"
            }
            return "refusing to run \(why): whoever runs it chooses its arguments, so it would hand those privileges to any local user;"
                + " run it with sudo, or from a process that already holds the privileges"
        }
    }
}
