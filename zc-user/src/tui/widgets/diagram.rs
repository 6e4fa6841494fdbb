//! The article's copy diagram, as a widget: boxes for the disk, the page
//! cache, the user buffer (or the mapping), the socket buffer and the veth,
//! the user/kernel boundary between them, and one arrow per kind of movement
//! the run measured. The arrow being played grows from its source to its
//! destination; arrows with no event yet are dim; arrows the run never made
//! are not drawn at all.

use ratatui::{buffer::Buffer, layout::Rect, style::Style, widgets::Widget};
use unicode_width::UnicodeWidthStr as _;

use super::Ctx;
use crate::{
    model::{
        Movement, Place, Strategy,
        outcome::RunOutcome,
        steps::{Step, StepKind},
    },
    tui::{
        playback::Item,
        text::{self, Lang},
        theme::{Theme, strokes},
    },
    units::fmt_bytes,
};

/// Width and height of the compact picture, the one an 80×24 terminal gets.
pub const WIDTH: u16 = 78;
pub const HEIGHT: u16 = 10;
/// The large picture: its height, and the width it needs at least and
/// grows to at most (wider, the boxes would float apart).
pub const LARGE_HEIGHT: u16 = 16;
pub const LARGE_MIN_WIDTH: u16 = 110;
pub const LARGE_MAX_WIDTH: u16 = 170;

/// A box's columns: from `x`, `w` wide.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Span {
    x: u16,
    w: u16,
}

impl Span {
    /// The first column right of the box.
    fn right(self) -> u16 {
        self.x + self.w
    }
}

/// Where everything goes: the boxes' columns, the rows of user space, the
/// boundary and kernel space. Arrows are placed from the boxes, so one set
/// of rules draws the compact picture and the large one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Geom {
    pub width: u16,
    pub height: u16,
    /// The large picture: taller boxes that say what they hold, and arrows
    /// that carry their bytes.
    pub large: bool,
    box_h: u16,
    user_y: u16,
    boundary: u16,
    kernel_y: u16,
    disk: Span,
    cache: Span,
    user: Span,
    pipe: Span,
    sock: Span,
    nic: Span,
    /// The completions' box (error queue or rings), top right.
    extra: Span,
}

impl Geom {
    /// The 78×10 picture drawn since the first version.
    pub const COMPACT: Geom = Geom {
        width: WIDTH,
        height: HEIGHT,
        large: false,
        box_h: 3,
        user_y: 0,
        boundary: 4,
        kernel_y: 5,
        disk: Span { x: 0, w: 8 },
        cache: Span { x: 13, w: 16 },
        user: Span { x: 30, w: 16 },
        pipe: Span { x: 32, w: 12 },
        sock: Span { x: 47, w: 17 },
        nic: Span { x: 70, w: 8 },
        extra: Span { x: 62, w: 16 },
    };

    /// The largest picture that fits `width` × `height`.
    pub fn fitting(width: u16, height: u16) -> Geom {
        if width < LARGE_MIN_WIDTH || height < LARGE_HEIGHT {
            return Geom::COMPACT;
        }
        let width = width.min(LARGE_MAX_WIDTH);
        // Fixed boxes; the room left goes to the gaps, where the arrows
        // and their labels are, in shares that fit the longest labels.
        let gaps = width - (12 + 20 + 20 + 12);
        let (g1, g3) = (gaps * 12 / 54, gaps * 14 / 54);
        let g2 = gaps - g1 - g3;
        let disk = Span { x: 0, w: 12 };
        let cache = Span {
            x: disk.right() + g1,
            w: 20,
        };
        let sock = Span {
            x: cache.right() + g2,
            w: 20,
        };
        Geom {
            width,
            height: LARGE_HEIGHT,
            large: true,
            box_h: 5,
            user_y: 1,
            boundary: 8,
            kernel_y: 9,
            disk,
            cache,
            user: Span {
                x: cache.right() + 4,
                w: 20,
            },
            pipe: Span {
                x: cache.right() + (g2 - 14) / 2,
                w: 14,
            },
            sock,
            nic: Span {
                x: sock.right() + g3,
                w: 12,
            },
            extra: Span {
                x: width - 18,
                w: 18,
            },
        }
    }

