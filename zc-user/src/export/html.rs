//! One self-contained web page that animates the trace: every screen of the
//! live view's playback, in English and Chinese, with play / pause / step,
//! strategy and language controls. No network access: styles, script and
//! frames are all inside the file.
//!
//! The page reads its starting point from the URL fragment
//! (`#s=sendfile&p=3&lang=zh&play=0`), which makes every frame addressable:
//! the browser test loads a frame that way and checks what the page shows.

use std::fmt::Write as _;

use serde_json::{Value, json};

use super::{frames, svg::escape};
use crate::{
    model::Strategy,
    recording::Loaded,
    tui::{
        app::{Action, update},
        playback::Item,
        text::{self, Lang},
    },
};

/// Styles used by the frames, as CSS classes.
fn look_class(l: frames::Look, classes: &mut Vec<frames::Look>) -> usize {
    match classes.iter().position(|c| *c == l) {
        Some(i) => i,
        None => {
            classes.push(l);
            classes.len() - 1
        }
    }
}

fn css(classes: &[frames::Look]) -> String {
    let mut s = String::new();
    for (i, l) in classes.iter().enumerate() {
        let fg = l.fg.map_or("#dcdfe4", frames::hex);
        let (color, back) = if l.reversed {
            ("#1e2127", fg)
        } else {
            (fg, "transparent")
        };
        let _ = writeln!(
            s,
            ".c{i}{{color:{color};background:{back};{}{}}}",
            if l.bold { "font-weight:bold;" } else { "" },
            if l.dim && l.fg.is_none() {
                "opacity:.55;"
            } else {
                ""
            }
        );
    }
    s
}

pub fn export(loaded: &Loaded, lang: Lang) -> anyhow::Result<String> {
    let mut classes: Vec<frames::Look> = Vec::new();
    let mut strategies: Vec<Value> = Vec::new();
    for s in Strategy::all() {
        if loaded.outcome(s).is_none() {
            continue;
        }
        let mut per_lang = serde_json::Map::new();
        let mut narration = serde_json::Map::new();
        for (code, l) in [("en", Lang::En), ("zh", Lang::Zh)] {
            let mut app = frames::app_for(loaded, s, l, false, 1.0);
            let n = app.current().map_or(0, |p| p.plan.len());
            let mut frames_json = Vec::with_capacity(n);
            let mut words = Vec::with_capacity(n);
            for pos in 0..n {
                update(&mut app, Action::Seek { pos, anim: 1.0 });
                let screen = frames::screen(&frames::render(&app));
                let rows: Vec<Value> = screen
                    .iter()
                    .map(|row| {
                        Value::Array(
                            row.iter()
                                .map(|r| json!([r.text, look_class(r.look, &mut classes)]))
                                .collect(),
                        )
                    })
                    .collect();
                frames_json.push(Value::Array(rows));
                let item: Option<&Item> = app.current().and_then(|p| p.plan.items.get(pos));
                words.push(Value::String(
                    item.map(|i| text::narrate(i, l)).unwrap_or_default(),
                ));
            }
            per_lang.insert(code.into(), Value::Array(frames_json));
            narration.insert(code.into(), Value::Array(words));
        }
        strategies.push(json!({
            "name": s.name(),
            "title_en": text::strategy_title(s, Lang::En),
            "title_zh": text::strategy_title(s, Lang::Zh),
            "frames": per_lang,
            "narration": narration,
        }));
    }
    let data = json!({
        "kernel": loaded.meta.kernel,
        "created": loaded.meta.created,
        "zc_version": loaded.meta.zc_version,
        "lang": if lang == Lang::Zh { "zh" } else { "en" },
        "strategies": strategies,
    });
    // `</` cannot appear inside the script element.
    let data = serde_json::to_string(&data)?.replace("</", "<\\/");
    let title = format!(
        "zc: zero copy, measured on Linux {}",
        escape(&loaded.meta.kernel)
    );
    Ok(PAGE
        .replace("{{TITLE}}", &title)
        .replace("{{CSS}}", &css(&classes))
        .replace("{{DATA}}", &data))
}

