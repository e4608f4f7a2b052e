/// This release of miniupdate. The one place its version is written: every command's
/// `--version`, the daemon's `status`, and `packaging/build-deb.sh` (which names the
/// .deb after it and checks `packaging/debian/changelog` against it) read it here.
public enum MiniupdateRelease {
    /// The release's semantic version, such as `0.1.0`.
    public static let version = "0.1.0"
}