    /// The user box's middle row, where arrows enter and leave it.
    fn user_mid(&self) -> u16 {
        self.user_y + self.box_h / 2
    }
    /// The kernel boxes' middle row, where the arrows between them run.
    fn main_row(&self) -> u16 {
        self.kernel_y + self.box_h / 2
    }
    /// The row under it, for a second arrow between the same boxes.
    fn segment_row(&self) -> u16 {
        self.main_row() + 1
    }
    /// The row above it, for the labels of those arrows.
    fn label_row(&self) -> u16 {
        self.main_row() - 1
    }
    /// The first row below the kernel boxes.
    fn below_row(&self) -> u16 {
        self.kernel_y + self.box_h
    }
}

/// A drawn arrow: which movement, and the cells it runs through.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Edge {
    Dma,
    Read,
    Map,
    Write,
    Splice,
    /// Page cache → pipe, by reference (splice into a pipe).
    IntoPipe,
    /// Pipe → socket buffer, by reference (splice out of a pipe).
    OutOfPipe,
    /// User buffer → pipe: the user's pages lent by reference (vmsplice).
    LendToPipe,
    /// User buffer → socket buffer: the user's pages pinned (MSG_ZEROCOPY).
    Pin,
    /// At the veth: pinned pages copied for the peer anyway (skb_copy_ubufs).
    CopyAnyway,
    Xmit,
    Segment,
    Gather,
    /// Page cache → socket buffer through kernel TLS: read and sealed into
    /// the socket's own pages.
    Seal,
    /// Socket buffer → NIC: the NIC's engine reads the skb out of memory
    /// (its pages, wherever they are), measured by its driver's DMA maps.
    NicDma,
}

impl Edge {
    pub const ALL: [Edge; 15] = [
        Edge::Dma,
        Edge::Read,
        Edge::Map,
        Edge::Write,
        Edge::Splice,
        Edge::IntoPipe,
        Edge::OutOfPipe,
        Edge::LendToPipe,
        Edge::Pin,
        Edge::CopyAnyway,
        Edge::Xmit,
        Edge::Segment,
        Edge::Gather,
        Edge::Seal,
        Edge::NicDma,
    ];

    /// The edge a movement is drawn on, if any (the receiver is off-picture).
    pub fn of(m: Movement, from: Place, to: Place) -> Option<Edge> {
        Some(match (m, from, to) {
            (Movement::Dma, Place::Disk, Place::PageCache) => Edge::Dma,
            (Movement::Dma, Place::SocketBuffer, Place::Nic) => Edge::NicDma,
            (Movement::CpuCopy, Place::PageCache, Place::UserBuffer) => Edge::Read,
            (Movement::Mapping, Place::PageCache, Place::Mapping) => Edge::Map,
            (Movement::CpuCopy, Place::UserBuffer | Place::Mapping, Place::SocketBuffer) => {
                Edge::Write
            }
            (Movement::Reference, Place::PageCache, Place::SocketBuffer) => Edge::Splice,
            (Movement::Reference, Place::PageCache, Place::Pipe) => Edge::IntoPipe,
            (Movement::Reference, Place::Pipe, Place::SocketBuffer) => Edge::OutOfPipe,
            (Movement::Reference, Place::UserBuffer, Place::Pipe) => Edge::LendToPipe,
            (Movement::Pin, Place::UserBuffer, Place::SocketBuffer) => Edge::Pin,
            (Movement::CpuCopy, _, Place::Peer) => Edge::CopyAnyway,
            (Movement::SoftwareTransmit, Place::SocketBuffer, Place::Nic) => Edge::Xmit,
            (
                Movement::CpuCopy,
                Place::PageCache | Place::UserBuffer | Place::SocketBuffer,
                Place::Nic,
            ) => Edge::Segment,
            (Movement::Reference, Place::PageCache, Place::Nic) => Edge::Gather,
            (Movement::Cipher, Place::PageCache, Place::SocketBuffer) => Edge::Seal,
            _ => return None,
        })
    }

