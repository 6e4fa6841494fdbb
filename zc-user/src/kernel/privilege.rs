//! Whether this process may trace live: the capabilities it holds.
//!
//! Loading tracing programs needs CAP_BPF + CAP_PERFMON (or CAP_SYS_ADMIN);
//! making network namespaces and mounting tracefs privately needs
//! CAP_SYS_ADMIN; the veth pair needs CAP_NET_ADMIN. zc checks the effective
//! set itself rather than the uid, so root with capabilities dropped is
//! refused with the same clear line as an ordinary user.

const CAP_NET_ADMIN: u32 = 12;
const CAP_SYS_ADMIN: u32 = 21;

/// The effective capability mask of this process, from /proc/self/status.
pub fn effective() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    parse_cap_eff(&status)
}

fn parse_cap_eff(status: &str) -> Option<u64> {
    let line = status.lines().find(|l| l.starts_with("CapEff:"))?;
    u64::from_str_radix(line.trim_start_matches("CapEff:").trim(), 16).ok()
}

/// Capabilities zc needs and lacks, by name (empty when it can trace).
pub fn missing() -> Vec<&'static str> {
    missing_from(effective().unwrap_or(0))
}

fn missing_from(eff: u64) -> Vec<&'static str> {
    let has = |bit: u32| eff & (1u64 << bit) != 0;
    let mut out = Vec::new();
    if !has(CAP_SYS_ADMIN) {
        out.push("CAP_SYS_ADMIN");
    }
    if !has(CAP_NET_ADMIN) {
        out.push("CAP_NET_ADMIN");
    }
    out
}

/// The one-line refusal for a process that cannot trace.
pub fn refusal(missing: &[&str]) -> String {
    format!(
        "tracing live needs root (missing {}): run `sudo zc ...`, or `zc doctor` to see what this machine allows",
        missing.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_cap_eff() {
        let s = "Name:\tzc\nCapInh:\t0000000000000000\nCapEff:\t000001ffffffffff\n";
        assert_eq!(parse_cap_eff(s), Some(0x1ff_ffff_ffff));
        assert!(missing_from(0x1ff_ffff_ffff).is_empty());
        assert_eq!(missing_from(0), vec!["CAP_SYS_ADMIN", "CAP_NET_ADMIN"]);
    }
}
