//! Seeded synthetic server inventories in the three formats `govcloud assess` reads:
//! govcloud's CSV, the RVTools `vInfo` export and the Azure Migrate import template.
//!
//! The province a platform team meets before consolidation: a dozen departments, most
//! servers idling at 5–15 % CPU, about 40 % of them running their department's copy of
//! a system several departments run (the database and HR suite the sample offerings
//! provide, and systems no offering provides yet). Deterministic for a seed, as
//! [`crate::synthetic`] is, so that the sample inventory and the benchmark's input can
//! be regenerated exactly; linear in the rows, for the benchmark's 100,000.

/// The departments the generators draw from: the six of `config/samples` and six more.
pub const DEPARTMENTS: [&str; 12] = [
    "finance",
    "health",
    "education",
    "public-security",
    "civil-affairs",
    "transport",
    "agriculture",
    "housing",
    "environment",
    "culture-tourism",
    "market-regulation",
    "human-resources",
];

/// The systems several departments each run a copy of: the first two are the sample
/// offerings, the rest have no offering, so an assessment proposes one.
pub const SYSTEMS: [&str; 6] = [
    "shared-postgresql",
    "shared-hr-finance",
    "document-management",
    "email-archive",
    "gis",
    "case-management",
];

/// govcloud's inventory CSV, as `docs/assess.md` documents it.
pub const GOVCLOUD_HEADER: [&str; 15] = [
    "department",
    "server",
    "application",
    "system",
    "securityLevel",
    "cores",
    "memoryGiB",
    "cpuP95",
    "memoryP95",
    "cpuAverage",
    "memoryAverage",
    "yearlyCost",
    "powerWatts",
    "powerState",
    "os",
];

/// A subset of the RVTools 4.x `vInfo` columns, in the order RVTools writes them: real
/// exports carry some ninety, and a reader must find its columns by name among them.
pub const RVTOOLS_HEADER: [&str; 35] = [
    "VM",
    "Powerstate",
    "Template",
    "SRM Placeholder",
    "Config status",
    "DNS Name",
    "Connection state",
    "Guest state",
    "Heartbeat",
    "Consolidation Needed",
    "PowerOn",
    "Creation date",
    "CPUs",
    "Memory",
    "NICs",
    "Disks",
    "Total disk capacity MiB",
    "Primary IP Address",
    "Network #1",
    "Resource pool",
    "Folder",
    "Provisioned MiB",
    "In Use MiB",
    "Unshared MiB",
    "Firmware",
    "HW version",
    "Annotation",
    "Datacenter",
    "Cluster",
    "Host",
    "OS according to the configuration file",
    "OS according to the VMware Tools",
    "VM ID",
    "VM UUID",
    "VI SDK Server",
];

/// The Azure Migrate CSV import template; `*` marks the columns Azure Migrate requires.
pub const AZURE_HEADER: [&str; 19] = [
    "*Server name",
    "IP addresses",
    "*Cores",
    "*Memory (In MB)",
    "*OS name",
    "OS version",
    "OS architecture",
    "CPU utilization percentage",
    "Memory utilization percentage",
    "Network adapters",
    "Network In throughput",
    "Network Out throughput",
    "Boot type",
    "Number of disks",
    "Disk 1 size (In GB)",
    "Disk 1 read throughput (MB per second)",
    "Disk 1 write throughput (MB per second)",
    "Disk 1 read ops (operations per second)",
    "Disk 1 write ops (operations per second)",
];

/// `rows` servers of all twelve departments in govcloud's CSV.
pub fn govcloud_csv(rows: usize, seed: u64) -> String {
    govcloud_csv_of(&DEPARTMENTS, rows, seed)
}

/// `rows` VMs of all twelve departments as an RVTools `vInfo` CSV export.
pub fn rvtools_csv(rows: usize, seed: u64) -> String {
    rvtools_csv_of(&DEPARTMENTS, rows, seed)
}

/// `rows` servers of all twelve departments in the Azure Migrate import template.
pub fn azure_csv(rows: usize, seed: u64) -> String {
    azure_csv_of(&DEPARTMENTS, rows, seed)
}

