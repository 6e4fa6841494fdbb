//! Byte sizes as people write them (`4097`, `64KiB`, `8MiB`, `1.5M`) and as
//! the reports print them.

/// Parses a byte count: a plain integer, or a number with a unit. Binary
/// units (KiB, MiB, GiB, and the shorthands K, M, G, KB, MB, GB) are powers of
/// 1024, as file and buffer sizes are; `B` means bytes.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    if t.is_empty() {
        return Err("empty size".into());
    }
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (num, unit) = t.split_at(split);
    let unit = unit.trim();
    let mult: u64 = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" | "kib" => 1 << 10,
        "m" | "mb" | "mib" => 1 << 20,
        "g" | "gb" | "gib" => 1 << 30,
        _ => {
            return Err(format!(
                "unknown unit {unit:?} in {text:?} (use B, KiB, MiB or GiB)"
            ));
        }
    };
    if num.is_empty() {
        return Err(format!("no number in {text:?}"));
    }
    let bytes = if num.contains('.') {
        let v: f64 = num
            .parse()
            .map_err(|_| format!("{text:?} is not a number"))?;
        let b = v * mult as f64;
        if !b.is_finite() || b > u64::MAX as f64 || b.fract() != 0.0 {
            return Err(format!("{text:?} is not a whole number of bytes"));
        }
        b as u64
    } else {
        let v: u64 = num
            .parse()
            .map_err(|_| format!("{text:?} is not a number"))?;
        v.checked_mul(mult)
            .ok_or_else(|| format!("{text:?} is too large"))?
    };
    Ok(bytes)
}

/// Formats bytes compactly with binary units: `512 B`, `64 KiB`, `8 MiB`, `1.5 MiB`.
pub fn fmt_bytes(bytes: u64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let mut v = bytes as f64;
    let mut u = 0;
    while v >= 1024.0 && u + 1 < UNITS.len() {
        v /= 1024.0;
        u += 1;
    }
    if u == 0 {
        format!("{bytes} B")
    } else if (v - v.round()).abs() < 0.05 {
        format!("{} {}", v.round() as u64, UNITS[u])
    } else {
        format!("{v:.1} {}", UNITS[u])
    }
}

/// Formats nanoseconds as ms or s with sensible precision.
pub fn fmt_ns(ns: u64) -> String {
    let ms = ns as f64 / 1e6;
    if ms < 10.0 {
        format!("{ms:.2} ms")
    } else if ms < 1000.0 {
        format!("{ms:.0} ms")
    } else {
        format!("{:.2} s", ms / 1000.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_and_units() {
        assert_eq!(parse_size("4097"), Ok(4097));
        assert_eq!(parse_size("64KiB"), Ok(65536));
        assert_eq!(parse_size("64k"), Ok(65536));
        assert_eq!(parse_size("8MiB"), Ok(8 << 20));
        assert_eq!(parse_size("8 MB"), Ok(8 << 20));
        assert_eq!(parse_size("1.5M"), Ok(3 << 19));
        assert_eq!(parse_size("1G"), Ok(1 << 30));
        assert_eq!(parse_size("12B"), Ok(12));
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_size("").is_err());
        assert!(parse_size("MiB").is_err());
        assert!(parse_size("12 parsecs").is_err());
        assert!(parse_size("-5").is_err());
        assert!(parse_size("0.3B").is_err());
        assert!(parse_size("99999999999999999999").is_err());
        assert!(parse_size("20000000000G").is_err());
    }

    #[test]
    fn formats() {
        assert_eq!(fmt_bytes(512), "512 B");
        assert_eq!(fmt_bytes(65536), "64 KiB");
        assert_eq!(fmt_bytes(8 << 20), "8 MiB");
        assert_eq!(fmt_bytes(3 << 19), "1.5 MiB");
        assert_eq!(fmt_ns(1_500_000), "1.50 ms");
        assert_eq!(fmt_ns(2_500_000_000), "2.50 s");
    }
}
