//! Borrowing two real network interfaces for the demo (`zc demo --nic TX,RX`).
//!
//! A veth copies nothing and maps nothing for DMA, so the article's last
//! arrow (the NIC's engine reading the packet out of memory) never happens
//! on it. Two real NICs cabled back to back (or joined by a hub in the
//! kernel lab) do it for every packet.
//!
//! - A network device lives in exactly one network namespace. zc moves each
//!   NIC into one of its own anonymous namespaces (`IFLA_NET_NS_FD`), gives
//!   it the demo's /30 address there, and the host stops seeing it.
//! - When a namespace dies, the kernel (`default_device_exit_net`) pushes
//!   every device that is not virtual back to the *initial* namespace, down
//!   and without addresses, under its own name (or `devN` if the host took
//!   the name meanwhile). zc's namespaces die with the zc process however it
//!   ends, SIGKILL included, so the NICs always come back.
//! - A virtual device (veth, dummy, bridge: anything with a link kind) is
//!   deleted with the namespace instead, so zc refuses one: borrowing it
//!   would destroy it. So is a NIC that carries the host's traffic (up with
//!   addresses, or the device of a default route), and any NIC when zc
//!   itself is not in the initial namespace (the NIC would not come back
//!   here).

use std::fmt;
use std::path::Path;

use anyhow::{Context, Result};
use futures::TryStreamExt;
use rtnetlink::packet_route::address::AddressAttribute;
use rtnetlink::packet_route::link::{LinkAttribute, LinkFlags, LinkInfo};

/// `--nic`: two named interfaces, or the two the machine has free.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum NicChoice {
    /// Sender's interface, receiver's interface.
    Named { tx: String, rx: String },
    /// The first two free physical interfaces (see [`pick`]).
    Auto,
}

impl std::str::FromStr for NicChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<NicChoice, String> {
        if s == "auto" {
            return Ok(NicChoice::Auto);
        }
        match s.split_once(',') {
            Some((tx, rx)) if !tx.is_empty() && !rx.is_empty() && !rx.contains(',') => {
                if tx == rx {
                    Err(format!("{tx} cannot be both ends: name two interfaces"))
                } else {
                    Ok(NicChoice::Named {
                        tx: tx.into(),
                        rx: rx.into(),
                    })
                }
            }
            _ => Err("expected TX,RX (two interface names) or auto".into()),
        }
    }
}

/// What the host says about one interface, gathered before anything moves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Interface {
    pub name: String,
    pub index: u32,
    pub up: bool,
    /// Its addresses (IPv4 and IPv6, link-local included), as text.
    pub addresses: Vec<String>,
    /// rtnetlink's link kind ("veth", "bridge"...): None for hardware.
    pub kind: Option<String>,
    /// The driver bound to its bus device (`/sys/class/net/X/device/driver`),
    /// None without a bus device.
    pub driver: Option<String>,
    /// A default route (IPv4 or IPv6) leaves through it.
    pub default_route: bool,
}

/// Why zc will not borrow an interface, if it will not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Refusal {
    Missing,
    Loopback,
    Virtual(String),
    NoDevice,
    InUse(Vec<String>),
    DefaultRoute,
}

impl fmt::Display for Refusal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Refusal::Missing => write!(f, "there is no such interface"),
            Refusal::Loopback => write!(f, "it is the loopback device"),
            Refusal::Virtual(kind) => write!(
                f,
                "it is a virtual device ({kind}): the kernel deletes it, rather than \
                 returning it, when zc's namespace ends"
            ),
            Refusal::NoDevice => write!(
                f,
                "it has no bus device, so no DMA engine to show (and the kernel \
                 may not return it)"
            ),
            Refusal::InUse(addrs) => write!(
                f,
                "it has addresses ({}): the host uses it",
                addrs.join(", ")
            ),
            Refusal::DefaultRoute => write!(f, "it carries the host's default route"),
        }
    }
}

impl Interface {
    /// Why zc refuses to borrow this interface, if it does.
    pub fn refusal(&self) -> Option<Refusal> {
        if self.name == "lo" {
            return Some(Refusal::Loopback);
        }
        if let Some(kind) = &self.kind {
            return Some(Refusal::Virtual(kind.clone()));
        }
        if self.driver.is_none() {
            return Some(Refusal::NoDevice);
        }
        if self.default_route {
            return Some(Refusal::DefaultRoute);
        }
        // Link-local IPv6 comes by itself with "up"; anything else was
        // configured, and would be lost with the move.
        let configured: Vec<String> = self
            .addresses
            .iter()
            .filter(|a| !a.starts_with("fe80:"))
            .cloned()
            .collect();
        if !configured.is_empty() {
            return Some(Refusal::InUse(configured));
        }
        None
    }
}