    /// Its name in exports (the web figure's arrows).
    pub fn name(self) -> &'static str {
        match self {
            Edge::Dma => "dma",
            Edge::Read => "read",
            Edge::Map => "map",
            Edge::Write => "write",
            Edge::Splice => "splice",
            Edge::IntoPipe => "into_pipe",
            Edge::OutOfPipe => "out_of_pipe",
            Edge::LendToPipe => "lend",
            Edge::Pin => "pin",
            Edge::CopyAnyway => "copy_anyway",
            Edge::Xmit => "xmit",
            Edge::Segment => "segment",
            Edge::Gather => "gather",
            Edge::Seal => "seal",
            Edge::NicDma => "nic_dma",
        }
    }

    /// The edges a plan item lights: its step's, or every kind of movement
    /// a folded stretch made.
    pub fn of_item(item: &Item) -> Vec<Edge> {
        arrows(item).into_iter().map(|(e, _)| e).collect()
    }

    pub fn movement(self) -> Movement {
        match self {
            Edge::Dma | Edge::NicDma => Movement::Dma,
            Edge::Read | Edge::Write | Edge::Segment | Edge::CopyAnyway => Movement::CpuCopy,
            Edge::Pin => Movement::Pin,
            Edge::Map => Movement::Mapping,
            Edge::Splice | Edge::IntoPipe | Edge::OutOfPipe | Edge::LendToPipe | Edge::Gather => {
                Movement::Reference
            }
            Edge::Xmit => Movement::SoftwareTransmit,
            Edge::Seal => Movement::Cipher,
        }
    }

    /// Cells from source to destination, and the label with its position,
    /// placed from the boxes of `g` (so the picture scales with them).
    fn geometry(self, g: &Geom) -> Geometry {
        let h = |x0: u16, x1: u16, y: u16| (x0..=x1).map(move |x| (x, y, Turn::H));
        let [disk, cache, user, pipe, sock, nic] = [g.disk, g.cache, g.user, g.pipe, g.sock, g.nic];
        let (main, seg, below) = (g.main_row(), g.segment_row(), g.below_row());
        match self {
            Edge::Dma => (
                h(disk.right(), cache.x - 1, main).collect(),
                "DMA",
                (disk.right() + 1, g.label_row()),
            ),
            Edge::Read | Edge::Map => {
                // Up the right side of the page cache, across the boundary,
                // into the user box from its left.
                let x = cache.right() - 2;
                let mut v: Vec<_> = (g.user_mid() + 1..=g.boundary)
                    .rev()
                    .map(|y| (x, y, Turn::V))
                    .collect();
                v.push((x, g.user_mid(), Turn::DownRight));
                v.extend(h(x + 1, user.x - 1, g.user_mid()));
                let label = if self == Edge::Read {
                    "CPU copy"
                } else {
                    "mapped"
                };
                (v, label, (x.saturating_sub(9), g.user_mid() + 1))
            }
            Edge::Write | Edge::Pin => {
                let corner = sock.x + sock.w / 2 - 1;
                let mut v: Vec<_> = h(user.right() + 1, corner - 1, g.user_mid()).collect();
                v.push((corner, g.user_mid(), Turn::LeftDown));
                v.extend((g.user_mid() + 1..=g.boundary).map(|y| (corner, y, Turn::V)));
                let label = if self == Edge::Pin {
                    "pinned"
                } else {
                    "CPU copy"
                };
                (v, label, (corner + 2, g.user_mid() + 1))
            }
            Edge::Splice => (
                h(cache.right(), sock.x - 1, main).collect(),
                "by reference",
                (cache.right() + 3, g.label_row()),
            ),
            Edge::Seal => (
                h(cache.right(), sock.x - 1, main).collect(),
                "encrypted",
                (cache.right() + 3, g.label_row()),
            ),
            // Short arrows either side of the pipe's box: the legend and the
            // narration say what they are.
            Edge::IntoPipe => (
                h(cache.right(), pipe.x - 1, main).collect(),
                "",
                (cache.right(), g.label_row()),
            ),
            Edge::OutOfPipe => (
                h(pipe.right(), sock.x - 1, main).collect(),
                "",
                (pipe.right(), g.label_row()),
            ),
            // Down from the user buffer into the pipe, across the boundary.
            Edge::LendToPipe => {
                let x = pipe.x + pipe.w / 2;
                let top = g.user_y + g.box_h;
                (
                    (top..=g.boundary).map(|y| (x, y, Turn::V)).collect(),
                    "lent",
                    (x + 2, top),
                )
            }
            Edge::Xmit => (
                h(sock.right(), nic.x - 1, main).collect(),
                "xmit",
                (sock.right() + 1, g.label_row()),
            ),
            // The same way as a software transmit: a run over a NIC has one
            // or the other for each skb.
            Edge::NicDma => (
                h(sock.right(), nic.x - 1, main).collect(),
                "NIC DMA",
                (sock.right() + 1, g.label_row()),
            ),
            Edge::Segment => (
                h(sock.right(), nic.x - 1, seg).collect(),
                "CPU copy",
                (sock.right() - 2, below),
            ),
            // Copied anyway on the way to the receiver (the site is in the
            // report): drawn into the veth box, where the bytes leave.
            Edge::CopyAnyway => (
                h(sock.right(), nic.x - 1, seg).collect(),
                "copied anyway",
                (sock.right() - 7, below),
            ),
            Edge::Gather => {
                let x = cache.x + cache.w / 2;
                let mut v = vec![(x, below, Turn::UpRight)];
                v.extend(h(x + 1, nic.x + 3, below));
                v.push((nic.x + 4, below, Turn::Up));
                (v, "pages by reference (gather)", (x + 5, below + 1))
            }
        }
    }
}