/// [`govcloud_csv`] for some of [`DEPARTMENTS`] only, so that inventories in several
/// formats can split a province between them without listing a department twice.
///
/// Exactly 5 % of the servers (rounded down) are powered off and 0.5 % suspended; about
/// 5 % were never measured and 3 % only as averages; about 10 % have no yearly cost and
/// 10 % no power draw.
///
/// # Panics
/// If a department is not one of [`DEPARTMENTS`].
pub fn govcloud_csv_of(departments: &[&str], rows: usize, seed: u64) -> String {
    let mut province = Province::new(departments, seed);
    let mut out = Csv::new(&GOVCLOUD_HEADER, rows, 110);
    let mut off = Exactly::new(rows / 20, rows);
    let mut suspended = Exactly::new(rows / 200, rows - rows / 20);
    for _ in 0..rows {
        let m = province.machine();
        let rng = &mut province.rng;
        let state = if off.take(rng) {
            "off"
        } else if suspended.take(rng) {
            "suspended"
        } else {
            "on"
        };
        let measured = Measured::draw(rng);
        let cost = (!rng.chance(0.1)).then(|| yearly_cost(&m, rng));
        let watts = (!rng.chance(0.1)).then(|| power_watts(&m, rng));
        out.field(m.department.name);
        out.field(&m.name);
        out.field(&m.application);
        out.field(m.system.map_or("", System::name));
        out.field(&m.level.to_string());
        out.field(&m.cores.to_string());
        out.field(&m.memory_gib.to_string());
        out.field(&percent(measured.p95.map(|u| u.cpu)));
        out.field(&percent(measured.p95.map(|u| u.memory)));
        out.field(&percent(measured.average.map(|u| u.cpu)));
        out.field(&percent(measured.average.map(|u| u.memory)));
        out.field(&cost.map_or(String::new(), |c| c.to_string()));
        out.field(&watts.map_or(String::new(), |w| w.to_string()));
        out.field(state);
        out.field(m.os.name);
        out.end();
    }
    out.finish()
}

