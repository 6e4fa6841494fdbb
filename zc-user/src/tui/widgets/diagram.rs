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
    model::{Movement, Place, Strategy, steps::StepKind},
    tui::{
        playback::Item,
        text::{self, Lang},
        theme::{Theme, strokes},
    },
};

/// Width and height the diagram is laid out for.
pub const WIDTH: u16 = 78;
pub const HEIGHT: u16 = 10;

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
}

impl Edge {
    pub const ALL: [Edge; 13] = [
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
    ];

    /// The edge a movement is drawn on, if any (the receiver is off-picture).
    pub fn of(m: Movement, from: Place, to: Place) -> Option<Edge> {
        Some(match (m, from, to) {
            (Movement::Dma, Place::Disk, Place::PageCache) => Edge::Dma,
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
            _ => return None,
        })
    }

    fn movement(self) -> Movement {
        match self {
            Edge::Dma => Movement::Dma,
            Edge::Read | Edge::Write | Edge::Segment | Edge::CopyAnyway => Movement::CpuCopy,
            Edge::Pin => Movement::Pin,
            Edge::Map => Movement::Mapping,
            Edge::Splice | Edge::IntoPipe | Edge::OutOfPipe | Edge::LendToPipe | Edge::Gather => {
                Movement::Reference
            }
            Edge::Xmit => Movement::SoftwareTransmit,
        }
    }

    /// Cells from source to destination, and the label with its position.
    fn geometry(self) -> Geometry {
        let h = |x0: u16, x1: u16, y: u16| (x0..=x1).map(move |x| (x, y, Turn::H));
        match self {
            Edge::Dma => (h(8, 12, 6).collect(), "DMA", (9, 5)),
            Edge::Read | Edge::Map => {
                let mut v: Vec<_> = (2..=4).rev().map(|y| (27, y, Turn::V)).collect();
                v.push((27, 1, Turn::DownRight));
                v.extend(h(28, 29, 1));
                (
                    v,
                    if self == Edge::Read {
                        "CPU copy"
                    } else {
                        "mapped"
                    },
                    (18, 2),
                )
            }
            Edge::Write | Edge::Pin => {
                let mut v: Vec<_> = h(47, 53, 1).collect();
                v.push((54, 1, Turn::LeftDown));
                v.extend((2..=4).map(|y| (54, y, Turn::V)));
                let label = if self == Edge::Pin {
                    "pinned"
                } else {
                    "CPU copy"
                };
                (v, label, (56, 2))
            }
            Edge::Splice => (h(29, 46, 6).collect(), "by reference", (32, 5)),
            // Short arrows either side of the pipe's box: the legend and the
            // narration say what they are.
            Edge::IntoPipe => (h(29, 31, 6).collect(), "", (29, 5)),
            Edge::OutOfPipe => (h(44, 46, 6).collect(), "", (44, 5)),
            // Down from the user buffer into the pipe, across the boundary.
            Edge::LendToPipe => ((3..=4).map(|y| (38, y, Turn::V)).collect(), "lent", (40, 3)),
            Edge::Xmit => (h(64, 69, 6).collect(), "xmit", (65, 5)),
            Edge::Segment => (h(64, 69, 7).collect(), "CPU copy", (62, 8)),
            // Copied anyway on the way to the receiver (the site is in the
            // report): drawn into the veth box, where the bytes leave.
            Edge::CopyAnyway => (h(64, 69, 7).collect(), "copied anyway", (57, 8)),
            Edge::Gather => {
                let mut v = vec![(21, 8, Turn::UpRight)];
                v.extend(h(22, 73, 8));
                v.push((74, 8, Turn::Up));
                (v, "pages by reference (gather)", (26, 9))
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
            current: item,
        })
    }
}

struct Boxed {
    place: Place,
    x: u16,
    y: u16,
    w: u16,
}

const BOXES: [Boxed; 5] = [
    Boxed {
        place: Place::Disk,
        x: 0,
        y: 5,
        w: 8,
    },
    Boxed {
        place: Place::PageCache,
        x: 13,
        y: 5,
        w: 16,
    },
    Boxed {
        place: Place::UserBuffer,
        x: 30,
        y: 0,
        w: 16,
    },
    Boxed {
        place: Place::SocketBuffer,
        x: 47,
        y: 5,
        w: 17,
    },
    Boxed {
        place: Place::Nic,
        x: 70,
        y: 5,
        w: 8,
    },
];