/// An arrow's cells from source to destination, its label, and where the label goes.
type Geometry = (Vec<(u16, u16, Turn)>, &'static str, (u16, u16));

/// How a path cell turns, to pick its character.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Turn {
    H,
    V,
    /// Coming up, turning right: ┌
    DownRight,
    /// Coming from the left, turning down: ┐
    LeftDown,
    /// Coming down (from a box above... here: from below), turning right: └
    UpRight,
    /// Last cell going up.
    Up,
}

/// How an arrow is to be drawn now.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum EdgeState {
    /// Measured, but not reached by playback yet.
    Pending,
    /// Played already.
    Done,
    /// Being played: fraction of the path drawn.
    Active(f32),
}

/// What the diagram needs to know.
pub struct Diagram<'a> {
    pub strategy: Strategy,
    pub lang: Lang,
    pub theme: Theme,
    /// Edges the run has, with their state.
    pub edges: Vec<(Edge, EdgeState)>,
    /// Places touched by the item being played.
    pub active_places: Vec<Place>,
    /// Places touched by anything played so far.
    pub seen_places: Vec<Place>,
    /// The run read nothing from disk (warm cache).
    pub warm: bool,
    /// The run went over borrowed NICs (`--nic`), not the veth.
    pub nic: bool,
    /// Bytes each arrow moved in the whole run (the large picture shows them).
    pub bytes: Vec<(Edge, u64)>,
    /// What each box holds, in a few words (the large picture shows them).
    pub contents: Vec<(Place, String)>,
    pub current: Option<&'a Item>,
}

