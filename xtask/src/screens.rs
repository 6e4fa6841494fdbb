//! `cargo xtask screens`: writes docs/screens.md from the TUI's snapshot
//! files, so the documented screens are exactly what the tests render.
//! `cargo xtask test` checks the file is up to date.

use std::path::Path;

use anyhow::{Context as _, Result, bail};

const INTRO: &str = "# The live view, screen by screen

Text captures of `zc demo` (at 80×24 unless the section says otherwise), taken from the snapshot tests (`zc-user/tests/snapshots`, written into this page by `cargo xtask screens`), which render a run recorded live by zc on Linux 6.18 (1 MiB file, 64 KiB chunks, warm cache; `zc-user/tests/fixtures/demo-1mib.json`). In a terminal the arrows are coloured by kind as well (DMA blue, CPU copy red, reference green, mapping magenta, software transmit cyan); their shapes alone tell them apart, so the captures read the same in monochrome. Dim elements (no event yet) are dim only in colour.

How to read a screen:

- **Title**: strategy, LIVE (measured now) or RECORDING (with its date), the kernel, the playback position (`step 5/25`) and speed (`x1`); `PAUSED` when paused.
- **MODE SWITCHES**: the sender thread's time line. Each syscall is a dip from the user line into the kernel line, labelled with its name; `f` marks page faults inside the kernel, `pf` a user-mode fault, `z` a scheduler switch, `×N` loop iterations folded away.
- **COPIES**: the article's picture. The dashed line is the user/kernel boundary; `══>` DMA, `──>` CPU copy, `┈┈>` page reference, `┄┄>` mapping, `~~>` software transmit. The arrow being played is highlighted and grows from its source; arrows not reached yet are dim; an arrow the run never made is not drawn. `warm: no disk read` and `no DMA` on the veth say what the kernel did not do here.
- **Narration** (`>`): the current step in words, then its time since the first event and the tracepoints that prove it.
- **Table**: `played` sums what playback has shown so far; `measured` is the exact in-kernel total of the run; `article` is the article's model for the same number of chunks.
- **Footer**: the main keys (`?` lists them all).
";

/// What ratatui appends, after the line's closing quote, to a line with
/// double-width characters.
const HIDDEN: &str = "\" Hidden by multi-width symbols:";

/// The screen inside a snapshot file, without insta's quoting.
fn screen(root: &Path, name: &str) -> Result<String> {
    let path = root.join(format!(
        "zc-user/tests/snapshots/tui_snapshots__{name}.snap"
    ));
    let text =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    let body = text.splitn(3, "---\n").nth(2).unwrap_or("");
    let mut out = Vec::new();
    for line in body.lines() {
        let Some(rest) = line.strip_prefix('"') else {
            continue;
        };
        // ratatui's buffer dump follows a line holding wide characters
        // with a debug list of the cells they cover: not part of the screen.
        let text = match rest.split_once(HIDDEN) {
            Some((text, _)) => text,
            None => match rest.rfind('"') {
                Some(end) => &rest[..end],
                None => continue,
            },
        };
        out.push(text.trim_end().to_string());
    }
    if out.is_empty() {
        bail!("{} holds no screen", path.display());
    }
    Ok(out.join("\n"))
}

/// The strategies the snapshot tests rendered, in the table's order: each
/// first-move snapshot carries its section's title and note from the
/// strategy table (insta's `description`: "N. title\nnote"), so
/// this file keeps no list of strategies. (name, title, note).
fn strategies(root: &Path) -> Result<Vec<(String, String, String)>> {
    let dir = root.join("zc-user/tests/snapshots");
    let prefix = "tui_snapshots__first_move_80x24_";
    let mut found = Vec::new();
    for entry in std::fs::read_dir(&dir).with_context(|| format!("read {}", dir.display()))? {
        let file = entry?.file_name().to_string_lossy().into_owned();
        let Some(name) = file
            .strip_prefix(prefix)
            .and_then(|f| f.strip_suffix(".snap"))
        else {
            continue;
        };
        let path = dir.join(&file);
        let text = std::fs::read_to_string(&path)?;
        let quoted = text
            .lines()
            .find_map(|l| l.strip_prefix("description: "))
            .with_context(|| format!("{} has no description", path.display()))?;
        // YAML's double-quoted scalar escapes as JSON does here.
        let desc: String = serde_json::from_str(quoted)
            .with_context(|| format!("{}: description {quoted}", path.display()))?;
        let (title, note) = desc.split_once('\n').unwrap_or((&desc, ""));
        let number: u32 = title
            .split_once('.')
            .and_then(|(n, _)| n.parse().ok())
            .with_context(|| format!("{}: no number in {title:?}", path.display()))?;
        found.push((
            number,
            name.to_string(),
            title.to_string(),
            note.to_string(),
        ));
    }
    if found.is_empty() {
        bail!("no first-move snapshot in {}", dir.display());
    }
    found.sort();
    Ok(found.into_iter().map(|(_, n, t, s)| (n, t, s)).collect())
}

