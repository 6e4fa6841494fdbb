//! The demo file's pages as a grid, one cell per page (or per group of
//! pages when the file is large), each cell showing the strongest thing the
//! run has done to its pages so far: read from disk, referenced, mapped,
//! copied, copied into a pinned buffer, or sent by the device as an skb
//! frag that *is* that page. The pages of the step being played are
//! highlighted. Glyphs tell the classes apart without colour.
//!
//! Every lit cell comes from an event that names the page's index in the
//! file (`model::pages`); a page no event names stays a dot.

use unicode_width::UnicodeWidthStr as _;

use ratatui::{
    buffer::Buffer,
    layout::Rect,
    style::Style,
    text::{Line, Span},
    widgets::Widget,
};

use super::Ctx;
use crate::{
    model::{
        Movement, PAGE_SIZE,
        pages::{PageMap, Touch},
    },
    tui::{playback::Touched, text::Lang, theme::Theme},
    units::fmt_bytes,
};

pub struct PageMapView<'a>(pub Ctx<'a>);

/// A cell's glyph: one shape per kind of touch.
pub fn glyph(touch: Option<Touch>) -> char {
    match touch {
        None => '·',
        Some(Touch::Disk) => 'o',
        Some(Touch::Referenced) => ':',
        Some(Touch::Mapped) => 'm',
        Some(Touch::Copied) => '#',
        Some(Touch::Pinned) => 'p',
        Some(Touch::AtDevice) => '@',
        Some(Touch::NicDma) => '%',
    }
}

/// The arrow style a touch shares with the diagram.
fn style_of(t: &Theme, touch: Option<Touch>) -> Style {
    match touch {
        None => t.dim(),
        Some(Touch::Disk) => t.movement(Movement::Dma),
        Some(Touch::Referenced) => t.movement(Movement::Reference),
        Some(Touch::Mapped) => t.movement(Movement::Mapping),
        Some(Touch::Copied) => t.movement(Movement::CpuCopy),
        Some(Touch::Pinned) => t.movement(Movement::Pin),
        Some(Touch::AtDevice) => t.movement(Movement::Reference).patch(t.section()),
        Some(Touch::NicDma) => t.movement(Movement::Dma).patch(t.section()),
    }
}

pub fn touch_name(touch: Touch, lang: Lang) -> &'static str {
    match (touch, lang) {
        (Touch::Disk, Lang::En) => "read from disk",
        (Touch::Disk, Lang::Zh) => "从磁盘读入",
        (Touch::Referenced, Lang::En) => "referenced",
        (Touch::Referenced, Lang::Zh) => "被引用",
        (Touch::Mapped, Lang::En) => "mapped",
        (Touch::Mapped, Lang::Zh) => "被映射",
        (Touch::Copied, Lang::En) => "copied by the CPU",
        (Touch::Copied, Lang::Zh) => "被 CPU 拷贝",
        (Touch::Pinned, Lang::En) => "copy pinned",
        (Touch::Pinned, Lang::Zh) => "副本被钉住",
        (Touch::AtDevice, Lang::En) => "skb frag at the device",
        (Touch::AtDevice, Lang::Zh) => "作为 skb 分片到达设备",
        (Touch::NicDma, Lang::En) => "DMA'd by the NIC",
        (Touch::NicDma, Lang::Zh) => "被网卡 DMA 读取",
    }
}

/// The legend's words on a narrow line.
fn short_name(touch: Touch, lang: Lang) -> &'static str {
    match (touch, lang) {
        (Touch::Disk, Lang::En) => "disk",
        (Touch::Referenced, Lang::En) => "ref",
        (Touch::Mapped, Lang::En) => "mapped",
        (Touch::Copied, Lang::En) => "copied",
        (Touch::Pinned, Lang::En) => "pinned",
        (Touch::AtDevice, Lang::En) => "frag at device",
        (Touch::NicDma, Lang::En) => "NIC DMA",
        (t, Lang::Zh) => touch_name(t, Lang::Zh),
    }
}

/// The map after the plan's items up to and including `pos`.
pub fn map_at(touched: &[Touched], file_bytes: u64, pos: usize) -> PageMap {
    let mut map = PageMap::new(file_bytes);
    for item in touched.iter().take(pos + 1) {
        for (page, touch) in item {
            map.mark(std::slice::from_ref(page), *touch);
        }
    }
    map
}

/// Pages per cell so that `pages` fit in `cells`: a power of two, so a
/// group is a round size (16 pages = 64 KiB).
pub fn group_size(pages: usize, cells: usize) -> usize {
    pages.div_ceil(cells.max(1)).max(1).next_power_of_two()
}

