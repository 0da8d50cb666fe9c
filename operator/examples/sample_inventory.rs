//! Writes the sample inventory of `config/samples/inventory/`:
//! `cargo run --example sample_inventory -- DIR` (DIR defaults to `inventory`).
//!
//! A province whose departments took stock in the three formats `govcloud assess` reads:
//! most in govcloud's own CSV, agriculture and housing as an RVTools export of their
//! vCenter folders, environment as an Azure Migrate import it had prepared for a cloud
//! tender. Each department is in one file only, as each would have sent one inventory.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use govcloud::assess::synthetic::{DEPARTMENTS, SYSTEMS, azure_csv_of, govcloud_csv_of, rvtools_csv_of};

const RVTOOLS_DEPARTMENTS: [&str; 2] = ["agriculture", "housing"];
const AZURE_DEPARTMENTS: [&str; 1] = ["environment"];

fn main() -> std::io::Result<()> {
    let dir = PathBuf::from(std::env::args().nth(1).unwrap_or_else(|| "inventory".into()));
    std::fs::create_dir_all(&dir)?;
    let own: Vec<&str> = DEPARTMENTS
        .into_iter()
        .filter(|d| !RVTOOLS_DEPARTMENTS.contains(d) && !AZURE_DEPARTMENTS.contains(d))
        .collect();

    let servers = govcloud_csv_of(&own, 320, 20_250_317);
    write(&dir, "servers.csv", &servers)?;
    let rows = records(&servers);
    let off = rows.iter().filter(|r| r["powerState"] != "on").count();
    println!(
        "  {} servers of {} departments, {off} not running",
        rows.len(),
        own.len()
    );
    mix(&rows, |r| Some(r["department"].clone()), |r| r["system"].clone());

    let vinfo = rvtools_csv_of(&RVTOOLS_DEPARTMENTS, 48, 20_250_318);
    write(&dir, "vinfo-agriculture-housing.csv", &vinfo)?;
    let rows = records(&vinfo);
    let templates = rows.iter().filter(|r| r["Template"] == "True").count();
    let off = rows
        .iter()
        .filter(|r| r["Template"] == "False" && r["Powerstate"] != "poweredOn");
    println!(
        "  {} VMs: {templates} templates, {} powered off or suspended",
        rows.len(),
        off.count()
    );
    let system = |annotation: &str| {
        SYSTEMS
            .into_iter()
            .find(|s| annotation.contains(&format!("System: {s};")))
            .map_or(String::new(), str::to_string)
    };
    mix(
        &rows,
        |r| (r["Template"] == "False").then(|| r["Folder"].split('/').nth(3).unwrap_or("").to_lowercase()),
        |r| system(&r["Annotation"]),
    );

    let azure = azure_csv_of(&AZURE_DEPARTMENTS, 30, 20_250_319);
    write(&dir, "azure-migrate-environment.csv", &azure)?;
    let rows = records(&azure);
    println!("  {} servers of environment", rows.len());
    let roles = ["pg", "hrf", "dms", "arc", "gis", "case"];
    let system = |name: &str| {
        let role = name.split(['-', '.']).nth(1).unwrap_or("").to_lowercase();
        roles
            .iter()
            .position(|r| *r == role)
            .map_or(String::new(), |i| SYSTEMS[i].to_string())
    };
    mix(
        &rows,
        |_| Some("environment".into()),
        |r| system(&r["*Server name"]),
    );
    Ok(())
}

fn write(dir: &Path, name: &str, text: &str) -> std::io::Result<()> {
    let path = dir.join(name);
    std::fs::write(&path, text)?;
    println!("{} ({} bytes)", path.display(), text.len());
    Ok(())
}

fn records(text: &str) -> Vec<BTreeMap<String, String>> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let header = reader.headers().expect("the generators write a header").clone();
    reader
        .records()
        .map(|r| {
            let r = r.expect("the generators write valid CSV");
            header
                .iter()
                .map(str::to_string)
                .zip(r.iter().map(str::to_string))
                .collect()
        })
        .collect()
}

/// Prints servers per department and, per shared system, its servers and the departments
/// running a copy: what the assessment should find to share.
fn mix(
    rows: &[BTreeMap<String, String>],
    department: impl Fn(&BTreeMap<String, String>) -> Option<String>,
    system: impl Fn(&BTreeMap<String, String>) -> String,
) {
    let mut departments: BTreeMap<String, usize> = BTreeMap::new();
    let mut systems: BTreeMap<String, (usize, BTreeSet<String>)> = BTreeMap::new();
    for r in rows {
        let Some(d) = department(r) else { continue };
        *departments.entry(d.clone()).or_default() += 1;
        let s = system(r);
        if !s.is_empty() {
            let entry = systems.entry(s).or_default();
            entry.0 += 1;
            entry.1.insert(d);
        }
    }
    let list = |m: Vec<String>| m.join(", ");
    println!(
        "    departments: {}",
        list(departments.iter().map(|(d, n)| format!("{d} {n}")).collect())
    );
    println!(
        "    shared systems: {}",
        list(
            (systems.iter())
                .map(|(s, (n, ds))| {
                    let plural = if ds.len() == 1 { "" } else { "s" };
                    format!("{s} {n} ({} department{plural})", ds.len())
                })
                .collect()
        )
    );
}