/// The two interfaces `choice` names, checked; one line on refusal.
pub fn pick(choice: &NicChoice, all: &[Interface]) -> Result<(Interface, Interface), String> {
    match choice {
        NicChoice::Named { tx, rx } => {
            let one = |name: &str| -> Result<Interface, String> {
                let i = all
                    .iter()
                    .find(|i| i.name == name)
                    .ok_or_else(|| format!("--nic: cannot borrow {name}: {}", Refusal::Missing))?;
                match i.refusal() {
                    None => Ok(i.clone()),
                    Some(r) => Err(format!("--nic: cannot borrow {name}: {r}")),
                }
            };
            Ok((one(tx)?, one(rx)?))
        }
        NicChoice::Auto => {
            let free: Vec<&Interface> = all.iter().filter(|i| i.refusal().is_none()).collect();
            match free.as_slice() {
                [tx, rx, ..] => Ok(((*tx).clone(), (*rx).clone())),
                _ => Err(format!(
                    "--nic auto needs two free physical interfaces (no address but link-local, \
                     no default route) and found {}{}: name two with --nic TX,RX",
                    free.len(),
                    match free.first() {
                        Some(i) => format!(" ({})", i.name),
                        None => String::new(),
                    }
                )),
            }
        }
    }
}

/// Every interface of the calling thread's namespace, as [`Interface`].
pub async fn survey(handle: &rtnetlink::Handle) -> Result<Vec<Interface>> {
    let routes = default_route_devices();
    let mut all = Vec::new();
    let mut links = handle.link().get().execute();
    while let Some(link) = links.try_next().await.context("list interfaces")? {
        let mut name = String::new();
        let mut kind = None;
        for a in &link.attributes {
            match a {
                LinkAttribute::IfName(n) => name = n.clone(),
                LinkAttribute::LinkInfo(infos) => {
                    for info in infos {
                        if let LinkInfo::Kind(k) = info {
                            kind = Some(k.to_string());
                        }
                    }
                }
                _ => {}
            }
        }
        let driver = std::fs::read_link(
            Path::new("/sys/class/net")
                .join(&name)
                .join("device/driver"),
        )
        .ok()
        .and_then(|p| p.file_name().map(|f| f.to_string_lossy().into_owned()));
        all.push(Interface {
            default_route: routes.contains(&name),
            up: link.header.flags.contains(LinkFlags::Up),
            index: link.header.index,
            addresses: Vec::new(),
            name,
            kind,
            driver,
        });
    }
    let mut addrs = handle.address().get().execute();
    while let Some(a) = addrs.try_next().await.context("list addresses")? {
        if let Some(i) = all.iter_mut().find(|i| i.index == a.header.index) {
            for attr in &a.attributes {
                if let AddressAttribute::Address(ip) = attr {
                    i.addresses.push(format!("{ip}/{}", a.header.prefix_len));
                }
            }
        }
    }
    Ok(all)
}

/// Names of the devices default routes leave through, read from the
/// kernel's own route tables (`/proc/net/route`, `/proc/net/ipv6_route`).
fn default_route_devices() -> Vec<String> {
    let mut devs = Vec::new();
    if let Ok(v4) = std::fs::read_to_string("/proc/net/route") {
        devs.extend(default_routes_v4(&v4));
    }
    if let Ok(v6) = std::fs::read_to_string("/proc/net/ipv6_route") {
        devs.extend(default_routes_v6(&v6));
    }
    devs
}

/// `/proc/net/route`: Iface, Destination, Gateway, Flags, ..., Mask; a
/// default route has destination and mask 0.
fn default_routes_v4(table: &str) -> Vec<String> {
    table
        .lines()
        .skip(1)
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f.len() > 7 && f[1] == "00000000" && f[7] == "00000000").then(|| f[0].to_string())
        })
        .collect()
}

/// `/proc/net/ipv6_route`: destination, its prefix length, ..., device
/// last; a default route is `::/0` (not the unreachable `lo` one).
fn default_routes_v6(table: &str) -> Vec<String> {
    table
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let dev = *f.last()?;
            (f.len() >= 10 && f[0].bytes().all(|b| b == b'0') && f[1] == "00" && dev != "lo")
                .then(|| dev.to_string())
        })
        .collect()
}

/// `NET_NS_INIT_INO` (include/uapi/linux/nsfs.h, 6.18): the inode number
/// the kernel gives the initial network namespace.
const NET_NS_INIT_INO: u64 = 0xEFFF_FFF9;