/// The largest power of two not above `n` (at least 1).
fn prev_power_of_two(n: usize) -> usize {
    if n < 2 {
        1
    } else {
        1 << (usize::BITS - 1 - n.leading_zeros())
    }
}

/// The sentence that proves zero copy page by page, when the item sent
/// file pages as skb frags: the first frag and the page it is.
pub fn proof(touched: &Touched, lang: Lang) -> Option<String> {
    if let Some(line) = dma_proof(touched, lang) {
        return Some(line);
    }
    let (page, _) = touched
        .iter()
        .find(|(p, t)| *t == Touch::AtDevice && p.frag.is_some())?;
    let frag = page.frag?;
    let mut pages: Vec<u32> = touched
        .iter()
        .filter(|(_, t)| *t == Touch::AtDevice)
        .map(|(p, _)| p.page)
        .collect();
    pages.sort_unstable();
    pages.dedup();
    let pages = pages.len();
    Some(match lang {
        Lang::En => format!(
            "frag {frag} of this skb is page {} of the file: the device sends the page cache's own page ({pages} such pages here)",
            page.page
        ),
        Lang::Zh => format!(
            "这个 skb 的第 {frag} 个分片就是文件的第 {} 页：设备发送的正是页缓存自己的页（此处共 {pages} 页）",
            page.page
        ),
    })
}

/// The NIC's engine reading the file's own pages: the first one named,
/// and how many.
fn dma_proof(touched: &Touched, lang: Lang) -> Option<String> {
    let mut pages: Vec<u32> = touched
        .iter()
        .filter(|(_, t)| *t == Touch::NicDma)
        .map(|(p, _)| p.page)
        .collect();
    let first = *pages.first()?;
    pages.sort_unstable();
    pages.dedup();
    let n = pages.len();
    Some(match lang {
        Lang::En => format!(
            "the NIC's DMA read page {first} of the file straight from the page cache ({n} such pages here): the page is the engine's source, no CPU copied it"
        ),
        Lang::Zh => format!(
            "网卡的 DMA 直接从页缓存读取了文件的第 {first} 页（此处共 {n} 页）：这一页就是 DMA 引擎的数据源，没有 CPU 拷贝"
        ),
    })
}

impl Widget for PageMapView<'_> {
    fn render(self, area: Rect, buf: &mut Buffer) {
        let Ctx { app, theme: t } = self.0;
        let Some(played) = app.current() else {
            return;
        };
        if area.height < 4 || area.width < 20 {
            return;
        }
        let lang = app.lang();
        let pos = app.pos();
        let file = played.outcome.facts.size;
        let map = map_at(&played.plan.touched, file, pos);
        let now: &Touched = played.plan.touched.get(pos).map_or(&EMPTY, |v| v);
        // Rows start with the index of their first page; a row holds a
        // power of two of cells, so page numbers are easy to count.
        let gutter = map.pages().max(1).to_string().len() + 1;
        let cols = prev_power_of_two((area.width as usize).saturating_sub(gutter + 2));
        let rows = (area.height - 3) as usize;
        let group = group_size(map.pages(), cols * rows);
        let cells = map.pages().div_ceil(group);
        let per = match lang {
            Lang::En if group == 1 => "1 cell = 1 page (4 KiB)".to_string(),
            Lang::En => format!(
                "1 cell = {group} pages ({}): its strongest touch",
                fmt_bytes(group as u64 * PAGE_SIZE)
            ),
            Lang::Zh if group == 1 => "1 格 = 1 页 (4 KiB)".to_string(),
            Lang::Zh => format!(
                "1 格 = {group} 页 ({})：显示其中最强的操作",
                fmt_bytes(group as u64 * PAGE_SIZE)
            ),
        };
        let title = match lang {
            Lang::En => format!("PAGES OF THE FILE  {} pages · {per}", map.pages()),
            Lang::Zh => format!("文件的页  共 {} 页 · {per}", map.pages()),
        };
        buf.set_stringn(area.x, area.y, title, area.width as usize, t.section());
        for cell in 0..cells {
            let (row, col) = (cell / cols, cell % cols);
            if row >= rows {
                break;
            }
            if col == 0 {
                let first = format!("{:>w$} ", cell * group, w = gutter - 1);
                buf.set_string(area.x + 1, area.y + 1 + row as u16, first, t.dim());
            }
            let pages = cell * group..((cell + 1) * group).min(map.pages());
            let touch = map.strongest_in(pages.clone());
            let mut style = style_of(t, touch);
            if now.iter().any(|(p, _)| pages.contains(&(p.page as usize))) {
                style = style.patch(t.active());
            }
            buf.set_string(
                area.x + 1 + (gutter + col) as u16,
                area.y + 1 + row as u16,
                glyph(touch).to_string(),
                style,
            );
        }
        // The legend: each glyph, what it means, and how many pages have it.
        let mut spans = vec![Span::styled(format!("{} ", glyph(None)), t.dim())];
        // Where the page cache's tracepoints never fired (tmpfs), an empty
        // cell is a page not seen, not a page nothing touched.
        let seen = played.outcome.page_cache_seen();
        spans.push(Span::styled(
            match (lang, seen) {
                (Lang::En, true) => "untouched  ",
                (Lang::Zh, true) => "未触及  ",
                (Lang::En, false) => "not seen on this file system  ",
                (Lang::Zh, false) => "此文件系统上看不到  ",
            },
            t.dim(),
        ));
        // The NIC's engine only where the run went over a NIC: on the veth
        // the explanation says why there is none.
        let shown: Vec<Touch> = Touch::ALL
            .into_iter()
            .filter(|tc| *tc != Touch::NicDma || played.outcome.facts.nic)
            .collect();
        // Long names when the line has room for them, short ones otherwise.
        let long: usize = shown
            .iter()
            .map(|tc| touch_name(*tc, lang).width() + 10)
            .sum();
        let name = |tc: Touch| {
            if long + 14 <= area.width as usize {
                touch_name(tc, lang)
            } else {
                short_name(tc, lang)
            }
        };
        for touch in shown {
            spans.push(Span::styled(
                format!("{} ", glyph(Some(touch))),
                style_of(t, Some(touch)),
            ));
            spans.push(Span::styled(
                format!("{} {}  ", name(touch), map.count(touch)),
                t.base(),
            ));
        }
        let legend_y = area.y + area.height - 2;
        Line::from(spans).render(Rect::new(area.x, legend_y, area.width, 1), buf);
        let caption = proof(now, lang).unwrap_or_else(|| step_pages(now, lang));
        buf.set_stringn(area.x, legend_y + 1, caption, area.width as usize, t.base());
    }
}