/// [`rvtools_csv`] for some of [`DEPARTMENTS`] only: VMs under `/Provincial DC/vm/<Department>/`,
/// with an annotation naming the owner, the system a VM runs and its security level, as
/// admins write them (some own applications' annotations are free text or empty).
///
/// Exactly `rows / 16` are templates, `rows / 12` powered off and `rows / 100` suspended.
///
/// # Panics
/// If a department is not one of [`DEPARTMENTS`].
pub fn rvtools_csv_of(departments: &[&str], rows: usize, seed: u64) -> String {
    let mut province = Province::new(departments, seed);
    let mut out = Csv::new(&RVTOOLS_HEADER, rows, 520);
    let templates = rows / 16;
    let mut template = Exactly::new(templates, rows);
    let mut off = Exactly::new(rows / 12, rows - templates);
    let mut suspended = Exactly::new(rows / 100, rows - templates - rows / 12);
    for i in 0..rows {
        let is_template = template.take(&mut province.rng);
        let m = if is_template {
            province.template()
        } else {
            province.machine()
        };
        let rng = &mut province.rng;
        let power = if is_template || off.take(rng) {
            "poweredOff"
        } else if suspended.take(rng) {
            "suspended"
        } else {
            "poweredOn"
        };
        let running = power == "poweredOn";
        let dept = m.department;
        let memory_mib = u64::from(m.memory_gib) * 1024;
        let disks = 1 + rng.below(3);
        let disk_mib = (0..disks)
            .map(|_| [40, 100, 200, 500][rng.below(4) as usize] * 1024)
            .sum::<u64>();
        let provisioned = disk_mib + memory_mib;
        let in_use = (provisioned as f64 * (0.3 + 0.5 * unit(rng))) as u64;
        let secure = m.level >= 3;
        let cluster = if secure {
            "PDC-Secure-01".to_string()
        } else {
            format!("PDC-General-0{}", 1 + rng.below(2))
        };
        let host = format!(
            "esx-{}-{:02}.pdc.gov.local",
            if secure { "sec" } else { "gen" },
            1 + rng.below(if secure { 6 } else { 16 })
        );
        let stage = if is_template {
            "Templates"
        } else if rng.chance(0.15) {
            "Test"
        } else {
            "Production"
        };
        let annotation = annotation(&m, is_template, rng);

        out.field(&m.name);
        out.field(power);
        out.field(if is_template { "True" } else { "False" });
        out.field("False");
        out.field(if rng.chance(0.05) { "yellow" } else { "green" });
        out.field(&if running { dns_name(&m) } else { String::new() });
        out.field("connected");
        out.field(if running { "running" } else { "notRunning" });
        out.field(if running { "green" } else { "gray" });
        out.field("False");
        out.field(&if running {
            timestamp(rng, 2024)
        } else {
            String::new()
        });
        out.field(&timestamp(rng, 2017));
        out.field(&m.cores.to_string());
        out.field(&memory_mib.to_string());
        out.field(&(1 + u64::from(rng.chance(0.2))).to_string());
        out.field(&disks.to_string());
        out.field(&disk_mib.to_string());
        out.field(&if running { ip(&m, rng) } else { String::new() });
        out.field(&format!(
            "PG-{}-{}",
            dept.prefix.to_uppercase(),
            stage.to_uppercase()
        ));
        out.field("Resources");
        out.field(&format!("/Provincial DC/vm/{}/{stage}", dept.folder));
        out.field(&provisioned.to_string());
        out.field(&in_use.to_string());
        out.field(&in_use.to_string());
        out.field(if m.os.windows || rng.chance(0.3) {
            "efi"
        } else {
            "bios"
        });
        out.field(["vmx-13", "vmx-14", "vmx-19"][rng.below(3) as usize]);
        out.field(&annotation);
        out.field("Provincial DC");
        out.field(&cluster);
        out.field(&host);
        out.field(m.os.vmware);
        out.field(if running { m.os.vmware } else { "" });
        out.field(&format!("vm-{}", 1_000 + 3 * i as u64 + rng.below(3)));
        out.field(&uuid(rng));
        out.field("vcenter.pdc.gov.local");
        out.end();
    }
    out.finish()
}

/// [`azure_csv`] for some of [`DEPARTMENTS`] only. The template has no department and no
/// system column: both are in the server's name (`env-gis-02`), for a mapping's name
/// patterns. About 5 % of the servers have no utilisation.
///
/// # Panics
/// If a department is not one of [`DEPARTMENTS`].
pub fn azure_csv_of(departments: &[&str], rows: usize, seed: u64) -> String {
    let mut province = Province::new(departments, seed);
    let mut out = Csv::new(&AZURE_HEADER, rows, 170);
    for _ in 0..rows {
        let m = province.machine();
        let rng = &mut province.rng;
        let measured = Measured::draw(rng);
        // The template takes one figure per resource, an average over the period measured.
        let utilisation = measured.average;
        let busy = utilisation.map_or(0.1, |u| u.cpu / 100.0);
        out.field(&m.name);
        out.field(&ip(&m, rng));
        out.field(&m.cores.to_string());
        out.field(&(u64::from(m.memory_gib) * 1024).to_string());
        out.field(m.os.azure_name);
        out.field(m.os.azure_version);
        out.field("x64");
        out.field(&percent(utilisation.map(|u| u.cpu)));
        out.field(&percent(utilisation.map(|u| u.memory)));
        out.field(&(1 + u64::from(rng.chance(0.2))).to_string());
        out.field(&format!("{:.2}", 0.2 + 40.0 * busy * unit(rng)));
        out.field(&format!("{:.2}", 0.1 + 25.0 * busy * unit(rng)));
        out.field(if m.os.windows || rng.chance(0.3) {
            "UEFI"
        } else {
            "BIOS"
        });
        out.field(&(1 + rng.below(3)).to_string());
        out.field(&[64, 128, 256, 512][rng.below(4) as usize].to_string());
        out.field(&format!("{:.2}", 0.5 + 30.0 * busy * unit(rng)));
        out.field(&format!("{:.2}", 0.2 + 15.0 * busy * unit(rng)));
        out.field(&(5 + rng.below(40 + (2_000.0 * busy) as u64)).to_string());
        out.field(&(3 + rng.below(20 + (800.0 * busy) as u64)).to_string());
        out.end();
    }
    out.finish()
}

