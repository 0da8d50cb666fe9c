//! The assessment's HTML page as a real browser draws it: the sample inventory of the
//! README's tour (`config/samples/inventory`, with its mapping, pools sized), rendered
//! by `assess::output::html` and screenshotted by headless Chromium.
//!
//! As in `report.rs`, the browser is Debian's `chromium`; when it is missing the test
//! fails with the install command rather than skipping. The screenshot helpers are
//! that module's, repeated: they are private to it.
//!
//! `GOVCLOUD_BLESS=1 cargo test --test integration assess_report::` regenerates
//! docs/assess.png, the README's screenshot of an assessment.

use std::fs;

use govcloud::assess::{Mapping, assess, inventory, output};
use govcloud::plan::Snapshot;

use crate::support;
use support::repo_root;
use support::screenshot::{drawn, pixels};

/// The sample inventory assessed as its README's first command does: the mapping's node
/// shape and prices, the default 30 % headroom, no platform.
fn sample_page() -> String {
    let dir = repo_root().join("config/samples/inventory");
    let servers = inventory::read(std::slice::from_ref(&dir), 64 << 20)
        .unwrap_or_else(|e| panic!("the sample inventory reads: {e:?}"));
    let text = fs::read_to_string(dir.join("mapping.yaml")).unwrap();
    let mapping = Mapping::parse(&text).unwrap_or_else(|e| panic!("the sample mapping: {e:?}"));
    let (a, _) = assess(&servers, &mapping, &Snapshot::default(), 0.3)
        .unwrap_or_else(|e| panic!("the sample inventory is assessed: {e:?}"));
    assert!(
        a.before.servers > 300,
        "a realistic estate: {} servers placed",
        a.before.servers
    );
    assert!(a.after.yearly_cost.is_some() && a.after.nodes.is_some());
    output::html(&a, "CNY")
}

const HEADER: [u8; 3] = [0x1e, 0x3a, 0x8a];
const TODAY: [u8; 3] = [0x94, 0xa3, 0xb8];
const PLATFORM: [u8; 3] = [0x25, 0x63, 0xeb];
const SHARED: [u8; 3] = [0x16, 0xa3, 0x4a];
const NODES: [u8; 3] = [0x0d, 0x94, 0x88];

#[test]
fn chromium_draws_the_assessment_page() {
    let dir = tempfile::tempdir().unwrap();
    let page = dir.path().join("assess.html");
    fs::write(&page, sample_page()).unwrap();
    let png = dir.path().join("assess.png");
    // The page is not blank: header, cards, charts and tables cover much of it (less
    // than of the report's, whose charts are taller) …
    let rgb = drawn(&page, &png, 10);
    let count = |colour: [u8; 3]| rgb.iter().filter(|&&p| p == colour).count();
    // … and the four charts were drawn, each in the exact fills of its series.
    let (header, today, platform) = (count(HEADER), count(TODAY), count(PLATFORM));
    let (shared, nodes) = (count(SHARED), count(NODES));
    assert!(header > 50_000, "header: {header} pixels");
    // About half of what the sample draws (15,556, 7,400, 1,727 and 5,382 pixels), so
    // that the sample may be regenerated without the test noticing.
    assert!(today > 7_000, "today's bars: {today} pixels");
    assert!(platform > 3_500, "the platform's bars: {platform} pixels");
    assert!(shared > 800, "shared instances' bars: {shared} pixels");
    assert!(nodes > 2_500, "sized pools' nodes: {nodes} pixels");

    // The README's screenshot: regenerated on request, and always a small, drawn PNG.
    let committed = repo_root().join("docs/assess.png");
    if std::env::var_os("GOVCLOUD_BLESS").is_some() {
        fs::copy(&png, &committed).unwrap();
    }
    let size = fs::metadata(&committed)
        .unwrap_or_else(|e| panic!("{}: {e}; GOVCLOUD_BLESS=1 regenerates it", committed.display()))
        .len();
    assert!(size < 300_000, "docs/assess.png is {size} bytes");
    let (_, _, docs) = pixels(&committed);
    assert!(docs.iter().filter(|&&p| p == PLATFORM).count() > 3_000);
}
