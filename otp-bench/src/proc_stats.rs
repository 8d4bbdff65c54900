//! Resident-memory readings of the current process, from `/proc/self/status` (Linux).

use std::fs;

/// Reads one `kB` field (`VmRSS`, `VmHWM`, ...) of `/proc/self/status`, in bytes.
///
/// Returns `None` where the file or the field is missing (a system that is not Linux).
pub fn status_field_bytes(field: &str) -> Option<u64> {
    let status = fs::read_to_string("/proc/self/status").ok()?;
    parse_status_field(&status, field)
}

/// Extracts the `kB` field `field` from the text of a `/proc/<pid>/status` file, in bytes.
pub fn parse_status_field(status: &str, field: &str) -> Option<u64> {
    status.lines().find_map(|line| {
        let rest = line.strip_prefix(field)?.strip_prefix(':')?;
        let kib: u64 = rest.trim().strip_suffix("kB")?.trim().parse().ok()?;
        Some(kib * 1024)
    })
}

/// Current resident set size (`VmRSS`), in bytes; 0 where it cannot be read.
pub fn rss_bytes() -> u64 {
    status_field_bytes("VmRSS").unwrap_or(0)
}

/// Peak resident set size so far (`VmHWM`), in bytes; 0 where it cannot be read.
pub fn peak_rss_bytes() -> u64 {
    status_field_bytes("VmHWM").unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_kb_fields() {
        let text = "Name:\tcompare\nVmHWM:\t  20480 kB\nVmRSS:\t   10240 kB\n";
        assert_eq!(parse_status_field(text, "VmRSS"), Some(10240 * 1024));
        assert_eq!(parse_status_field(text, "VmHWM"), Some(20480 * 1024));
        assert_eq!(parse_status_field(text, "VmSwap"), None);
    }

    #[test]
    fn reads_own_rss() {
        if cfg!(target_os = "linux") {
            // The resident set first, the peak after: the peak only grows, so it is at least
            // what was resident before it was read (read the other way, other threads of the
            // test binary can grow the resident set in between).
            let rss = rss_bytes();
            let peak = peak_rss_bytes();
            assert!(rss > 0);
            assert!(peak >= rss, "peak {peak} < resident {rss}");
        }
    }
}
