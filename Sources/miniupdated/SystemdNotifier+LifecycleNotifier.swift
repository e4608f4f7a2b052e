import MiniupdateDaemon
import MiniupdateSystemd

// Where the daemon's life cycle meets libsystemd: the one place that knows both.
extension SystemdNotifier: LifecycleNotifier {}
