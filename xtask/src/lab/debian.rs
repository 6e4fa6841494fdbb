//! Debian's kernels, found by package name in the archive's indexes.
//!
//! A Debian kernel release (`6.1.0-50-amd64`, `7.3.4+deb13-amd64`) lives in
//! `linux-image-REL` (vmlinuz and modules, until 6.19), or, since the
//! split, in `linux-binary-REL` (vmlinuz), `linux-modules-REL` and
//! `linux-base-REL` (`modules.builtin` and the like), `linux-image-REL`
//! then being an empty meta-package.
//! The lab asks each suite's `Packages.xz` which releases exist, picks the
//! newest of the series asked for by the upstream version in the package's
//! `Version` field, and unpacks whatever of the three packages exist with
//! `dpkg-deb -x`. Nothing is installed on this machine.
//!
//! The archive is the one this machine's apt already uses (read from its
//! sources), or `ZC_LAB_MIRROR`.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

use anyhow::{Context as _, Result, bail};

use crate::cmd;

/// The suites searched, oldest first: Debian 11, 12, 13, 13's backports and
/// unstable. A series is found in whichever holds it.
pub const SUITES: [&str; 5] = ["bullseye", "bookworm", "trixie", "trixie-backports", "sid"];

/// An index older than this is fetched again (the archive changes daily).
const INDEX_MAX_AGE: Duration = Duration::from_secs(12 * 3600);

/// A kernel series as a person names it: `6.1`, `6.12`, or `7.x` (the newest
/// of major 7).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Series {
    pub major: u32,
    pub minor: Option<u32>,
}

impl Series {
    pub fn parse(text: &str) -> Option<Series> {
        let (major, minor) = text.split_once('.')?;
        let major = major.parse().ok()?;
        let minor = if minor == "x" {
            None
        } else {
            Some(minor.parse().ok()?)
        };
        Some(Series { major, minor })
    }

    fn holds(&self, upstream: &[u32]) -> bool {
        upstream.first() == Some(&self.major)
            && self.minor.is_none_or(|m| upstream.get(1) == Some(&m))
    }
}

impl std::fmt::Display for Series {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.minor {
            Some(m) => write!(f, "{}.{m}", self.major),
            None => write!(f, "{}.x", self.major),
        }
    }
}

/// One binary package as an index lists it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Package {
    pub name: String,
    pub version: String,
    pub filename: String,
    pub sha256: String,
}

/// A kernel release found in a suite, with the packages that hold it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Release {
    /// What `uname -r` will say: `6.1.0-50-amd64`.
    pub name: String,
    /// The Debian version of its packages: `6.1.176-1`.
    pub version: String,
    pub suite: &'static str,
    pub packages: Vec<Package>,
}

impl Release {
    /// The upstream version, `6.1.176`.
    pub fn upstream(&self) -> &str {
        upstream(&self.version)
    }
}

fn upstream(version: &str) -> &str {
    let v = version.split_once(':').map_or(version, |(_, v)| v);
    v.split(['-', '~', '+']).next().unwrap_or(v)
}

fn numbers(upstream: &str) -> Vec<u32> {
    upstream.split('.').filter_map(|n| n.parse().ok()).collect()
}

/// The packages of a `Packages` index (paragraphs of `Field: value`).
pub fn parse_index(text: &str) -> Vec<Package> {
    text.split("\n\n")
        .filter_map(|para| {
            let field = |key: &str| {
                para.lines()
                    .find_map(|l| l.strip_prefix(key)?.strip_prefix(": "))
                    .map(str::to_owned)
            };
            Some(Package {
                name: field("Package")?,
                version: field("Version")?,
                filename: field("Filename")?,
                sha256: field("SHA256").unwrap_or_default(),
            })
        })
        .collect()
}

/// The release name of a generic amd64 kernel package (`linux-image-REL` or
/// `linux-binary-REL`), or None for anything else (rt, cloud, debug, meta
/// packages without a release, other architectures).
fn release_of(package: &str) -> Option<&str> {
    let rel = package
        .strip_prefix("linux-image-")
        .or_else(|| package.strip_prefix("linux-binary-"))?;
    let generic = rel.ends_with("-amd64")
        && rel.starts_with(|c: char| c.is_ascii_digit())
        && !rel.contains("-rt-")
        && !rel.contains("-cloud-");
    generic.then_some(rel)
}

/// The newest release of `series` among `packages` (one suite's index).
pub fn newest(series: Series, suite: &'static str, packages: &[Package]) -> Option<Release> {
    let best = packages
        .iter()
        .filter_map(|p| Some((release_of(&p.name)?, p)))
        .filter(|(_, p)| series.holds(&numbers(upstream(&p.version))))
        .max_by(|(_, a), (_, b)| {
            numbers(upstream(&a.version)).cmp(&numbers(upstream(&b.version)))
        })?;
    let (rel, chosen) = best;
    let wanted = [
        format!("linux-image-{rel}"),
        format!("linux-binary-{rel}"),
        format!("linux-modules-{rel}"),
        format!("linux-base-{rel}"),
    ];
    let holding = packages
        .iter()
        .filter(|p| wanted.contains(&p.name) && p.version == chosen.version)
        .cloned()
        .collect();
    Some(Release {
        name: rel.to_owned(),
        version: chosen.version.clone(),
        suite,
        packages: holding,
    })
}