/// Where a strategy's completions come from, top right in user space's
/// view: the error queue (MSG_ZEROCOPY) or the io_uring rings. Lit while a
/// completion (or a ring request) is played.
const COMPLETIONS_BOX: [Boxed; 2] = [
    Boxed {
        place: Place::ErrorQueue,
        x: 62,
        y: 0,
        w: 16,
    },
    Boxed {
        place: Place::Rings,
        x: 62,
        y: 0,
        w: 16,
    },
];

const PIPE_BOX: Boxed = Boxed {
    place: Place::Pipe,
    x: 32,
    y: 5,
    w: 12,
};

fn put(buf: &mut Buffer, area: Rect, x: u16, y: u16, s: &str, style: Style) {
    if y < area.height && x < area.width {
        buf.set_stringn(area.x + x, area.y + y, s, (area.width - x) as usize, style);
    }
}

fn label_of(place: Place, lang: Lang) -> &'static str {
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
        let area = Rect {
            x: area.x + area.width.saturating_sub(WIDTH) / 2,
            y: area.y,
            width: area.width.min(WIDTH),
            height: area.height.min(HEIGHT),
        };
        let t = &self.theme;
        put(buf, area, 0, 0, text::COPIES.get(self.lang), t.section());
        // The axis of the picture: the user/kernel boundary.
        let dashes: String = (0..WIDTH)
            .map(|i| if i % 2 == 0 { '─' } else { ' ' })
            .collect();
        put(buf, area, 0, 4, &dashes, t.dim());
        put(
            buf,
            area,
            62,
            3,
            &text::lpad(text::USER_SPACE.get(self.lang), 16),
            t.dim(),
        );
        put(
            buf,
            area,
            62,
            9,
            &text::lpad(text::KERNEL_SPACE.get(self.lang), 16),
            t.dim(),
        );

        for b in BOXES.iter().chain(
            // The pipe sits between the page cache and the socket buffer,
            // drawn only for a strategy that splices through one.
            self.strategy
                .spec()
                .nodes
                .contains(&Place::Pipe)
                .then_some(&PIPE_BOX)
                .into_iter()
                .chain(
                    COMPLETIONS_BOX
                        .iter()
                        .filter(|b| self.strategy.spec().uses(b.place)),
                ),
        ) {
            // The user-space box holds the mapping when the strategy maps
            // the file instead of reading it into a buffer.
            let place = if b.place == Place::UserBuffer
                && self.strategy.spec().nodes.contains(&Place::Mapping)
            {
                Place::Mapping
            } else {
                b.place
            };
            let style = if self.active_places.contains(&place) {
                t.active()
            } else if self.seen_places.contains(&place) {
                t.base()
            } else {
                t.dim()
            };
            // A box the strategy never uses (the user buffer of sendfile) stays dim.
            let inner = (b.w - 2) as usize;
            let top = format!("┌{}┐", "─".repeat(inner));
            let bottom = format!("└{}┘", "─".repeat(inner));
            // A buffer a zero-copy send pins is named so.
            let pins = self.strategy.spec().uses(Place::ErrorQueue)
                || self.strategy.spec().uses(Place::Rings);
            let label = match (place, pins, self.lang) {
                (Place::UserBuffer, true, Lang::En) => "pinned buffer",
                (Place::UserBuffer, true, Lang::Zh) => "钉住的缓冲区",
                _ => label_of(place, self.lang),
            };
            let mid = format!("│{}│", center(label, inner));
            let frame = if style == t.active() {
                t.base().patch(t.section())
            } else {
                style
            };
            put(buf, area, b.x, b.y, &top, frame);
            put(buf, area, b.x, b.y + 1, &mid, frame);
            put(buf, area, b.x + 1, b.y + 1, &center(label, inner), style);
            put(buf, area, b.x, b.y + 2, &bottom, frame);
        }
        if self.warm && !self.edges.iter().any(|(e, _)| *e == Edge::Dma) {
            let note = match self.lang {
                Lang::En => "warm: no disk read",
                Lang::Zh => "缓存命中：无磁盘读取",
            };
            put(buf, area, 0, 8, note, t.dim());
        }
        // veth has no NIC behind it: say so on the box itself.
        put(
            buf,
            area,
            71,
            7,
            match self.lang {
                Lang::En => "no DMA",
                Lang::Zh => "无DMA ",
            },
            t.dim(),
        );

        for (edge, state) in &self.edges {
            draw_edge(buf, area, *edge, *state, t);
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

fn draw_edge(buf: &mut Buffer, area: Rect, edge: Edge, state: EdgeState, t: &Theme) {
    let (cells, label, (lx, ly)) = edge.geometry();
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
                Turn::V | Turn::LeftDown if *y > 1 => head_down,
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
    put(buf, area, lx, ly, label, style);
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
