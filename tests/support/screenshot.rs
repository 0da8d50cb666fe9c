//! Pictures of the HTML pages govcloud writes: headless Chromium takes a screenshot,
//! and the tests read its pixels to see that the page is drawn.

use std::collections::HashSet;
use std::fs;
use std::io::ErrorKind;
use std::path::Path;
use std::process::Command;

/// Screenshots `page` with headless Chromium at `width`×`height` into `png`.
pub fn screenshot(page: &Path, png: &Path, width: u32, height: u32) {
    let profile = tempfile::tempdir().unwrap();
    let result = Command::new("chromium")
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(format!("--screenshot={}", png.display()))
        .arg(format!("file://{}", page.display()))
        .output();
    let output = match result {
        Ok(output) => output,
        Err(e) if e.kind() == ErrorKind::NotFound => panic!(
            "chromium is not installed; install it with `apt-get install -y --no-install-recommends chromium` \
             (or run `.ci/run`, which does)"
        ),
        Err(e) => panic!("could not run chromium: {e}"),
    };
    assert!(
        output.status.success() && png.exists(),
        "chromium failed ({}):\n{}",
        output.status,
        super::printed(&output)
    );
}

/// Decoded 8-bit RGB pixels of a PNG, with its size.
pub fn pixels(png: &Path) -> (u32, u32, Vec<[u8; 3]>) {
    let mut decoder = png::Decoder::new(fs::File::open(png).unwrap());
    decoder.set_transformations(png::Transformations::normalize_to_color8());
    let mut reader = decoder.read_info().expect("a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("a frame");
    let samples = match info.color_type {
        png::ColorType::Rgba => 4,
        png::ColorType::Rgb => 3,
        other => panic!("unexpected colour type {other:?}"),
    };
    let rgb = buf[..info.buffer_size()]
        .chunks_exact(samples)
        .map(|p| [p[0], p[1], p[2]])
        .collect();
    (info.width, info.height, rgb)
}

/// Screenshots `page` at 1280×1400 into `png` and holds it to being drawn, not blank:
/// more than `covered_percent` % of its pixels not white and more than 200 colours.
/// Returns the pixels, for the caller to look for its own colours.
pub fn drawn(page: &Path, png: &Path, covered_percent: usize) -> Vec<[u8; 3]> {
    screenshot(page, png, 1280, 1400);
    let (width, height, rgb) = pixels(png);
    assert_eq!((width, height), (1280, 1400));
    let total = rgb.len();
    let non_white = rgb.iter().filter(|p| p.iter().any(|&c| c < 240)).count();
    assert!(
        non_white * 100 > total * covered_percent,
        "{non_white} of {total} pixels are not white"
    );
    let colours: HashSet<[u8; 3]> = rgb.iter().copied().collect();
    assert!(colours.len() > 200, "only {} distinct colours", colours.len());
    rgb
}