/// One running server as govcloud's CSV lists it (line 2 of `servers.csv`, level 2,
/// never measured), for tests to adjust with struct update syntax.
pub fn server(name: &str, department: Option<&str>, cores: i64, memory_gib: i64) -> Server {
    Server {
        file: "servers.csv".into(),
        line: 2,
        format: Format::Govcloud,
        name: name.into(),
        department: department.map(Into::into),
        application: None,
        system: None,
        security_level: Some(2),
        cpu_millis: cores * 1000,
        memory_bytes: memory_gib << 30,
        cpu_utilisation: None,
        memory_utilisation: None,
        yearly_cost: None,
        power_watts: None,
        state: State::On,
        folder: None,
        annotation: None,
        os: None,
    }
}

/// A utilisation measured at p95.
pub fn p95(ratio: f64) -> Option<inventory::Measured> {
    Some(inventory::Measured {
        ratio,
        statistic: Statistic::P95,
    })
}

mod departments;
mod machines;

use super::inventory::{self, Format, Server, State, Statistic};

use departments::*;
use machines::*;

/// CSV text as RFC 4180 quotes it (annotations and folders hold spaces, commas and
/// quotes in real exports), built field by field.
struct Csv(csv::Writer<Vec<u8>>);

impl Csv {
    fn new(header: &[&str], rows: usize, row_bytes: usize) -> Self {
        let buffer = Vec::with_capacity((rows + 1) * row_bytes);
        let mut writer = csv::WriterBuilder::new().from_writer(buffer);
        writer.write_record(header).expect("writing to memory");
        Csv(writer)
    }

    fn field(&mut self, value: &str) {
        self.0.write_field(value).expect("writing to memory");
    }

    fn end(&mut self) {
        self.0.write_record(None::<&[u8]>).expect("writing to memory");
    }

    fn finish(self) -> String {
        let bytes = self.0.into_inner().expect("writing to memory");
        String::from_utf8(bytes).expect("every field is UTF-8")
    }
}

#[cfg(test)]
mod tests {
    use std::collections::{BTreeMap, HashSet};

    use super::*;

    type Generator = fn(usize, u64) -> String;
    const FORMATS: [(&str, Generator, &[&str]); 3] = [
        ("govcloud", govcloud_csv, &GOVCLOUD_HEADER),
        ("RVTools", rvtools_csv, &RVTOOLS_HEADER),
        ("Azure Migrate", azure_csv, &AZURE_HEADER),
    ];

    fn records(text: &str) -> (Vec<String>, Vec<BTreeMap<String, String>>) {
        let mut reader = csv::Reader::from_reader(text.as_bytes());
        let header: Vec<String> = reader.headers().unwrap().iter().map(str::to_string).collect();
        let rows = reader
            .records()
            .map(|r| {
                let r = r.unwrap();
                header.iter().cloned().zip(r.iter().map(str::to_string)).collect()
            })
            .collect();
        (header, rows)
    }

    #[test]
    fn a_seed_gives_the_same_text_and_another_seed_another() {
        for (format, generate, _) in FORMATS {
            assert_eq!(generate(300, 7), generate(300, 7), "{format}");
            assert_ne!(generate(300, 7), generate(300, 8), "{format}");
        }
    }

    #[test]
    fn there_are_as_many_records_as_rows_under_the_formats_header() {
        for (format, generate, expected) in FORMATS {
            for rows in [0, 1, 17, 1_000] {
                let text = generate(rows, 3);
                let (header, records) = records(&text);
                assert_eq!(header, expected, "{format}");
                assert_eq!(records.len(), rows, "{format}, {rows} rows");
                assert_eq!(text.lines().count(), rows + 1, "{format}: one line a record");
            }
        }
    }

