//! zc's private network for the demo transfer.
//!
//! The demo sends a file over TCP and zc traces where the kernel copies it.
//! To trace a real network path (not loopback) without touching the host's
//! network, zc builds its own tiny network out of two *anonymous* network
//! namespaces joined by a veth pair:
//!
//! ```text
//!   sender netns                        receiver netns
//!   zc-tx 198.18.0.1/30  <==== veth ====>  zc-rx 198.18.0.2/30
//! ```
//!
//! - A network namespace is a complete, separate copy of the network stack
//!   (interfaces, addresses, routes, sockets). Namespaces belong to threads:
//!   `unshare(CLONE_NEWNET)` and `setns` change only the calling thread, and a
//!   socket stays in the namespace its creating thread was in.
//! - zc's namespaces are anonymous: a helper thread unshares into a fresh one
//!   and hands back an fd of `/proc/thread-self/ns/net`. Nothing is mounted
//!   under `/run/netns`, so the namespace lives exactly as long as something
//!   references it: that fd, a thread inside it, or a socket created in it.
//!   All of those are owned by the zc process, so when zc exits by any path,
//!   even SIGKILL, the kernel drops the last reference and destroys the
//!   namespace with everything in it, veth pair included. Nothing is left
//!   on the host: the interfaces were never in the host namespace at all.
//! - The veth pair is created by netlink (rtnetlink) from a thread inside the
//!   sender namespace, with its peer placed directly into the receiver
//!   namespace by fd.
//! - Scatter-gather (`NETIF_F_SG`, ethtool "sg") on zc-tx decides whether the
//!   TCP stack may hand the device packets whose payload is spread over page
//!   fragments (zero-copy friendly) or must linearize them (a copy). Turning
//!   it off and on is what lets the demo show the difference.
//! - With `--nic TX,RX` the two ends are real NICs instead, borrowed from
//!   the host for the session (`super::nics`): the same namespaces and
//!   addresses, and a driver that maps every packet for DMA.
//! - A bottleneck (`--rate`) is a token-bucket qdisc (`tbf`) on zc-tx with a
//!   small queue: when TCP sends faster than the rate, the queue overflows
//!   and drops, and TCP sends again. That is how the demo shows what a
//!   retransmission does to zero copy: it references the same pages again.

use std::ffi::c_void;
use std::fs::File;
use std::io;
use std::net::{IpAddr, Ipv4Addr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use anyhow::{Context, Result, anyhow, bail};
use futures::TryStreamExt;
use rtnetlink::packet_core::{
    DefaultNla, NLM_F_ACK, NLM_F_CREATE, NLM_F_REPLACE, NLM_F_REQUEST, NetlinkMessage,
    NetlinkPayload,
};
use rtnetlink::packet_route::link::{InfoData, InfoVeth};
use rtnetlink::packet_route::{
    RouteNetlinkMessage,
    tc::{TcAttribute, TcHandle, TcMessage, TcOption},
};
use rtnetlink::{Handle, LinkUnspec, LinkVeth};

/// Name of the sending end of the veth pair (lives in [`DemoNet::sender`]).
pub const SENDER_IF: &str = "zc-tx";
/// Name of the receiving end of the veth pair (lives in [`DemoNet::receiver`]).
pub const RECEIVER_IF: &str = "zc-rx";
/// Address of [`SENDER_IF`]: RFC 2544 benchmarking range, so it can never
/// clash with a real network the host is on.
pub const SENDER_ADDR: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 1);
/// Address of [`RECEIVER_IF`], same /30 as [`SENDER_ADDR`].
pub const RECEIVER_ADDR: Ipv4Addr = Ipv4Addr::new(198, 18, 0, 2);
/// Prefix length of the point-to-point subnet: exactly the two addresses.
const PREFIX_LEN: u8 = 30;

/// An anonymous network namespace, kept alive by an fd of its
/// `/proc/thread-self/ns/net`.
#[derive(Debug)]
pub struct Netns {
    fd: OwnedFd,
}

impl Netns {
    /// New anonymous network namespace (unshare(CLONE_NEWNET) in a short-lived
    /// helper thread, which opens /proc/thread-self/ns/net and hands back the
    /// fd). Never mounted under /run/netns: it lives exactly as long as this
    /// fd or anything inside it (sockets, threads), so it vanishes when zc
    /// exits by any path, even SIGKILL.
    pub fn new() -> Result<Netns> {
        // A helper thread, because unshare moves the calling thread for good
        // and the caller must stay where it is.
        let fd = scoped_thread("create network namespace", || {
            // SAFETY: unshare takes only a flag word; CLONE_NEWNET affects
            // just this helper thread, which exits right after.
            if unsafe { libc::unshare(libc::CLONE_NEWNET) } != 0 {
                return Err(io::Error::last_os_error()).context(
                    "unshare(CLONE_NEWNET): cannot create a network namespace \
                     (zc needs root, or CAP_SYS_ADMIN)",
                );
            }
            let file = File::open("/proc/thread-self/ns/net")
                .context("open /proc/thread-self/ns/net of the new namespace")?;
            Ok(OwnedFd::from(file))
        })?;
        Ok(Netns { fd })
    }