impl<'a> Diagram<'a> {
    /// The diagram at the app's current plan item: every edge the run has,
    /// done, being played or still to come.
    pub fn of(ctx: Ctx<'a>) -> Option<Diagram<'a>> {
        let app = ctx.app;
        let played = app.current()?;
        let item = played.plan.items.get(app.pos());
        let mut edges: Vec<(Edge, EdgeState)> = Vec::new();
        let mut seen_places = Vec::new();
        for (i, it) in played.plan.items.iter().enumerate() {
            let state = if i < app.pos() {
                EdgeState::Done
            } else if i == app.pos() {
                EdgeState::Active(app.anim())
            } else {
                EdgeState::Pending
            };
            if i <= app.pos() {
                seen_places.extend(touched(it).1);
            }
            for (edge, places) in arrows(it) {
                if i <= app.pos() {
                    seen_places.extend(places);
                }
                match edges.iter_mut().find(|(e, _)| *e == edge) {
                    // The most advanced state wins: active over done over pending.
                    Some((_, s)) => {
                        if matches!(state, EdgeState::Active(_))
                            || (*s == EdgeState::Pending && state == EdgeState::Done)
                        {
                            *s = state;
                        }
                    }
                    None => edges.push((edge, state)),
                }
            }
        }
        // Draw active last so it sits on top where paths cross.
        edges.sort_by_key(|(_, s)| match s {
            EdgeState::Pending => 0,
            EdgeState::Done => 1,
            EdgeState::Active(_) => 2,
        });
        let active_places = item.map(|i| touched(i).1).unwrap_or_default();
        Some(Diagram {
            strategy: app.strategy(),
            lang: app.lang(),
            theme: *ctx.theme,
            edges,
            active_places,
            seen_places,
            warm: !played.outcome.facts.cold,
            nic: played.outcome.facts.nic,
            bytes: played.edge_bytes.clone(),
            contents: contents(&played.outcome, app.lang()),
            current: item,
        })
    }
}

/// Bytes each arrow moved in the whole run, from the steps.
pub fn edge_bytes(steps: &[Step]) -> Vec<(Edge, u64)> {
    let mut out: Vec<(Edge, u64)> = Vec::new();
    for s in steps {
        if let StepKind::Move {
            movement,
            from,
            to,
            bytes,
        } = s.kind
            && let Some(edge) = Edge::of(movement, from, to)
        {
            match out.iter_mut().find(|(e, _)| *e == edge) {
                Some((_, b)) => *b += bytes,
                None => out.push((edge, bytes)),
            }
        }
    }
    out
}

/// What each box holds, measured: the file, its pages, the buffer, the
/// skbs queued and sent, the completions and ring requests.
fn contents(o: &RunOutcome, lang: Lang) -> Vec<(Place, String)> {
    use zc_common::counters::Counter;
    let size = fmt_bytes(o.facts.size);
    let pages = o.facts.size.div_ceil(crate::model::PAGE_SIZE);
    let (queued, sent) = (
        o.counts.get(Counter::QueueSkbs),
        o.counts.get(Counter::XmitSkbs),
    );
    let completions: u64 = o
        .steps
        .iter()
        .map(|s| match s.kind {
            StepKind::Completion { sends, .. } => sends,
            _ => 0,
        })
        .sum();
    let requests = o
        .steps
        .iter()
        .filter(|s| {
            matches!(
                s.kind,
                StepKind::Ring {
                    complete: false,
                    ..
                }
            )
        })
        .count();
    let chunk = fmt_bytes(o.facts.chunk);
    match lang {
        Lang::En => vec![
            (Place::Disk, size.clone()),
            (Place::PageCache, format!("{pages} pages")),
            (Place::UserBuffer, format!("{chunk} at a time")),
            (Place::Mapping, format!("{size} mapped")),
            (Place::Pipe, format!("{chunk} refs")),
            (Place::SocketBuffer, format!("{queued} skbs queued")),
            (Place::Nic, format!("{sent} sent")),
            (Place::ErrorQueue, format!("{completions} sends done")),
            (Place::Rings, format!("{requests} requests")),
        ],
        Lang::Zh => vec![
            (Place::Disk, size.clone()),
            (Place::PageCache, format!("{pages} 页")),
            (Place::UserBuffer, format!("每次 {chunk}")),
            (Place::Mapping, format!("映射 {size}")),
            (Place::Pipe, format!("引用 {chunk}")),
            (Place::SocketBuffer, format!("{queued} 个 skb 入队")),
            (Place::Nic, format!("发出 {sent} 个")),
            (Place::ErrorQueue, format!("{completions} 次发送完成")),
            (Place::Rings, format!("{requests} 个请求")),
        ],
    }
}

/// The boxes the picture may draw, with where they go in `g`.
fn boxes(g: &Geom) -> [(Place, Span, u16); 9] {
    let k = g.kernel_y;
    [
        (Place::Disk, g.disk, k),
        (Place::PageCache, g.cache, k),
        (Place::UserBuffer, g.user, g.user_y),
        (Place::SocketBuffer, g.sock, k),
        (Place::Nic, g.nic, k),
        // The pipe sits between the page cache and the socket buffer.
        (Place::Pipe, g.pipe, k),
        // Where a strategy's completions come from, top right in user
        // space's view: the error queue (MSG_ZEROCOPY) or the io_uring
        // rings. Lit while a completion (or a ring request) is played.
        (Place::ErrorQueue, g.extra, g.user_y),
        (Place::Rings, g.extra, g.user_y),
        // Not a box of its own: the mapping takes the user buffer's place.
        (Place::Mapping, g.user, g.user_y),
    ]
}

fn put(buf: &mut Buffer, area: Rect, x: u16, y: u16, s: &str, style: Style) {
    if y < area.height && x < area.width {
        buf.set_stringn(area.x + x, area.y + y, s, (area.width - x) as usize, style);
    }
}

pub fn label_of(place: Place, lang: Lang) -> &'static str {
    match (place, lang) {
        (Place::Disk, Lang::En) => "disk",
        (Place::Disk, Lang::Zh) => "磁盘",
        (Place::PageCache, Lang::En) => "page cache",
        (Place::PageCache, Lang::Zh) => "页缓存",
        (Place::Mapping, Lang::En) => "mmap'd pages",
        (Place::Mapping, Lang::Zh) => "映射页面",
        (Place::UserBuffer, Lang::En) => "user buffer",
        (Place::UserBuffer, Lang::Zh) => "用户缓冲区",
        (Place::Pipe, Lang::En) => "pipe",
        (Place::Pipe, Lang::Zh) => "管道",
        (Place::SocketBuffer, Lang::En) => "socket buffer",
        (Place::SocketBuffer, Lang::Zh) => "套接字缓冲区",
        (Place::Nic, _) => "veth",
        (Place::ErrorQueue, Lang::En) => "error queue",
        (Place::ErrorQueue, Lang::Zh) => "错误队列",
        (Place::Rings, Lang::En) => "SQ/CQ rings",
        (Place::Rings, Lang::Zh) => "SQ/CQ 环",
        (_, _) => "",
    }
}