const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{TITLE}}</title>
<style>
body{background:#15171c;color:#dcdfe4;font-family:system-ui,sans-serif;margin:1.5em}
h1{font-size:1.2em;font-weight:600}
#screen{background:#1e2127;padding:12px;display:inline-block;font-family:"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:15px;line-height:1.2;white-space:pre;border-radius:6px}
#controls{margin:1em 0;display:flex;gap:.5em;flex-wrap:wrap;align-items:center}
button,select{background:#2c313a;color:#dcdfe4;border:1px solid #4b5263;border-radius:4px;padding:.35em .8em;font-size:1em}
#narration{font-size:1.1em;max-width:60em;min-height:2.6em}
.note{color:#7f848e;font-size:.9em;max-width:60em}
{{CSS}}
</style>
</head>
<body>
<h1 id="title"></h1>
<div id="controls">
  <select id="strategy" aria-label="strategy"></select>
  <button id="back" title="step back (←)">&larr; step</button>
  <button id="play" title="play / pause (space)">play</button>
  <button id="fwd" title="step forward (→)">step &rarr;</button>
  <button id="lang" title="English / 中文 (l)">中文</button>
  <span id="pos"></span>
</div>
<p id="narration"></p>
<div id="screen" role="img" aria-label="the live view of zc"></div>
<p class="note" id="note"></p>
<script id="zc-data" type="application/json">{{DATA}}</script>
<script>
(function(){
  var D = JSON.parse(document.getElementById('zc-data').textContent);
  var st = {s:0, p:0, lang:D.lang, play:true, timer:null};
  var params = new URLSearchParams(location.hash.slice(1));
  D.strategies.forEach(function(s, i){
    var o = document.createElement('option'); o.value = i; o.textContent = s.name;
    document.getElementById('strategy').appendChild(o);
    if (params.get('s') === s.name) st.s = i;
  });
  if (params.has('p')) st.p = Math.max(0, parseInt(params.get('p'), 10) || 0);
  if (params.get('lang') === 'zh' || params.get('lang') === 'en') st.lang = params.get('lang');
  if (params.get('play') === '0') st.play = false;
  function cur(){ return D.strategies[st.s]; }
  function count(){ return cur().frames[st.lang].length; }
  function draw(){
    var s = cur(); st.p = Math.min(st.p, count() - 1);
    var rows = s.frames[st.lang][st.p], html = '';
    rows.forEach(function(row){
      row.forEach(function(run){
        var t = run[0].replace(/&/g,'&amp;').replace(/</g,'&lt;').replace(/>/g,'&gt;');
        html += '<span class="c' + run[1] + '">' + t + '</span>';
      });
      html += '\n';
    });
    document.getElementById('screen').innerHTML = html;
    document.getElementById('narration').textContent = s.narration[st.lang][st.p];
    document.getElementById('title').textContent = 'zc — ' + (st.lang === 'zh' ? s.title_zh : s.title_en) +
      (st.lang === 'zh' ? '（录制于 Linux ' : ' (recorded on Linux ') + D.kernel + ', ' + D.created + (st.lang === 'zh' ? '）' : ')');
    document.getElementById('pos').textContent = (st.p + 1) + ' / ' + count();
    document.getElementById('strategy').value = st.s;
    document.getElementById('play').textContent = st.play ? (st.lang === 'zh' ? '暂停' : 'pause') : (st.lang === 'zh' ? '播放' : 'play');
    document.getElementById('lang').textContent = st.lang === 'zh' ? 'English' : '中文';
    document.getElementById('note').textContent = st.lang === 'zh'
      ? '每一步都是 zc 用 eBPF 在内核中测得的事件（录制回放，非实时）。'
      : 'Every step is a kernel event measured by zc with eBPF (a recording, played back; not live).';
    document.body.setAttribute('data-strategy', s.name);
    document.body.setAttribute('data-pos', st.p);
    document.body.setAttribute('data-lang', st.lang);
  }
  function step(d){
    st.p += d;
    if (st.p >= count()) { if (st.s + 1 < D.strategies.length) { st.s++; st.p = 0; } else { st.p = count() - 1; setPlay(false); } }
    if (st.p < 0) st.p = 0;
    draw();
  }
  function setPlay(on){
    st.play = on; clearInterval(st.timer);
    if (on) st.timer = setInterval(function(){ step(1); }, 900);
    draw();
  }
  document.getElementById('back').onclick = function(){ setPlay(false); step(-1); };
  document.getElementById('fwd').onclick = function(){ setPlay(false); step(1); };
  document.getElementById('play').onclick = function(){ setPlay(!st.play); };
  document.getElementById('lang').onclick = function(){ st.lang = st.lang === 'zh' ? 'en' : 'zh'; draw(); };
  document.getElementById('strategy').onchange = function(e){ st.s = parseInt(e.target.value, 10); st.p = 0; draw(); };
  document.addEventListener('keydown', function(e){
    if (e.key === ' ') { setPlay(!st.play); e.preventDefault(); }
    else if (e.key === 'ArrowRight') { setPlay(false); step(1); }
    else if (e.key === 'ArrowLeft') { setPlay(false); step(-1); }
    else if (e.key === 'l') { st.lang = st.lang === 'zh' ? 'en' : 'zh'; draw(); }
    else if (e.key >= '1' && e.key <= '4' && D.strategies[e.key - 1]) { st.s = e.key - 1; st.p = 0; draw(); }
  });
  setPlay(st.play);
})();
</script>
</body>
</html>
"##;