    /// Moves the calling thread into this namespace (setns). Only that thread.
    pub fn enter(&self) -> Result<()> {
        // SAFETY: the fd is a valid, open namespace fd owned by self; setns
        // only changes the calling thread's network namespace.
        if unsafe { libc::setns(self.fd.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
            return Err(io::Error::last_os_error())
                .context("setns: cannot enter zc's network namespace");
        }
        Ok(())
    }

    /// Runs `f` on a new scoped thread inside this namespace and returns its
    /// result.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
        // A fresh thread, so the caller's own namespace is never changed.
        scoped_thread("run inside zc's network namespace", || {
            self.enter()?;
            f()
        })
    }

    /// The namespace fd (e.g. for setns or netlink's IFLA_NET_NS_FD).
    pub fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

impl AsFd for Netns {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.fd.as_fd()
    }
}

/// Runs `f` on a scoped thread and turns a panic there into an error.
fn scoped_thread<T: Send>(what: &str, f: impl FnOnce() -> Result<T> + Send) -> Result<T> {
    std::thread::scope(|s| {
        let handle = std::thread::Builder::new()
            .name("zc-netns".into())
            .spawn_scoped(s, f)
            .with_context(|| format!("{what}: spawn a thread"))?;
        match handle.join() {
            Ok(result) => result,
            Err(payload) => {
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_else(|| "unknown panic".into());
                Err(anyhow!("{what}: thread panicked: {msg}"))
            }
        }
    })
}

/// Which end of the veth a packet tap is bound to (`zc demo --tap`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum TapEnd {
    /// zc-tx, the sending device.
    Sender,
    /// zc-rx, the receiving device.
    Receiver,
}

/// A packet tap, the socket tcpdump opens: `AF_PACKET`, every protocol
/// (`ETH_P_ALL`), bound to one device. Nobody reads it; its receive queue
/// fills and the kernel drops for it, but it has been handed (and, for a
/// zero-copy skb, copied) every packet first. Closed with the session.
#[derive(Debug)]
pub struct PacketTap {
    _fd: OwnedFd,
}

/// What joins the two namespaces.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Link {
    /// zc's own veth pair: software transmit, no DMA.
    Veth,
    /// Two borrowed NICs, each with its driver's name.
    Nics {
        tx: String,
        tx_driver: String,
        rx: String,
        rx_driver: String,
    },
}

impl Link {
    /// The sending device's name in its namespace.
    pub fn sender_if(&self) -> &str {
        match self {
            Link::Veth => SENDER_IF,
            Link::Nics { tx, .. } => tx,
        }
    }

    /// The receiving device's name in its namespace.
    pub fn receiver_if(&self) -> &str {
        match self {
            Link::Veth => RECEIVER_IF,
            Link::Nics { rx, .. } => rx,
        }
    }
}

impl std::fmt::Display for Link {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Link::Veth => write!(f, "veth {SENDER_IF} → {RECEIVER_IF}"),
            Link::Nics {
                tx,
                tx_driver,
                rx,
                rx_driver,
            } => write!(f, "NICs {tx} ({tx_driver}) → {rx} ({rx_driver})"),
        }
    }
}

/// The demo's private network: two namespaces joined by the veth pair
/// zc-tx (in `sender`) / zc-rx (in `receiver`), or by two borrowed NICs.
#[derive(Debug)]
pub struct DemoNet {
    /// Namespace holding [`SENDER_IF`] at [`SENDER_ADDR`].
    pub sender: Netns,
    /// Namespace holding [`RECEIVER_IF`] at [`RECEIVER_ADDR`].
    pub receiver: Netns,
    /// Interface index of zc-tx inside `sender` (e.g. to filter traces).
    pub sender_ifindex: u32,
    /// Interface index of zc-rx inside `receiver`.
    pub receiver_ifindex: u32,
    pub link: Link,
    /// A borrowed NIC's scatter-gather before zc first set it, put back
    /// when the session ends (a veth dies with it and needs nothing), and
    /// the guard that puts it back if zc is killed (`guard.rs`).
    sg_before: std::sync::Mutex<Option<bool>>,
    guard: std::sync::Mutex<Option<super::guard::Guard>>,
    /// The namespace the NICs were borrowed from, to give them back to.
    home: Option<OwnedFd>,
}

/// How long a borrowed NIC may take to see its link after "up".
const CARRIER_WAIT: std::time::Duration = std::time::Duration::from_secs(15);