impl Widget for &Diagram<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let g = Geom::fitting(area.width, area.height);
        let area = Rect {
            x: area.x + area.width.saturating_sub(g.width) / 2,
            y: area.y,
            width: area.width.min(g.width),
            height: area.height.min(g.height),
        };
        let t = &self.theme;
        let spec = self.strategy.spec();
        put(buf, area, 0, 0, text::COPIES.get(self.lang), t.section());
        // The axis of the picture: the user/kernel boundary.
        let dashes: String = (0..g.width)
            .map(|i| if i % 2 == 0 { '─' } else { ' ' })
            .collect();
        put(buf, area, 0, g.boundary, &dashes, t.dim());
        let side = g.width - 16;
        let user_space = text::lpad(text::USER_SPACE.get(self.lang), 16);
        put(buf, area, side, g.boundary - 1, &user_space, t.dim());
        let kernel_space = text::lpad(text::KERNEL_SPACE.get(self.lang), 16);
        put(buf, area, side, g.below_row() + 1, &kernel_space, t.dim());

        // The user-space box holds the mapping when the strategy maps the
        // file instead of reading it into a buffer; the pipe and the
        // completions' box are drawn for the strategies that use them.
        let maps = spec.nodes.contains(&Place::Mapping);
        let drawn = |place: Place| match place {
            Place::UserBuffer => !maps,
            Place::Mapping => maps,
            Place::Pipe => spec.nodes.contains(&Place::Pipe),
            Place::ErrorQueue | Place::Rings => spec.uses(place),
            _ => true,
        };
        // A buffer a zero-copy send pins is named so.
        let pins = spec.pins();
        for (place, span, y) in boxes(&g).into_iter().filter(|(p, ..)| drawn(*p)) {
            // A box the strategy never uses (the user buffer of sendfile) stays dim.
            let style = if self.active_places.contains(&place) {
                t.active()
            } else if self.seen_places.contains(&place) {
                t.base()
            } else {
                t.dim()
            };
            let inner = (span.w - 2) as usize;
            let label = match (place, pins, self.lang) {
                (Place::UserBuffer, true, Lang::En) => "pinned buffer",
                (Place::UserBuffer, true, Lang::Zh) => "钉住的缓冲区",
                (Place::Nic, _, _) if self.nic => "NIC",
                _ => label_of(place, self.lang),
            };
            let frame = if style == t.active() {
                t.base().patch(t.section())
            } else {
                style
            };
            let blank = format!("│{}│", " ".repeat(inner));
            put(
                buf,
                area,
                span.x,
                y,
                &format!("┌{}┐", "─".repeat(inner)),
                frame,
            );
            for row in y + 1..y + g.box_h - 1 {
                put(buf, area, span.x, row, &blank, frame);
            }
            let last = y + g.box_h - 1;
            put(
                buf,
                area,
                span.x,
                last,
                &format!("└{}┘", "─".repeat(inner)),
                frame,
            );
            put(buf, area, span.x + 1, y + 1, &center(label, inner), style);
            // The large picture says what each box holds.
            if g.large
                && let Some((_, what)) = self.contents.iter().find(|(p, _)| *p == place)
            {
                put(buf, area, span.x + 1, y + 3, &center(what, inner), t.dim());
            }
        }
        if self.warm && !self.edges.iter().any(|(e, _)| *e == Edge::Dma) {
            let note = match self.lang {
                Lang::En => "warm: no disk read",
                Lang::Zh => "缓存命中：无磁盘读取",
            };
            put(buf, area, 0, g.below_row(), note, t.dim());
        }
        // The veth has no engine, and a NIC's may go unseen (a kernel
        // without the dma tracepoints): say so on the box itself.
        let note = match (self.nic, self.lang) {
            (_, _) if self.edges.iter().any(|(e, _)| *e == Edge::NicDma) => None,
            (false, Lang::En) => Some("no DMA"),
            (false, Lang::Zh) => Some("无DMA "),
            (true, Lang::En) => Some("DMA unseen"),
            (true, Lang::Zh) => Some("未见DMA "),
        };
        if let Some(note) = note {
            put(
                buf,
                area,
                g.nic.x + 1,
                g.kernel_y + g.box_h - 1,
                note,
                t.dim(),
            );
        }

        for (edge, state) in &self.edges {
            // The large picture's arrows carry the bytes they moved.
            let bytes = self
                .bytes
                .iter()
                .find(|(e, _)| e == edge)
                .map(|(_, b)| *b)
                .filter(|_| g.large);
            draw_edge(buf, area, &g, (*edge, *state, bytes), t);
        }
    }
}