    /// Unique under the normalisation the assessment applies too (case, domain), and past
    /// two-digit numbers.
    #[test]
    fn server_names_are_unique_within_a_department() {
        let department_of = |format: &str, row: &BTreeMap<String, String>| match format {
            "govcloud" => row["department"].clone(),
            "RVTools" => row["Folder"].split('/').nth(3).unwrap().to_string(),
            _ => row["*Server name"].split('-').next().unwrap().to_lowercase(),
        };
        for (format, generate, header) in FORMATS {
            let (_, rows) = records(&generate(6_000, 11));
            let mut seen = HashSet::new();
            for row in &rows {
                let name = &row[header[if format == "govcloud" { 1 } else { 0 }]];
                let short = name.split('.').next().unwrap().to_lowercase();
                assert!(
                    seen.insert((department_of(format, row), short)),
                    "{format}: {name} twice"
                );
            }
            assert!(rows.iter().any(|r| r.values().any(|v| v.ends_with("-100"))));
        }
    }

    #[test]
    fn the_govcloud_inventory_has_the_shape_of_a_province() {
        let (_, rows) = records(&govcloud_csv(10_000, 5));
        let share = |f: &dyn Fn(&BTreeMap<String, String>) -> bool| {
            rows.iter().filter(|r| f(r)).count() as f64 / rows.len() as f64
        };
        assert!((0.37..0.43).contains(&share(&|r| !r["system"].is_empty())));
        assert_eq!(share(&|r| r["powerState"] == "off"), 0.05);
        assert!((0.04..0.06).contains(&share(&|r| r["cpuP95"].is_empty() && r["cpuAverage"].is_empty())));
        let idle = share(&|r| {
            r["cpuP95"]
                .parse::<f64>()
                .is_ok_and(|u| (5.0..=15.0).contains(&u))
        });
        assert!(idle > 0.7, "{idle}");
        assert!(share(&|r| r["securityLevel"] == "2") > 0.5);
        let police = rows.iter().filter(|r| r["department"] == "public-security");
        let police: Vec<_> = police.map(|r| r["securityLevel"].as_str()).collect();
        assert!(police.iter().filter(|l| **l == "3").count() * 2 > police.len());

        let departments: HashSet<&str> = rows.iter().map(|r| r["department"].as_str()).collect();
        assert_eq!(departments, HashSet::from(DEPARTMENTS));
        for d in departments {
            assert!(crate::names::Rule::Dns1123Label.check(d).is_ok(), "{d}");
        }
        for system in SYSTEMS {
            let runners: HashSet<&str> = (rows.iter().filter(|r| r["system"] == system))
                .map(|r| r["department"].as_str())
                .collect();
            assert!(runners.len() >= 2, "{system} is run by {runners:?}");
        }
        for r in &rows {
            let cores: u32 = r["cores"].parse().unwrap();
            let memory: u32 = r["memoryGiB"].parse().unwrap();
            assert!([2, 4, 8, 16, 32].contains(&cores) && (4..=128).contains(&memory));
            if let Ok(cost) = r["yearlyCost"].parse::<u64>() {
                assert!((1_500..=9_000).contains(&cost));
            }
            if let Ok(watts) = r["powerWatts"].parse::<u64>() {
                assert!((150..=600).contains(&watts));
            }
        }
    }

    #[test]
    fn rvtools_has_exact_templates_and_powered_off_vms() {
        let (_, rows) = records(&rvtools_csv_of(&["agriculture", "housing"], 48, 1));
        let count = |f: &dyn Fn(&BTreeMap<String, String>) -> bool| rows.iter().filter(|r| f(r)).count();
        assert_eq!(count(&|r| r["Template"] == "True"), 3);
        assert_eq!(
            count(&|r| r["Template"] == "False" && r["Powerstate"] == "poweredOff"),
            4
        );
        assert!(
            rows.iter()
                .all(|r| r["Folder"].starts_with("/Provincial DC/vm/Agriculture/")
                    || r["Folder"].starts_with("/Provincial DC/vm/Housing/"))
        );
    }
}