/// True when zc runs in the initial network namespace, where a borrowed
/// NIC returns: the one PID 1 is in, or, where PID 1's is hidden (a
/// sandbox), the one with the kernel's fixed inode number.
pub fn in_initial_netns() -> bool {
    use std::os::unix::fs::MetadataExt;
    let Ok(own) = std::fs::metadata("/proc/self/ns/net") else {
        return false;
    };
    match std::fs::metadata("/proc/1/ns/net") {
        Ok(init) => own.ino() == init.ino() && own.dev() == init.dev(),
        Err(_) => own.ino() == NET_NS_INIT_INO,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn nic(name: &str) -> Interface {
        Interface {
            name: name.into(),
            index: 2,
            up: false,
            addresses: vec![],
            kind: None,
            driver: Some("e1000e".into()),
            default_route: false,
        }
    }

    #[test]
    fn parses_two_names_or_auto() {
        assert_eq!("auto".parse(), Ok(NicChoice::Auto));
        assert_eq!(
            "eth0,eth1".parse(),
            Ok(NicChoice::Named {
                tx: "eth0".into(),
                rx: "eth1".into()
            })
        );
        for bad in ["eth0", "eth0,", ",eth1", "a,b,c", "eth0,eth0"] {
            assert!(bad.parse::<NicChoice>().is_err(), "{bad}");
        }
    }

    #[test]
    fn refuses_what_the_host_needs_or_would_lose() {
        assert_eq!(nic("eth0").refusal(), None);
        let up_bare = Interface {
            up: true,
            ..nic("eth0")
        };
        assert_eq!(up_bare.refusal(), None, "up without addresses is free");
        let used = Interface {
            up: true,
            addresses: vec!["10.0.2.15/24".into()],
            ..nic("eth0")
        };
        assert!(matches!(used.refusal(), Some(Refusal::InUse(_))));
        let down_with_addr = Interface {
            addresses: vec!["10.0.2.15/24".into()],
            ..nic("eth0")
        };
        assert!(matches!(down_with_addr.refusal(), Some(Refusal::InUse(_))));
        let link_local = Interface {
            up: true,
            addresses: vec!["fe80::5054:ff:fe12:3456/64".into()],
            ..nic("eth0")
        };
        assert_eq!(link_local.refusal(), None, "only what came with up");
        let route = Interface {
            default_route: true,
            ..nic("eth0")
        };
        assert_eq!(route.refusal(), Some(Refusal::DefaultRoute));
        let veth = Interface {
            kind: Some("veth".into()),
            driver: None,
            ..nic("v0")
        };
        assert_eq!(veth.refusal(), Some(Refusal::Virtual("veth".into())));
        let bare = Interface {
            driver: None,
            ..nic("x0")
        };
        assert_eq!(bare.refusal(), Some(Refusal::NoDevice));
        assert_eq!(nic("lo").refusal(), Some(Refusal::Loopback));
    }

    #[test]
    fn picks_named_ones_or_the_first_two_free() {
        let all = vec![
            Interface {
                kind: None,
                driver: None,
                ..nic("lo")
            },
            Interface {
                default_route: true,
                ..nic("eth0")
            },
            nic("eth1"),
            nic("eth2"),
        ];
        let (tx, rx) = pick(&NicChoice::Auto, &all).expect("two free");
        assert_eq!((tx.name.as_str(), rx.name.as_str()), ("eth1", "eth2"));
        let named = NicChoice::Named {
            tx: "eth2".into(),
            rx: "eth1".into(),
        };
        let (tx, rx) = pick(&named, &all).expect("both free");
        assert_eq!((tx.name.as_str(), rx.name.as_str()), ("eth2", "eth1"));
        let route = NicChoice::Named {
            tx: "eth0".into(),
            rx: "eth1".into(),
        };
        let e = pick(&route, &all).expect_err("a default route");
        assert!(e.contains("eth0") && e.contains("default route"), "{e}");
        let gone = NicChoice::Named {
            tx: "eth1".into(),
            rx: "eth9".into(),
        };
        assert!(
            pick(&gone, &all)
                .expect_err("missing")
                .contains("no such interface")
        );
        let e = pick(&NicChoice::Auto, &all[..3]).expect_err("one free");
        assert!(e.contains("found 1 (eth1)"), "{e}");
    }

    #[test]
    fn default_routes_from_the_kernels_tables() {
        let v4 = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n\
                  enp1s0\t00000000\t0102000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n\
                  enp1s0\t0002000A\t00000000\t0001\t0\t0\t100\t00FFFFFF\t0\t0\t0\n";
        assert_eq!(default_routes_v4(v4), vec!["enp1s0".to_string()]);
        let v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 wlan0\n\
                  00000000000000000000000000000000 00 00000000000000000000000000000000 00 00000000000000000000000000000000 ffffffff 00000001 00000000 00200200       lo\n\
                  fe800000000000000000000000000000 40 00000000000000000000000000000000 00 00000000000000000000000000000000 00000100 00000001 00000000 00000001 wlan0\n";
        assert_eq!(default_routes_v6(v6), vec!["wlan0".to_string()]);
    }
}