/// The Debian archive: `ZC_LAB_MIRROR`, or the one this machine's apt uses.
pub fn mirror() -> Result<String> {
    if let Some(m) = std::env::var_os("ZC_LAB_MIRROR").filter(|m| !m.is_empty()) {
        return Ok(m.to_string_lossy().trim_end_matches('/').to_owned());
    }
    let mut texts: Vec<String> = fs::read_to_string("/etc/apt/sources.list")
        .into_iter()
        .collect();
    if let Ok(dir) = fs::read_dir("/etc/apt/sources.list.d") {
        let mut paths: Vec<_> = dir.flatten().map(|e| e.path()).collect();
        paths.sort();
        texts.extend(paths.iter().filter_map(|p| fs::read_to_string(p).ok()));
    }
    texts
        .iter()
        .find_map(|t| archive_in_sources(t))
        .context("no Debian archive in /etc/apt/sources.list{,.d}: set ZC_LAB_MIRROR to one (its URL ends in /debian)")
}

/// The first archive URI ending in `/debian` in an apt sources text, in
/// either format (`deb URI suite ...` lines or deb822 `URIs:` fields).
pub fn archive_in_sources(text: &str) -> Option<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with('#'))
        .flat_map(|l| {
            let uris: Vec<&str> = if let Some(rest) = l.strip_prefix("URIs:") {
                rest.split_whitespace().collect()
            } else if let Some(rest) = l.strip_prefix("deb ") {
                // `deb [options] URI suite components`
                let rest = rest.trim_start();
                let rest = match rest.strip_prefix('[') {
                    Some(r) => r.split_once(']').map_or("", |(_, after)| after),
                    None => rest,
                };
                rest.split_whitespace().take(1).collect()
            } else {
                Vec::new()
            };
            uris.into_iter()
        })
        .map(|u| u.trim_end_matches('/'))
        .find(|u| u.rsplit('/').next() == Some("debian"))
        .map(str::to_owned)
}

/// One suite's index, fetched into `cache` unless a fresh copy is there.
pub fn index(cache: &Path, mirror: &str, suite: &str) -> Result<Vec<Package>> {
    let dir = cache.join("index");
    fs::create_dir_all(&dir).with_context(|| format!("cannot create {}", dir.display()))?;
    let path = dir.join(format!("{suite}.Packages"));
    let fresh = fs::metadata(&path)
        .and_then(|m| m.modified())
        .is_ok_and(|t| {
            SystemTime::now()
                .duration_since(t)
                .is_ok_and(|age| age < INDEX_MAX_AGE)
        });
    if !fresh {
        let url = format!("{mirror}/dists/{suite}/main/binary-amd64/Packages.xz");
        let xz = dir.join(format!("{suite}.Packages.xz"));
        download(&url, &xz)?;
        let text = cmd::probe(Command::new("xz").arg("-dc").arg(&xz))
            .with_context(|| format!("cannot decompress {}", xz.display()))?;
        if !text.status.success() {
            bail!("{} is not a valid xz file", xz.display());
        }
        write_atomically(&path, &text.stdout)?;
        let _ = fs::remove_file(&xz);
    }
    let text =
        fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
    Ok(parse_index(&text))
}

/// The newest release of `series` in any suite.
pub fn find(cache: &Path, mirror: &str, series: Series) -> Result<Release> {
    let mut best: Option<Release> = None;
    for suite in SUITES {
        let packages = index(cache, mirror, suite)?;
        if let Some(r) = newest(series, suite, &packages)
            && best
                .as_ref()
                .is_none_or(|b| numbers(r.upstream()) > numbers(b.upstream()))
        {
            best = Some(r);
        }
    }
    best.with_context(|| {
        format!(
            "no Debian kernel of series {series} in {} (linux-image-* or linux-binary-*, amd64)",
            SUITES.join(", ")
        )
    })
}

/// Downloads `url` to `dest` (through a temporary name, so an interrupted
/// download never looks complete).
pub fn download(url: &str, dest: &Path) -> Result<()> {
    let part = dest.with_extension("part");
    cmd::run(
        Command::new("curl")
            .args(["-fsSL", "--retry", "2", "-o"])
            .arg(&part)
            .arg(url),
    )
    .with_context(|| format!("downloading {url} failed"))?;
    fs::rename(&part, dest).with_context(|| format!("cannot rename to {}", dest.display()))
}

/// Checks a file's SHA-256 against the index's.
pub fn verify(path: &Path, sha256: &str) -> Result<()> {
    if sha256.is_empty() {
        return Ok(());
    }
    let out = cmd::probe_stdout(Command::new("sha256sum").arg(path))?;
    let have = out.split_whitespace().next().unwrap_or("");
    if have != sha256 {
        bail!(
            "{} has SHA-256 {have}, the archive's index says {sha256}",
            path.display()
        );
    }
    Ok(())
}