static EMPTY: Touched = Vec::new();

/// What the item did to which pages, when it is not a frag's proof.
fn step_pages(touched: &Touched, lang: Lang) -> String {
    let Some((_, touch)) = touched.first() else {
        return String::new();
    };
    let (lo, hi) = touched.iter().fold((u32::MAX, 0), |(lo, hi), (p, _)| {
        (lo.min(p.page), hi.max(p.page))
    });
    let range = if lo == hi {
        format!("{lo}")
    } else {
        format!("{lo}–{hi}")
    };
    match lang {
        Lang::En => format!(
            "this step: pages {range} of the file, {}",
            touch_name(*touch, lang)
        ),
        Lang::Zh => format!("这一步：文件的第 {range} 页，{}", touch_name(*touch, lang)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::pages::{PageRef, range};

    #[test]
    fn groups_are_powers_of_two_that_fit() {
        assert_eq!(group_size(256, 1000), 1);
        assert_eq!(group_size(65536, 1960), 64);
        assert!(65536usize.div_ceil(group_size(65536, 1960)) <= 1960);
    }

    #[test]
    fn the_map_grows_with_the_plan() {
        let touched = vec![
            range(0, 3).into_iter().map(|p| (p, Touch::Disk)).collect(),
            vec![(
                PageRef {
                    page: 2,
                    frag: Some(5),
                },
                Touch::AtDevice,
            )],
        ];
        let before = map_at(&touched, 4 * PAGE_SIZE, 0);
        assert_eq!(before.strongest(2), Some(Touch::Disk));
        let after = map_at(&touched, 4 * PAGE_SIZE, 1);
        assert_eq!(after.strongest(2), Some(Touch::AtDevice));
        let line = proof(&touched[1], Lang::En).expect("a frag was sent");
        assert!(
            line.starts_with("frag 5 of this skb is page 2 of the file"),
            "{line}"
        );
    }

    #[test]
    fn a_page_the_nics_engine_read_is_named_in_both_languages() {
        let touched: Touched = range(17, 18)
            .into_iter()
            .map(|p| (p, Touch::NicDma))
            .collect();
        let en = proof(&touched, Lang::En).expect("a page was read by the engine");
        assert!(
            en.starts_with("the NIC's DMA read page 17 of the file straight from the page cache (2 such pages here)"),
            "{en}"
        );
        let zh = proof(&touched, Lang::Zh).expect("zh");
        assert!(zh.contains("第 17 页"), "{zh}");
        let map = map_at(&[touched], 20 * PAGE_SIZE, 0);
        assert_eq!(map.strongest(17), Some(Touch::NicDma));
        assert_eq!(glyph(map.strongest(18)), '%');
    }
}