impl DemoNet {
    /// Two fresh namespaces joined by a veth pair: zc-tx in `sender`, zc-rx in
    /// `receiver`, addresses above (/30), both links and both `lo` up. All
    /// through rtnetlink (netlink), no shelling out to `ip`.
    pub fn create() -> Result<DemoNet> {
        let sender = Netns::new().context("create the sender's network namespace")?;
        let receiver = Netns::new().context("create the receiver's network namespace")?;

        // IPv6 off first, so the veth ends are born without it (see below).
        receiver.run(quiet_ipv6)?;
        let receiver_fd = receiver.as_fd().as_raw_fd();
        let sender_ifindex = sender.run(|| {
            quiet_ipv6()?;
            with_netlink(|handle| async move {
                create_veth(&handle, receiver_fd).await?;
                configure(&handle, SENDER_IF, SENDER_ADDR).await
            })
        })?;
        let receiver_ifindex = receiver.run(|| {
            with_netlink(
                |handle| async move { configure(&handle, RECEIVER_IF, RECEIVER_ADDR).await },
            )
        })?;

        Ok(DemoNet {
            sender,
            receiver,
            sender_ifindex,
            receiver_ifindex,
            link: Link::Veth,
            sg_before: std::sync::Mutex::new(None),
            guard: std::sync::Mutex::new(None),
            home: None,
        })
    }

    /// Two fresh namespaces joined by two NICs borrowed from the host
    /// (`choice`): checked first (see `nics::Interface::refusal`), then
    /// moved in, addressed like the veth ends, brought up, and waited for
    /// until each sees its link. They go back to the host when the
    /// namespaces die, with the session or with the process.
    pub fn borrow(choice: &super::nics::NicChoice) -> Result<DemoNet> {
        use super::nics;
        use crate::exit::Fatal;
        if !nics::in_initial_netns() {
            return Err(Fatal::Usage(
                "--nic: zc is not in the initial network namespace, and a borrowed NIC \
                 returns there, not here"
                    .into(),
            )
            .into());
        }
        let all = scoped_thread("list the host's interfaces", || {
            with_netlink(|handle| async move { nics::survey(&handle).await })
        })?;
        let (tx, rx) = nics::pick(choice, &all).map_err(Fatal::Usage)?;
        let home = OwnedFd::from(
            File::open("/proc/self/ns/net").context("open zc's own network namespace")?,
        );
        let sender = Netns::new().context("create the sender's network namespace")?;
        let receiver = Netns::new().context("create the receiver's network namespace")?;
        // IPv6 off first: a device entering a namespace takes its defaults.
        sender.run(quiet_ipv6)?;
        receiver.run(quiet_ipv6)?;
        let (sfd, rfd) = (sender.as_fd().as_raw_fd(), receiver.as_fd().as_raw_fd());
        let moves = [
            (tx.index, sfd, tx.name.clone()),
            (rx.index, rfd, rx.name.clone()),
        ];
        scoped_thread("move the NICs into zc's namespaces", || {
            with_netlink(|handle| async move {
                for (index, fd, name) in moves {
                    handle
                        .link()
                        .set(LinkUnspec::new_with_index(index).setns_by_fd(fd).build())
                        .execute()
                        .await
                        .with_context(|| format!("move {name} into zc's namespace"))?;
                }
                Ok(())
            })
        })?;
        // From here on the NICs are in namespaces that die with `net`.
        let link = Link::Nics {
            tx: tx.name.clone(),
            tx_driver: tx.driver.clone().unwrap_or_default(),
            rx: rx.name.clone(),
            rx_driver: rx.driver.clone().unwrap_or_default(),
        };
        let up = |ns: &Netns, name: &str, addr| {
            ns.run(|| {
                with_netlink(|handle| async move {
                    let index = configure(&handle, name, addr).await?;
                    wait_for_carrier(&handle, name, index).await?;
                    Ok(index)
                })
            })
        };
        let sender_ifindex = up(&sender, &tx.name, SENDER_ADDR)?;
        let receiver_ifindex = up(&receiver, &rx.name, RECEIVER_ADDR)?;
        Ok(DemoNet {
            sender,
            receiver,
            sender_ifindex,
            receiver_ifindex,
            link,
            sg_before: std::sync::Mutex::new(None),
            guard: std::sync::Mutex::new(None),
            home: Some(home),
        })
    }

    /// The receiving NIC's ifindex in the receiver's namespace, for a run
    /// over borrowed NICs; 0 over the veth, whose frames no engine writes.
    pub fn nic_rx_ifindex(&self) -> u32 {
        match self.link {
            Link::Veth => 0,
            Link::Nics { .. } => self.receiver_ifindex,
        }
    }

    /// The sending device's name.
    pub fn sender_if(&self) -> &str {
        self.link.sender_if()
    }