/// The whole page.
pub fn render(root: &Path) -> Result<String> {
    let mut doc = String::from(INTRO);
    let block = |s: String| format!("\n```\n{s}\n```\n");
    for (name, title, note) in strategies(root)? {
        doc.push_str(&format!(
            "\n## {title}\n\n{note}.\n\nAt its first movement of bytes:\n"
        ));
        doc.push_str(&block(screen(root, &format!("first_move_80x24_{name}"))?));
        doc.push_str("\nAt the end of the run:\n");
        doc.push_str(&block(screen(root, &format!("end_80x24_{name}"))?));
    }
    doc.push_str("\n## Compare (`c`)\n\nEvery strategy side by side, measured, with the article's model in brackets, and bars for CPU-copied bytes, mode switches and the sender's CPU time per MiB (from a debug build on a 2-core VM: compare strategies, not machines).\n");
    doc.push_str(&block(screen(root, "compare_view")?));
    doc.push_str("\n## Stepping the kernel (`zc demo --step`, or `s`)\n\nThe sender stops before each syscall; Enter lets it make one, and the call's events come in from the ring buffer as the kernel makes them. The title says LIVE STEP, the ledger waits for the run's end, and the footer gives the stepping keys.\n");
    doc.push_str(&block(screen(root, "a_stepped_run_in_progress_80x24")?));
    doc.push_str("\n## A large terminal (120×40)\n\nThe picture grows: the boxes say what they hold, and each arrow carries the bytes it moved in the run.\n");
    doc.push_str(&block(screen(root, "large_terminal_120x40")?));
    doc.push_str("\n## The page map (200×50)\n\nFrom 120×40 the file's pages are drawn below the table, in the rows left (a few at 120×40, most of the screen at 200×50), one cell per page, marked by the strongest thing done to them so far (`o` read from disk, `:` referenced, `m` mapped, `#` copied by the CPU, `p` copied into a pinned buffer, `@` an skb frag at the device); the step's own pages are highlighted, and the line under the map names the page that proves the step. Here sendfile-gather's device takes its first skbs: their frags are pages 0–15 of the file itself.\n");
    doc.push_str(&block(screen(
        root,
        "large_terminal_200x50_the_device_sends_a_page_of_the_file",
    )?));
    doc.push_str("\n## Both DMA arrows, measured (`zc replay --bundled lab-dma`, 200×50)\n\nThe lab's recording: Linux 7.3 under QEMU, the file cold on an NVMe disk, sent over two e1000e NICs (`zc demo --nic auto --cold`). The disk's engine writes the file into the page cache (`══>` DMA on the left), and the NIC's engine reads each skb out of memory (`NIC DMA` on the right), each arrow with the bytes its maps moved. Where the device got the file's pages as frags, the NIC read them from the page cache itself: the page map marks them `%`.\n");
    doc.push_str(&block(screen(root, "lab_dma_end_200x50")?));
    doc.push_str(
        "\nThe step where the NIC's engine reads a page of the file, named under the map:\n",
    );
    doc.push_str(&block(screen(root, "lab_dma_nic_reads_a_page_200x50")?));
    doc.push_str("\nIts compare view (120×50): where an engine was seen, a chart of the bytes the DMA engines moved joins the CPU's. Every strategy has the same DMA (the disk's engine writing the file, the sending NIC's reading it, and the receiving NIC's writing it on the far side), while the CPU's copies go from two to none: the article's table, measured.\n");
    doc.push_str(&block(screen(root, "lab_dma_compare_120x50")?));
    doc.push_str("\n## 中文 (`l` or `--lang zh`)\n");
    doc.push_str(&block(screen(root, "chinese_narration")?));
    doc.push_str("\n## Help (`?`)\n");
    doc.push_str(&block(screen(root, "help_overlay")?));
    doc.push_str("\n## A terminal that is too small\n");
    doc.push_str(&block(screen(root, "too_small_terminal_says_so")?));
    Ok(doc)
}

/// Writes docs/screens.md.
pub fn write(root: &Path) -> Result<()> {
    let path = root.join("docs/screens.md");
    std::fs::write(&path, render(root)?).with_context(|| format!("write {}", path.display()))?;
    println!("wrote {}", path.display());
    Ok(())
}

/// Fails when docs/screens.md differs from what the snapshots say.
pub fn check(root: &Path) -> Result<()> {
    let path = root.join("docs/screens.md");
    let have =
        std::fs::read_to_string(&path).with_context(|| format!("read {}", path.display()))?;
    if have != render(root)? {
        bail!("docs/screens.md is out of date with the TUI snapshots: run `cargo xtask screens`");
    }
    Ok(())
}