fn write_atomically(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    fs::write(&tmp, bytes).with_context(|| format!("cannot write {}", tmp.display()))?;
    fs::rename(&tmp, path).with_context(|| format!("cannot rename to {}", path.display()))
}

/// Where a release's unpacked packages put the kernel image.
pub fn vmlinuz_in(root: &Path, release: &str) -> Option<PathBuf> {
    [
        root.join("boot").join(format!("vmlinuz-{release}")),
        root.join("usr/lib/modules").join(release).join("vmlinuz"),
        root.join("lib/modules").join(release).join("vmlinuz"),
    ]
    .into_iter()
    .find(|p| p.is_file())
}

/// Where they put the modules.
pub fn modules_in(root: &Path, release: &str) -> Option<PathBuf> {
    [
        root.join("lib/modules").join(release),
        root.join("usr/lib/modules").join(release),
    ]
    .into_iter()
    .find(|p| p.join("kernel").is_dir())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str) -> Package {
        Package {
            name: name.into(),
            version: version.into(),
            filename: format!("pool/{name}.deb"),
            sha256: String::new(),
        }
    }

    #[test]
    fn series_parse_and_match() {
        let s = Series::parse("6.1").expect("6.1");
        assert!(s.holds(&[6, 1, 176]));
        assert!(!s.holds(&[6, 12, 117]), "6.1 is not 6.12");
        let x = Series::parse("7.x").expect("7.x");
        assert!(x.holds(&[7, 3, 4]) && x.holds(&[7, 2, 13]) && !x.holds(&[6, 18]));
        assert_eq!(Series::parse("6"), None);
        assert_eq!(Series::parse("six.1"), None);
        assert_eq!(x.to_string(), "7.x");
    }

    #[test]
    fn the_newest_generic_release_wins_and_brings_its_split_packages() {
        let index = [
            pkg("linux-image-6.1.0-47-amd64", "6.1.170-1"),
            pkg("linux-image-6.1.0-50-amd64", "6.1.176-1"),
            pkg("linux-image-6.1.0-51-rt-amd64", "6.1.180-1"),
            pkg("linux-image-6.1.0-51-cloud-amd64", "6.1.180-1"),
            pkg("linux-image-6.12.117+deb13-amd64", "6.12.117-1"),
            pkg("linux-image-amd64", "6.1.176-1"),
            pkg("linux-binary-7.2.12+deb13-amd64", "7.2.12-1~bpo13+1"),
            pkg("linux-binary-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1"),
            pkg("linux-modules-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1"),
            pkg("linux-image-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1"),
            pkg("linux-base-7.3.4+deb13-amd64", "7.3.4-1~bpo13+1"),
            pkg("linux-base-7.3.4+deb13-rt-amd64", "7.3.4-1~bpo13+1"),
        ];
        let r = newest(Series::parse("6.1").expect("s"), "bookworm", &index).expect("6.1");
        assert_eq!(r.name, "6.1.0-50-amd64");
        assert_eq!(r.upstream(), "6.1.176");
        assert_eq!(r.packages.len(), 1);
        let r = newest(Series::parse("7.x").expect("s"), "trixie-backports", &index).expect("7");
        assert_eq!(r.name, "7.3.4+deb13-amd64");
        assert_eq!(r.upstream(), "7.3.4");
        let mut names: Vec<_> = r.packages.iter().map(|p| p.name.as_str()).collect();
        names.sort_unstable();
        assert_eq!(
            names,
            [
                "linux-base-7.3.4+deb13-amd64",
                "linux-binary-7.3.4+deb13-amd64",
                "linux-image-7.3.4+deb13-amd64",
                "linux-modules-7.3.4+deb13-amd64"
            ]
        );
        assert_eq!(newest(Series::parse("5.10").expect("s"), "x", &index), None);
    }

    #[test]
    fn an_index_paragraph_gives_its_fields() {
        let text = "Package: linux-image-6.1.0-50-amd64\nSource: linux-signed-amd64\nVersion: 6.1.176-1\nFilename: pool/main/l/x.deb\nSize: 70305560\nSHA256: abc\n\nPackage: broken\n";
        let p = parse_index(text);
        assert_eq!(p.len(), 1);
        assert_eq!(p[0].filename, "pool/main/l/x.deb");
        assert_eq!(p[0].sha256, "abc");
    }

    #[test]
    fn the_archive_is_read_from_apt_sources_in_both_formats() {
        let deb822 = "Types: deb\n# a comment\nURIs: http://mirror.example/debian\nSuites: bookworm\n\nTypes: deb\nURIs: http://mirror.example/debian-security\n";
        assert_eq!(
            archive_in_sources(deb822).as_deref(),
            Some("http://mirror.example/debian")
        );
        let classic = "# deb http://old.example/debian bookworm main\ndeb [arch=amd64 signed-by=/k.gpg] http://m.example/debian/ bookworm main\n";
        assert_eq!(
            archive_in_sources(classic).as_deref(),
            Some("http://m.example/debian")
        );
        assert_eq!(
            archive_in_sources("deb https://other.example/apt stable main"),
            None
        );
    }
}