    /// Binds a packet tap to one end of the veth, inside its namespace (a
    /// socket stays in the namespace it was made in).
    pub fn tap(&self, end: TapEnd) -> Result<PacketTap> {
        let (ns, ifindex, name) = match end {
            TapEnd::Sender => (&self.sender, self.sender_ifindex, self.link.sender_if()),
            TapEnd::Receiver => (
                &self.receiver,
                self.receiver_ifindex,
                self.link.receiver_if(),
            ),
        };
        let all = (libc::ETH_P_ALL as u16).to_be();
        let fd = ns.run(|| {
            // SAFETY: plain socket(2); the fd is owned at once.
            let raw = unsafe {
                libc::socket(
                    libc::AF_PACKET,
                    libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                    i32::from(all),
                )
            };
            if raw < 0 {
                return Err(io::Error::last_os_error())
                    .with_context(|| format!("open a packet tap for {name}"));
            }
            // SAFETY: `raw` is a new descriptor nobody else owns.
            let fd = unsafe { OwnedFd::from_raw_fd(raw) };
            // SAFETY: sockaddr_ll is plain data; all zero is a valid start.
            let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
            addr.sll_family = libc::AF_PACKET as u16;
            addr.sll_protocol = all;
            addr.sll_ifindex = ifindex as i32;
            // SAFETY: `addr` is a sockaddr_ll of the size given.
            let rc = unsafe {
                libc::bind(
                    fd.as_raw_fd(),
                    (&addr as *const libc::sockaddr_ll).cast(),
                    std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                )
            };
            if rc != 0 {
                return Err(io::Error::last_os_error())
                    .with_context(|| format!("bind the packet tap to {name}"));
            }
            Ok(fd)
        })?;
        Ok(PacketTap { _fd: fd })
    }

    /// Turns scatter-gather (NETIF_F_SG, ethtool "sg") on or off on zc-tx, and
    /// checks by reading it back; error if the kernel did not apply it.
    pub fn set_sender_sg(&self, on: bool) -> Result<()> {
        if let Link::Nics { .. } = self.link {
            let mut before = self.sg_before.lock().unwrap_or_else(|e| e.into_inner());
            if before.is_none() {
                let was = self.sender_sg()?;
                // On this thread, in zc's own namespace: the NIC's home.
                let guard = super::guard::Guard::start(self.link.sender_if(), was)?;
                *self.guard.lock().unwrap_or_else(|e| e.into_inner()) = Some(guard);
                *before = Some(was);
            }
        }
        let state = if on { "on" } else { "off" };
        let name = self.link.sender_if();
        self.sender.run(|| {
            let sock = ethtool_socket()?;
            ethtool_value(&sock, name, ETHTOOL_SSG, u32::from(on))
                .with_context(|| format!("turn scatter-gather {state} on {name}"))?;
            let now = ethtool_value(&sock, name, ETHTOOL_GSG, 0)
                .with_context(|| format!("read back scatter-gather of {name}"))?;
            if (now != 0) != on {
                bail!("the kernel did not turn scatter-gather {state} on {name}");
            }
            Ok(())
        })
    }

    /// Limits zc-tx to `rate` bytes per second with a token-bucket qdisc
    /// (tbf) whose queue holds `limit` bytes, or removes the limit (None).
    pub fn set_sender_rate(&self, rate: Option<(u64, u32)>) -> Result<()> {
        let index = self.sender_ifindex;
        self.sender.run(|| {
            with_netlink(|handle| async move {
                match rate {
                    Some((rate, limit)) => tbf_replace(handle, index, rate, limit).await,
                    None => root_qdisc_delete(handle, index).await,
                }
            })
        })
    }

    /// Packets waiting in zc-tx's root qdisc (0 without a bottleneck).
    pub fn sender_queue_len(&self) -> Result<u32> {
        let index = self.sender_ifindex;
        self.sender.run(|| {
            with_netlink(|handle| async move {
                let mut qdiscs = handle.qdisc().get().execute();
                let mut qlen = 0;
                while let Some(q) = qdiscs
                    .try_next()
                    .await
                    .context("read the queue of the sending veth")?
                {
                    if q.header.index != index as i32 || q.header.parent != TcHandle::ROOT {
                        continue;
                    }
                    for a in &q.attributes {
                        if let TcAttribute::Stats(s) = a {
                            qlen = s.qlen;
                        }
                    }
                }
                Ok(qlen)
            })
        })
    }

    /// Current scatter-gather state of zc-tx (read from the kernel).
    pub fn sender_sg(&self) -> Result<bool> {
        let name = self.link.sender_if();
        self.sender.run(|| {
            let sock = ethtool_socket()?;
            let now = ethtool_value(&sock, name, ETHTOOL_GSG, 0)
                .with_context(|| format!("read scatter-gather of {name}"))?;
            Ok(now != 0)
        })
    }
}

