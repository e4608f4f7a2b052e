#if canImport(Glibc)
import Glibc
#endif
import Logging

/// The daemon holds one descriptor per client. systemd and most shells start services
/// with a soft limit of 1,024 open files (for `select(2)`, which nothing here uses) and a
/// far higher hard limit; raise the soft limit to what `max-clients` needs, as far as the
/// hard limit allows.
enum OpenFileLimit {
    /// Descriptors the daemon needs besides its clients: the listener, the journal, the
    /// repository connections, files being written.
    static let reserve = 64

    static func raise(toServe clients: Int, logger: Logger) {
        var limit = rlimit()
        guard getrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &limit) == 0 else { return }
        let wanted = rlim_t(clients + reserve)
        guard limit.rlim_cur < wanted else { return }
        let target = min(wanted, limit.rlim_max)
        var raised = limit
        raised.rlim_cur = target
        if setrlimit(__rlimit_resource_t(RLIMIT_NOFILE.rawValue), &raised) != 0 || target < wanted {
            logger.warning("max-clients is \(clients), but only \(target) files can be open (LimitNOFILE); clients beyond that are refused")
        }
    }
}