fn center(s: &str, w: usize) -> String {
    let len = s.width();
    if len >= w {
        return s.to_string();
    }
    let left = (w - len) / 2;
    format!("{}{}{}", " ".repeat(left), s, " ".repeat(w - len - left))
}

fn draw_edge(
    buf: &mut Buffer,
    area: Rect,
    g: &Geom,
    (edge, state, bytes): (Edge, EdgeState, Option<u64>),
    t: &Theme,
) {
    let (cells, label, (lx, ly)) = edge.geometry(g);
    let (hc, vc, head_right, head_down) = strokes(edge.movement());
    let style = match state {
        EdgeState::Pending => t.dim(),
        EdgeState::Done => t.movement(edge.movement()),
        EdgeState::Active(_) => t.movement(edge.movement()).patch(t.active()),
    };
    let shown = match state {
        EdgeState::Active(f) => ((cells.len() as f32 * f.clamp(0.0, 1.0)).ceil() as usize).max(1),
        _ => cells.len(),
    };
    for (i, (x, y, turn)) in cells.iter().take(shown).enumerate() {
        let last = i + 1 == shown;
        let c = if last {
            match turn {
                Turn::V | Turn::LeftDown if *y > g.user_mid() => head_down,
                Turn::Up => '^',
                _ => head_right,
            }
        } else {
            match turn {
                Turn::H => hc,
                Turn::V => vc,
                Turn::DownRight => '┌',
                Turn::LeftDown => '┐',
                Turn::UpRight => '└',
                Turn::Up => '^',
            }
        };
        // The read/map arrow goes up: its vertical cells point up when last.
        let c = if last && edge_goes_up(edge) && *turn == Turn::V {
            '^'
        } else {
            c
        };
        put(buf, area, *x, *y, &c.to_string(), style);
    }
    match bytes {
        Some(b) if !label.is_empty() => {
            let text = format!("{label} {}", fmt_bytes(b));
            // A label left of its arrow (read, map) ends where it did.
            let lx = if edge_goes_up(edge) {
                (lx + label.width() as u16).saturating_sub(text.width() as u16)
            } else {
                lx
            };
            put(buf, area, lx, ly, &text, style);
        }
        _ => put(buf, area, lx, ly, label, style),
    }
}

fn edge_goes_up(e: Edge) -> bool {
    matches!(e, Edge::Read | Edge::Map)
}

/// The arrows a plan item draws, with the places each touches: a step's
/// one, or every kind of movement a folded stretch made.
fn arrows(item: &Item) -> Vec<(Edge, [Place; 2])> {
    match item {
        Item::Group { moves, .. } => moves
            .iter()
            .filter_map(|&(m, from, to)| Edge::of(m, from, to).map(|e| (e, [from, to])))
            .collect(),
        _ => match touched(item) {
            (Some(e), places) if places.len() == 2 => vec![(e, [places[0], places[1]])],
            _ => Vec::new(),
        },
    }
}

/// The edge and places the current plan item touches.
pub fn touched(item: &Item) -> (Option<Edge>, Vec<Place>) {
    match item {
        Item::Step {
            kind: StepKind::Completion { .. },
            ..
        } => (None, vec![Place::ErrorQueue, Place::Rings]),
        Item::Step {
            kind: StepKind::Ring { .. },
            ..
        } => (None, vec![Place::Rings]),
        Item::Step {
            kind: StepKind::Move {
                movement, from, to, ..
            },
            ..
        } => (Edge::of(*movement, *from, *to), vec![*from, *to]),
        _ => (None, Vec::new()),
    }
}