impl Drop for DemoNet {
    /// A borrowed NIC goes home as it came, as far as zc changed it: its
    /// scatter-gather and its root qdisc; then zc moves it back itself, so
    /// it is on the host when zc returns (the move takes it down and its
    /// addresses away). The namespaces' own end would do the same a moment
    /// later, from a kernel work queue: that is what a SIGKILL leaves, and
    /// the guard forked at the first change of scatter-gather then sets it
    /// back (`guard.rs`).
    fn drop(&mut self) {
        let Link::Nics { tx, rx, .. } = &self.link else {
            return;
        };
        let before = *self.sg_before.lock().unwrap_or_else(|e| e.into_inner());
        let restored = before.is_some_and(|on| self.set_sender_sg(on).is_ok());
        let guard = self.guard.lock().unwrap_or_else(|e| e.into_inner()).take();
        // Restored here: the guard has nothing to do. Not restored: it
        // tries itself once the NIC is home (below).
        if let Some(g) = guard
            && restored
        {
            g.stand_down();
        }
        let _ = self.set_sender_rate(None);
        let Some(home) = self.home.as_ref().map(|h| h.as_raw_fd()) else {
            return;
        };
        for (ns, name) in [(&self.sender, tx.as_str()), (&self.receiver, rx.as_str())] {
            let _ = ns.run(|| {
                with_netlink(|handle| async move {
                    let index = link_index(&handle, name).await?;
                    handle
                        .link()
                        .set(LinkUnspec::new_with_index(index).setns_by_fd(home).build())
                        .execute()
                        .await
                        .with_context(|| format!("give {name} back to the host"))
                })
            });
        }
    }
}

/// Waits until `name` sees its link (IFF_LOWER_UP): a NIC's driver reports
/// carrier a moment after "up", and TCP's first SYN would wait a second
/// for nothing otherwise.
async fn wait_for_carrier(handle: &Handle, name: &str, index: u32) -> Result<()> {
    use rtnetlink::packet_route::link::LinkFlags;
    let start = std::time::Instant::now();
    loop {
        let link = handle
            .link()
            .get()
            .match_index(index)
            .execute()
            .try_next()
            .await
            .with_context(|| format!("read the state of {name}"))?
            .with_context(|| format!("{name} vanished"))?;
        if link.header.flags.contains(LinkFlags::LowerUp) {
            return Ok(());
        }
        if start.elapsed() > CARRIER_WAIT {
            bail!(
                "{name} has no link {} s after coming up: are the two NICs cabled together?",
                CARRIER_WAIT.as_secs()
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

/// Disables IPv6 in the calling thread's namespace, so that router
/// solicitations and MLD reports don't add unrelated packets to the
/// traced link. Skipped if the kernel has no IPv6.
fn quiet_ipv6() -> Result<()> {
    // /proc/sys/net is resolved against the opening thread's namespace.
    for conf in ["all", "default"] {
        let path = format!("/proc/sys/net/ipv6/conf/{conf}/disable_ipv6");
        match std::fs::write(&path, "1") {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e).with_context(|| format!("disable IPv6 ({path})")),
        }
    }
    Ok(())
}

/// Runs netlink work on a current-thread tokio runtime on the calling thread:
/// the netlink socket is created here, so it acts on this thread's namespace.
fn with_netlink<T, F, Fut>(f: F) -> Result<T>
where
    F: FnOnce(Handle) -> Fut,
    Fut: Future<Output = Result<T>>,
{
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("start the async runtime for netlink")?;
    rt.block_on(async {
        let (conn, handle, _) =
            rtnetlink::new_connection().context("open a netlink (rtnetlink) socket")?;
        tokio::spawn(conn);
        f(handle).await
    })
}

/// Creates zc-tx here with its peer zc-rx born directly in the namespace
/// `peer_netns` (IFLA_NET_NS_FD in the peer's message, like
/// `ip link add zc-tx type veth peer zc-rx netns ...`).
async fn create_veth(handle: &Handle, peer_netns: RawFd) -> Result<()> {
    let peer = LinkUnspec::new_with_name(RECEIVER_IF)
        .setns_by_fd(peer_netns)
        .build();
    let veth = LinkVeth::new(SENDER_IF, RECEIVER_IF)
        .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
        .build();
    handle
        .link()
        .add(veth)
        .execute()
        .await
        .with_context(|| format!("create veth pair {SENDER_IF}/{RECEIVER_IF}"))
}

/// Gives `name` its /30 address and brings it and `lo` up; returns its ifindex.
async fn configure(handle: &Handle, name: &str, addr: Ipv4Addr) -> Result<u32> {
    let index = link_index(handle, name).await?;
    handle
        .address()
        .add(index, IpAddr::V4(addr), PREFIX_LEN)
        .execute()
        .await
        .with_context(|| format!("add address {addr}/{PREFIX_LEN} to {name}"))?;
    handle
        .link()
        .set(LinkUnspec::new_with_index(index).up().build())
        .execute()
        .await
        .with_context(|| format!("bring {name} up"))?;
    let lo = link_index(handle, "lo").await?;
    handle
        .link()
        .set(LinkUnspec::new_with_index(lo).up().build())
        .execute()
        .await
        .context("bring lo up")?;
    Ok(index)
}

/// Looks up an interface index by name in the handle's namespace.
async fn link_index(handle: &Handle, name: &str) -> Result<u32> {
    let link = handle
        .link()
        .get()
        .match_name(name)
        .execute()
        .try_next()
        .await
        .with_context(|| format!("look up interface {name}"))?
        .with_context(|| format!("interface {name} not found"))?;
    Ok(link.header.index)
}

// Scatter-gather goes through the legacy SIOCETHTOOL ioctl: the maintained
// ethtool netlink crate (rust-netlink `ethtool`) can only *get* features,
// not set them, and ETHTOOL_GSG/SSG is stable kernel ABI that needs nothing
// beyond libc.
/// `ETHTOOL_GSG` from linux/ethtool.h: get scatter-gather.
const ETHTOOL_GSG: u32 = 0x18;
/// `ETHTOOL_SSG` from linux/ethtool.h: set scatter-gather.
pub(super) const ETHTOOL_SSG: u32 = 0x19;

/// `struct ethtool_value` from linux/ethtool.h.
#[repr(C)]
pub(super) struct EthtoolValue {
    pub(super) cmd: u32,
    pub(super) data: u32,
}

/// A socket for SIOCETHTOOL. The ioctl acts on the socket's namespace, so
/// this must be called on a thread inside the target namespace.
fn ethtool_socket() -> Result<OwnedFd> {
    // SAFETY: plain socket(2) call with constant arguments.
    let fd = unsafe { libc::socket(libc::AF_INET, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error()).context("open a socket for ethtool");
    }
    // SAFETY: fd was just returned by socket(2) and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Issues one ethtool_value command (get or set) on `ifname`; returns `data`.
fn ethtool_value(sock: &OwnedFd, ifname: &str, cmd: u32, data: u32) -> Result<u32> {
    let mut value = EthtoolValue { cmd, data };
    // SAFETY: ifreq is plain old data; all-zero is a valid value.
    let mut ifr: libc::ifreq = unsafe { std::mem::zeroed() };
    let name = ifname.as_bytes();
    if name.len() >= ifr.ifr_name.len() {
        bail!("interface name {ifname} is too long");
    }
    for (dst, &src) in ifr.ifr_name.iter_mut().zip(name) {
        *dst = src as libc::c_char;
    }
    ifr.ifr_ifru.ifru_data = (&raw mut value).cast::<c_void>().cast();
    // SAFETY: sock is an open socket; ifr is a valid, NUL-terminated ifreq
    // whose ifru_data points at `value`, a live ethtool_value the kernel reads
    // and writes only during this call.
    let rc = unsafe {
        libc::ioctl(
            sock.as_raw_fd(),
            libc::SIOCETHTOOL as libc::Ioctl,
            &raw mut ifr,
        )
    };
    if rc < 0 {
        return Err(io::Error::last_os_error()).context("SIOCETHTOOL ioctl");
    }
    Ok(value.data)
}

/// `TCA_TBF_*` attribute numbers and `TC_LINKLAYER_ETHERNET`
/// (include/uapi/linux/pkt_sched.h); the netlink crate has no tbf type.
const TCA_TBF_PARMS: u16 = 1;
const TCA_TBF_RATE64: u16 = 4;
const TCA_TBF_BURST: u16 = 6;
const TC_LINKLAYER_ETHERNET: u8 = 1;
/// Bucket size: a 64 KiB GSO skb must fit whole, or tbf would segment it
/// itself and add a copy of its own to the picture.
const TBF_BURST: u32 = 16 << 10;

/// `struct tc_tbf_qopt`: rate and peak rate (`struct tc_ratespec`, 12 bytes
/// each), then limit, buffer and mtu.
fn tbf_qopt(rate: u64, limit: u32) -> Vec<u8> {
    let mut v = Vec::with_capacity(36);
    // rate: cell_log, linklayer, overhead, cell_align, mpu, rate (u32; the
    // full 64-bit rate goes in TCA_TBF_RATE64).
    v.extend_from_slice(&[0, TC_LINKLAYER_ETHERNET]);
    v.extend_from_slice(&0u16.to_ne_bytes());
    v.extend_from_slice(&0i16.to_ne_bytes());
    v.extend_from_slice(&0u16.to_ne_bytes());
    v.extend_from_slice(&(rate.min(u32::MAX as u64) as u32).to_ne_bytes());
    // peakrate: none.
    v.extend_from_slice(&[0u8; 12]);
    v.extend_from_slice(&limit.to_ne_bytes());
    // buffer and mtu come from TCA_TBF_BURST instead.
    v.extend_from_slice(&0u32.to_ne_bytes());
    v.extend_from_slice(&0u32.to_ne_bytes());
    v
}

/// Sends one traffic-control request and waits for the kernel's answer.
async fn tc_request(mut handle: Handle, msg: RouteNetlinkMessage, flags: u16) -> Result<()> {
    let mut req = NetlinkMessage::from(msg);
    req.header.flags = NLM_F_REQUEST | NLM_F_ACK | flags;
    let mut answers = handle.request(req).context("send a netlink request")?;
    while let Some(m) = futures::StreamExt::next(&mut answers).await {
        if let NetlinkPayload::Error(e) = m.payload
            && let Some(code) = e.code
        {
            return Err(io::Error::from_raw_os_error(-code.get()).into());
        }
    }
    Ok(())
}

/// `tc qdisc replace dev zc-tx root tbf rate RATE burst 256k limit LIMIT`.
async fn tbf_replace(handle: Handle, index: u32, rate: u64, limit: u32) -> Result<()> {
    let mut msg = TcMessage::with_index(index as i32);
    msg.header.parent = TcHandle::ROOT;
    msg.header.handle = TcHandle { major: 1, minor: 0 };
    msg.attributes.push(TcAttribute::Kind("tbf".into()));
    msg.attributes.push(TcAttribute::Options(vec![
        TcOption::Other(DefaultNla::new(TCA_TBF_PARMS, tbf_qopt(rate, limit))),
        TcOption::Other(DefaultNla::new(TCA_TBF_RATE64, rate.to_ne_bytes().to_vec())),
        TcOption::Other(DefaultNla::new(
            TCA_TBF_BURST,
            TBF_BURST.to_ne_bytes().to_vec(),
        )),
    ]));
    tc_request(
        handle,
        RouteNetlinkMessage::NewQueueDiscipline(msg),
        NLM_F_CREATE | NLM_F_REPLACE,
    )
    .await
    .with_context(|| format!("limit the sending device to {rate} bytes/s (tbf qdisc)"))
}

/// `tc qdisc del dev zc-tx root`: back to the default qdisc. Nothing to
/// delete is fine.
async fn root_qdisc_delete(handle: Handle, index: u32) -> Result<()> {
    let mut msg = TcMessage::with_index(index as i32);
    msg.header.parent = TcHandle::ROOT;
    match tc_request(handle, RouteNetlinkMessage::DelQueueDiscipline(msg), 0).await {
        Err(e)
            if e.downcast_ref::<io::Error>()
                .and_then(io::Error::raw_os_error)
                == Some(libc::ENOENT) =>
        {
            Ok(())
        }
        r => r.context("remove the rate limit of the sending device"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::io::{Read, Write};
    use std::net::{Shutdown, TcpListener, TcpStream};
    use std::os::unix::fs::MetadataExt;
    use std::sync::Mutex;
    use std::time::{Duration, Instant};

    /// Namespaces and interface names are shared kernel state: one test at a
    /// time.
    static LOCK: Mutex<()> = Mutex::new(());

    /// True if the live tests can run; otherwise says so loudly (or panics
    /// under ZC_REQUIRE_LIVE=1, so CI can't silently skip them).
    fn live(test: &str) -> bool {
        // SAFETY: geteuid has no preconditions.
        if unsafe { libc::geteuid() } == 0 {
            return true;
        }
        let msg = format!("demo::net::{test} (needs root: CAP_NET_ADMIN, CAP_SYS_ADMIN)");
        if std::env::var("ZC_REQUIRE_LIVE").as_deref() == Ok("1") {
            panic!("{msg}, but ZC_REQUIRE_LIVE=1");
        }
        crate::skipped(&msg);
        false
    }

    fn lock() -> std::sync::MutexGuard<'static, ()> {
        LOCK.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The guard of a NIC's scatter-gather, on a host veth the test makes:
    /// left without a stand-down (zc died) it sets scatter-gather back as
    /// it was; stood down (zc restored it) it touches nothing. Either way
    /// it is gone afterwards.
    #[test]
    fn the_guard_restores_scatter_gather_when_zc_dies_and_only_then() -> Result<()> {
        use std::process::Command;
        if !live("the_guard_restores_scatter_gather_when_zc_dies_and_only_then") {
            return Ok(());
        }
        let _l = lock();
        let (a, b) = ("zctgA", "zctgB");
        let _ = Command::new("ip").args(["link", "del", a]).status();
        let made = Command::new("ip")
            .args(["link", "add", a, "type", "veth", "peer", "name", b])
            .status()?;
        anyhow::ensure!(made.success(), "ip link add {a}");
        let sg =
            || -> Result<bool> { Ok(ethtool_value(&ethtool_socket()?, a, ETHTOOL_GSG, 0)? != 0) };
        let set = |on: bool| -> Result<()> {
            ethtool_value(&ethtool_socket()?, a, ETHTOOL_SSG, u32::from(on)).map(|_| ())
        };
        let result = (|| -> Result<()> {
            assert!(sg()?, "a veth starts with scatter-gather on");
            // zc dies with scatter-gather off: the guard turns it on.
            let g = super::super::guard::Guard::start(a, true)?;
            set(false)?;
            drop(g);
            let t0 = Instant::now();
            while !sg()? && t0.elapsed() < Duration::from_secs(5) {
                std::thread::sleep(Duration::from_millis(20));
            }
            assert!(sg()?, "the guard did not set scatter-gather back");
            // zc restores it itself and stands the guard down: the guard
            // leaves the state zc chose alone.
            let g = super::super::guard::Guard::start(a, true)?;
            set(false)?;
            g.stand_down();
            std::thread::sleep(Duration::from_millis(300));
            assert!(!sg()?, "a stood-down guard touched the NIC");
            Ok(())
        })();
        let _ = Command::new("ip").args(["link", "del", a]).status();
        result
    }

    #[test]
    fn transfer_one_mib_across_veth() -> Result<()> {
        if !live("transfer_one_mib_across_veth") {
            return Ok(());
        }
        let _guard = lock();
        let net = DemoNet::create()?;
        let data: Vec<u8> = (0..1u32 << 20).map(|i| (i * 7 + i / 4096) as u8).collect();

        let listener = net
            .receiver
            .run(|| Ok(TcpListener::bind((RECEIVER_ADDR, 0))?))?;
        let port = listener.local_addr()?.port();
        let receiver = std::thread::spawn(move || -> Result<Vec<u8>> {
            let (mut conn, peer) = listener.accept()?;
            assert_eq!(peer.ip(), IpAddr::V4(SENDER_ADDR));
            conn.set_read_timeout(Some(Duration::from_secs(10)))?;
            let mut got = Vec::new();
            conn.read_to_end(&mut got)?;
            Ok(got)
        });
        net.sender.run(|| {
            let mut conn =
                TcpStream::connect_timeout(&(RECEIVER_ADDR, port).into(), Duration::from_secs(5))?;
            assert_eq!(conn.local_addr()?.ip(), IpAddr::V4(SENDER_ADDR));
            conn.write_all(&data)?;
            conn.shutdown(Shutdown::Write)?;
            Ok(())
        })?;
        let got = receiver
            .join()
            .map_err(|_| anyhow!("receiver thread panicked"))??;
        assert_eq!(got.len(), data.len());
        assert!(got == data, "received bytes differ from sent bytes");
        Ok(())
    }

    #[test]
    fn scatter_gather_off_and_on() -> Result<()> {
        if !live("scatter_gather_off_and_on") {
            return Ok(());
        }
        let _guard = lock();
        let net = DemoNet::create()?;
        assert!(net.sender_sg()?, "veth starts with scatter-gather on");
        net.set_sender_sg(false)?;
        assert!(!net.sender_sg()?);
        net.set_sender_sg(true)?;
        assert!(net.sender_sg()?);
        Ok(())
    }

    /// Net namespace inodes referenced from this process: its threads'
    /// namespaces and any open namespace fds.
    fn referenced_netns() -> Result<HashSet<u64>> {
        let mut seen = HashSet::new();
        for task in std::fs::read_dir("/proc/self/task")? {
            // A thread may exit while we look; that's fine.
            if let Ok(meta) = std::fs::metadata(task?.path().join("ns/net")) {
                seen.insert(meta.ino());
            }
        }
        for fd in std::fs::read_dir("/proc/self/fd")? {
            if let Ok(target) = std::fs::read_link(fd?.path()) {
                let target = target.to_string_lossy().into_owned();
                if let Some(ino) = target
                    .strip_prefix("net:[")
                    .and_then(|s| s.strip_suffix(']'))
                    .and_then(|s| s.parse().ok())
                {
                    seen.insert(ino);
                }
            }
        }
        Ok(seen)
    }

    #[test]
    fn nothing_left_on_host_after_drop() -> Result<()> {
        if !live("nothing_left_on_host_after_drop") {
            return Ok(());
        }
        let _guard = lock();
        let host = std::fs::metadata("/proc/thread-self/ns/net")?.ino();
        let net = DemoNet::create()?;
        let ours = [
            std::fs::metadata(format!("/proc/self/fd/{}", net.sender.as_fd().as_raw_fd()))?.ino(),
            std::fs::metadata(format!(
                "/proc/self/fd/{}",
                net.receiver.as_fd().as_raw_fd()
            ))?
            .ino(),
        ];
        assert!(
            !ours.contains(&host),
            "demo namespaces must not be the host's"
        );
        assert!(referenced_netns()?.is_superset(&ours.into()));
        // Interfaces never appear on the host, even while the net exists.
        for name in [SENDER_IF, RECEIVER_IF] {
            assert!(!std::path::Path::new("/sys/class/net").join(name).exists());
        }
        drop(net);

        assert_eq!(std::fs::metadata("/proc/thread-self/ns/net")?.ino(), host);
        for name in [SENDER_IF, RECEIVER_IF] {
            assert!(
                !std::path::Path::new("/sys/class/net").join(name).exists(),
                "{name} left on the host"
            );
        }
        // Helper threads are joined, but a thread leaves /proc/self/task a
        // moment after join returns: poll briefly.
        let deadline = Instant::now() + Duration::from_secs(2);
        loop {
            let left: Vec<u64> = referenced_netns()?
                .into_iter()
                .filter(|ino| ours.contains(ino))
                .collect();
            if left.is_empty() {
                break;
            }
            assert!(
                Instant::now() < deadline,
                "namespaces still referenced: {left:?}"
            );
            std::thread::sleep(Duration::from_millis(10));
        }
        Ok(())
    }
}
