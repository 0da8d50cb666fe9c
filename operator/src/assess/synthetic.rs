//! Seeded synthetic server inventories in the three formats `govcloud assess` reads:
//! govcloud's CSV, the RVTools `vInfo` export and the Azure Migrate import template.
//!
//! The province a platform team meets before consolidation: a dozen departments, most
//! servers idling at 5–15 % CPU, about 40 % of them running their department's copy of
//! a system several departments run (the database and HR suite the sample offerings
//! provide, and systems no offering provides yet). Deterministic for a seed, as
//! [`crate::synthetic`] is, so that the sample inventory and the benchmark's input can
//! be regenerated exactly; linear in the rows, for the benchmark's 100,000.

use crate::synthetic::Rng;

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

struct Department {
    name: &'static str,
    /// How its admins start a machine's name.
    prefix: &'static str,
    /// Its folder under `/Provincial DC/vm/` in vCenter.
    folder: &'static str,
    /// Relative number of servers: health, education and the police run the most.
    weight: u64,
    style: Style,
    /// Its own applications and the security level each is graded at.
    apps: &'static [(&'static str, u8)],
    /// The level of its copies of shared systems, but for databases, which take the
    /// level of the application whose data they hold.
    shared_level: u8,
    /// The shared systems it runs a copy of, weighted by how many servers each takes.
    systems: &'static [(System, u64)],
}

/// How a department's admins write server names. The assessment normalises names, so
/// every style the inventories show must come through it.
#[derive(Clone, Copy)]
enum Style {
    Lower,
    /// `HLT-APP-07`.
    Upper,
    /// Half the names fully qualified: `edu-web-02.edu.gov.local`.
    Fqdn,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum System {
    Postgresql,
    HrFinance,
    Documents,
    EmailArchive,
    Gis,
    CaseManagement,
}

impl System {
    fn index(self) -> usize {
        self as usize
    }

    fn name(self) -> &'static str {
        SYSTEMS[self.index()]
    }

    /// The role part of its servers' names (`fin-pg-01`), which the sample mapping's name
    /// patterns recognise in exports without a system column.
    fn role(self) -> &'static str {
        ["pg", "hrf", "dms", "arc", "gis", "case"][self.index()]
    }

    fn applications(self) -> &'static [&'static str] {
        match self {
            System::Postgresql => &[],
            System::HrFinance => &["payroll", "hr-portal", "general-ledger"],
            System::Documents => &["document-management", "records-registry"],
            System::EmailArchive => &["email-archive"],
            System::Gis => &["gis-server", "map-portal"],
            System::CaseManagement => &["case-tracking", "petition-handling"],
        }
    }
}

use System::*;

static PROVINCE: [Department; 12] = [
    Department {
        name: "finance",
        prefix: "fin",
        folder: "Finance",
        weight: 10,
        style: Style::Lower,
        apps: &[
            ("budget-planning", 3),
            ("treasury-payments", 3),
            ("procurement-portal", 2),
            ("tax-rebate-calculator", 2),
            ("non-tax-revenue", 2),
            ("state-assets", 2),
        ],
        shared_level: 2,
        systems: &[(Postgresql, 4), (HrFinance, 3), (Documents, 2), (EmailArchive, 1)],
    },
    Department {
        name: "health",
        prefix: "hlt",
        folder: "Health",
        weight: 14,
        style: Style::Upper,
        apps: &[
            ("hospital-appointments", 2),
            ("electronic-health-records", 3),
            ("vaccination-registry", 3),
            ("disease-surveillance", 3),
            ("medical-insurance-claims", 2),
            ("health-portal", 1),
        ],
        shared_level: 2,
        systems: &[
            (Postgresql, 4),
            (HrFinance, 2),
            (Documents, 2),
            (EmailArchive, 1),
            (CaseManagement, 1),
        ],
    },
    Department {
        name: "education",
        prefix: "edu",
        folder: "Education",
        weight: 14,
        style: Style::Fqdn,
        apps: &[
            ("student-enrolment", 2),
            ("school-admissions-lottery", 2),
            ("teacher-certification", 2),
            ("e-learning-portal", 1),
            ("exam-question-bank", 2),
        ],
        shared_level: 2,
        systems: &[(Postgresql, 3), (HrFinance, 2), (Documents, 2), (EmailArchive, 1)],
    },
    Department {
        name: "public-security",
        prefix: "psb",
        folder: "Public Security",
        weight: 13,
        style: Style::Lower,
        apps: &[
            ("household-registration", 3),
            ("traffic-violations", 3),
            ("emergency-dispatch", 3),
            ("vehicle-registry", 3),
            ("entry-exit-permits", 3),
            ("lost-and-found", 2),
        ],
        shared_level: 3,
        systems: &[
            (Postgresql, 4),
            (HrFinance, 2),
            (Documents, 2),
            (EmailArchive, 2),
            (Gis, 2),
            (CaseManagement, 3),
        ],
    },
    Department {
        name: "civil-affairs",
        prefix: "mca",
        folder: "Civil Affairs",
        weight: 8,
        style: Style::Lower,
        apps: &[
            ("marriage-registration", 2),
            ("social-assistance", 2),
            ("elderly-care-subsidies", 2),
            ("disaster-relief", 2),
            ("community-news", 1),
        ],
        shared_level: 2,
        systems: &[
            (Postgresql, 3),
            (HrFinance, 2),
            (Documents, 2),
            (CaseManagement, 2),
        ],
    },
    Department {
        name: "transport",
        prefix: "trn",
        folder: "Transport",
        weight: 9,
        style: Style::Upper,
        apps: &[
            ("bus-realtime", 1),
            ("licence-portal", 2),
            ("parking-permits", 2),
            ("video-analytics", 2),
            ("road-maintenance", 2),
        ],
        shared_level: 2,
        systems: &[(Postgresql, 3), (HrFinance, 2), (Documents, 1), (Gis, 3)],
    },
    Department {
        name: "agriculture",
        prefix: "agr",
        folder: "Agriculture",
        weight: 6,
        style: Style::Lower,
        apps: &[
            ("crop-subsidy", 2),
            ("livestock-registry", 2),
            ("farmland-survey", 2),
            ("agri-market-prices", 1),
        ],
        shared_level: 2,
        systems: &[(Postgresql, 3), (HrFinance, 2), (Documents, 2), (Gis, 2)],
    },
    Department {
        name: "housing",
        prefix: "hsg",
        folder: "Housing",
        weight: 6,
        style: Style::Fqdn,
        apps: &[
            ("property-registry", 3),
            ("housing-provident-fund", 2),
            ("construction-permits", 2),
            ("rental-subsidy", 2),
        ],
        shared_level: 2,
        systems: &[
            (Postgresql, 3),
            (HrFinance, 2),
            (Documents, 2),
            (Gis, 2),
            (EmailArchive, 1),
        ],
    },
    Department {
        name: "environment",
        prefix: "env",
        folder: "Environment",
        weight: 5,
        style: Style::Lower,
        // All level 2: its Azure Migrate export grades nothing, and one name pattern
        // grades the lot.
        apps: &[
            ("air-quality-monitoring", 2),
            ("pollution-permits", 2),
            ("water-quality", 2),
            ("emissions-reporting", 2),
        ],
        shared_level: 2,
        systems: &[(Postgresql, 3), (HrFinance, 2), (Documents, 1), (Gis, 3)],
    },
    Department {
        name: "culture-tourism",
        prefix: "ctb",
        folder: "Culture and Tourism",
        weight: 4,
        style: Style::Lower,
        apps: &[
            ("museum-ticketing", 1),
            ("tourism-portal", 1),
            ("heritage-catalogue", 2),
            ("event-permits", 2),
        ],
        shared_level: 2,
        systems: &[(Postgresql, 3), (HrFinance, 2), (Documents, 2), (EmailArchive, 1)],
    },
    Department {
        name: "market-regulation",
        prefix: "amr",
        folder: "Market Regulation",
        weight: 7,
        style: Style::Upper,
        apps: &[
            ("business-registration", 2),
            ("food-safety-inspections", 2),
            ("price-monitoring", 2),
            ("consumer-complaints", 2),
            ("credit-blacklist", 3),
        ],
        shared_level: 2,
        systems: &[
            (Postgresql, 3),
            (HrFinance, 2),
            (Documents, 2),
            (CaseManagement, 3),
        ],
    },
    Department {
        name: "human-resources",
        prefix: "hrss",
        folder: "Human Resources",
        weight: 8,
        style: Style::Fqdn,
        apps: &[
            ("social-insurance", 3),
            ("pension-payments", 3),
            ("job-portal", 1),
            ("civil-service-exams", 2),
        ],
        shared_level: 3,
        systems: &[
            (Postgresql, 4),
            (HrFinance, 3),
            (Documents, 2),
            (EmailArchive, 1),
            (CaseManagement, 1),
        ],
    },
];

/// Roles of a department's own servers, by how common they are.
const OWN_ROLES: [(&str, u64); 6] = [
    ("app", 30),
    ("web", 25),
    ("db", 20),
    ("api", 10),
    ("batch", 8),
    ("file", 7),
];
/// Name counters per department: the own roles, the systems, then templates.
const NAME_SLOTS: usize = OWN_ROLES.len() + SYSTEMS.len() + 1;
const TEMPLATE_SLOT: usize = NAME_SLOTS - 1;

/// The share of servers that are a department's copy of a shared system.
const SHARED: f64 = 0.4;

struct Os {
    /// As govcloud's CSV and the Azure template's `OS name` would give it.
    name: &'static str,
    /// The guest OS as vSphere knows it (RVTools' two OS columns).
    vmware: &'static str,
    azure_name: &'static str,
    azure_version: &'static str,
    windows: bool,
}

/// Operating systems by frequency; the Linux ones first, as databases never run Windows
/// here.
static OSES: [(Os, u64); 7] = [
    (
        Os {
            name: "CentOS 7.9",
            vmware: "CentOS 7 (64-bit)",
            azure_name: "CentOS",
            azure_version: "7.9",
            windows: false,
        },
        20,
    ),
    (
        Os {
            name: "Red Hat Enterprise Linux 8.8",
            vmware: "Red Hat Enterprise Linux 8 (64-bit)",
            azure_name: "Red Hat Enterprise Linux",
            azure_version: "8.8",
            windows: false,
        },
        20,
    ),
    (
        Os {
            name: "Kylin Linux Advanced Server V10 SP2",
            vmware: "Other 4.x or later Linux (64-bit)",
            azure_name: "Kylin Linux Advanced Server",
            azure_version: "V10",
            windows: false,
        },
        15,
    ),
    (
        Os {
            name: "Ubuntu 22.04 LTS",
            vmware: "Ubuntu Linux (64-bit)",
            azure_name: "Ubuntu",
            azure_version: "22.04",
            windows: false,
        },
        15,
    ),
    (
        Os {
            name: "openEuler 22.03 LTS",
            vmware: "Other 5.x or later Linux (64-bit)",
            azure_name: "openEuler",
            azure_version: "22.03",
            windows: false,
        },
        10,
    ),
    (
        Os {
            name: "Windows Server 2019 Datacenter",
            vmware: "Microsoft Windows Server 2016 or later (64-bit)",
            azure_name: "Windows Server 2019 Datacenter",
            azure_version: "10.0.17763",
            windows: true,
        },
        12,
    ),
    (
        Os {
            name: "Windows Server 2016 Standard",
            vmware: "Microsoft Windows Server 2016 or later (64-bit)",
            azure_name: "Windows Server 2016 Standard",
            azure_version: "10.0.14393",
            windows: true,
        },
        8,
    ),
];
const LINUX: usize = 5;

/// What every format says about a machine; each format adds its own columns.
struct Machine {
    department: &'static Department,
    name: String,
    application: String,
    system: Option<System>,
    level: u8,
    cores: u32,
    memory_gib: u32,
    os: &'static Os,
}

struct Province {
    rng: Rng,
    departments: Vec<&'static Department>,
    total_weight: u64,
    /// The last number given per department and name slot: names are unique by
    /// construction, without looking back at the names given.
    counters: Vec<[u32; NAME_SLOTS]>,
}

impl Province {
    fn new(names: &[&str], seed: u64) -> Self {
        let departments: Vec<&'static Department> = names
            .iter()
            .map(|name| {
                PROVINCE
                    .iter()
                    .find(|d| d.name == *name)
                    .unwrap_or_else(|| panic!("{name:?} is not one of the synthetic departments"))
            })
            .collect();
        assert!(!departments.is_empty(), "a province needs a department");
        Province {
            rng: Rng::new(seed),
            total_weight: departments.iter().map(|d| d.weight).sum(),
            counters: vec![[0; NAME_SLOTS]; departments.len()],
            departments,
        }
    }

    fn department(&mut self) -> usize {
        let mut at = self.rng.below(self.total_weight);
        for (i, d) in self.departments.iter().enumerate() {
            if at < d.weight {
                return i;
            }
            at -= d.weight;
        }
        unreachable!("the draw is below the total weight")
    }

    fn machine(&mut self) -> Machine {
        let d = self.department();
        let dept = self.departments[d];
        let rng = &mut self.rng;
        let (app, app_level) = dept.apps[rng.below(dept.apps.len() as u64) as usize];
        let (role, slot, system, application, level) = if rng.chance(SHARED) {
            let system = *pick(rng, dept.systems);
            let (application, level) = match system {
                Postgresql => (format!("{app}-db"), app_level),
                _ => {
                    let apps = system.applications();
                    (
                        apps[rng.below(apps.len() as u64) as usize].to_string(),
                        dept.shared_level,
                    )
                }
            };
            let slot = OWN_ROLES.len() + system.index();
            (system.role(), slot, Some(system), application, level)
        } else {
            let slot = weighted_index(&OWN_ROLES, rng.below(OWN_ROLES.iter().map(|(_, w)| w).sum()));
            (OWN_ROLES[slot].0, slot, None, app.to_string(), app_level)
        };
        let database = role == "db" || system == Some(Postgresql);
        // Mostly small machines, as departments order them, and databases with twice the
        // memory a core: a few large hosts are what a replica maximum refuses.
        let cores = *pick(rng, &[(2, 35), (4, 35), (8, 18), (16, 10), (32, 2)]);
        let per_core = if database {
            *pick(rng, &[(4, 70), (8, 30)])
        } else {
            *pick(rng, &[(2, 50), (4, 40), (8, 10)])
        };
        let os = pick(rng, if database { &OSES[..LINUX] } else { &OSES });
        let name = self.name(d, slot, role);
        Machine {
            department: dept,
            name,
            application,
            system,
            level,
            cores,
            memory_gib: (cores * per_core).clamp(4, 128),
            os,
        }
    }

    /// A VM template: never runs, kept to clone new machines from.
    fn template(&mut self) -> Machine {
        let d = self.department();
        let dept = self.departments[d];
        let os = pick(&mut self.rng, &OSES);
        Machine {
            department: dept,
            name: self.name(d, TEMPLATE_SLOT, "tpl"),
            application: String::new(),
            system: None,
            level: dept.shared_level,
            cores: 2,
            memory_gib: 4,
            os,
        }
    }

    fn name(&mut self, d: usize, slot: usize, role: &str) -> String {
        let dept = self.departments[d];
        let n = &mut self.counters[d][slot];
        *n += 1;
        let base = format!("{}-{role}-{:02}", dept.prefix, *n);
        match dept.style {
            Style::Lower => base,
            Style::Upper => base.to_uppercase(),
            Style::Fqdn if self.rng.chance(0.5) => format!("{base}.{}.gov.local", dept.prefix),
            Style::Fqdn => base,
        }
    }
}

fn pick<'a, T>(rng: &mut Rng, weighted: &'a [(T, u64)]) -> &'a T {
    let total = weighted.iter().map(|(_, w)| w).sum::<u64>();
    &weighted[weighted_index(weighted, rng.below(total))].0
}

fn weighted_index<T>(weighted: &[(T, u64)], mut at: u64) -> usize {
    for (i, (_, w)) in weighted.iter().enumerate() {
        if at < *w {
            return i;
        }
        at -= w;
    }
    weighted.len() - 1
}

/// Uniform in [0, 1).
fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Clone, Copy)]
struct Utilisation {
    cpu: f64,
    memory: f64,
}

/// A server's measured utilisation, in percent: a p95 and an average, either, or none.
struct Measured {
    p95: Option<Utilisation>,
    average: Option<Utilisation>,
}

impl Measured {
    fn draw(rng: &mut Rng) -> Measured {
        let cpu = if rng.chance(0.8) {
            5.0 + 10.0 * unit(rng)
        } else {
            20.0 + 40.0 * unit(rng)
        };
        let memory = 20.0 + 50.0 * unit(rng);
        let p95 = Utilisation { cpu, memory };
        let average = Utilisation {
            cpu: cpu * (0.35 + 0.25 * unit(rng)),
            memory: memory * (0.75 + 0.2 * unit(rng)),
        };
        // Machines outside monitoring, and monitoring that kept averages only.
        if rng.chance(0.05) {
            Measured {
                p95: None,
                average: None,
            }
        } else if rng.chance(0.03) {
            Measured {
                p95: None,
                average: Some(average),
            }
        } else {
            Measured {
                p95: Some(p95),
                average: Some(average),
            }
        }
    }
}

fn percent(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v:.1}"))
}

/// Hardware, licences and support a year, growing with the machine; within 1,500–9,000.
fn yearly_cost(m: &Machine, rng: &mut Rng) -> u64 {
    let base = 1_300.0 + 180.0 * f64::from(m.cores) + 18.0 * f64::from(m.memory_gib);
    let windows = if m.os.windows { 400.0 } else { 0.0 };
    ((base + windows) * (0.85 + 0.3 * unit(rng)))
        .round()
        .clamp(1_500.0, 9_000.0) as u64
}

/// Average draw in watts, growing with the machine; within 150–600.
fn power_watts(m: &Machine, rng: &mut Rng) -> u64 {
    let base = 140.0 + 9.0 * f64::from(m.cores) + 1.2 * f64::from(m.memory_gib);
    (base * (0.85 + 0.3 * unit(rng))).round().clamp(150.0, 600.0) as u64
}

/// An RVTools annotation as admins write them: structured for systems and for anything
/// not graded level 2 (a mapping reads the level from it), sometimes free text or empty
/// for the rest.
fn annotation(m: &Machine, template: bool, rng: &mut Rng) -> String {
    let owner = m.department.name;
    if template {
        return format!("Golden image, patched {}", &timestamp(rng, 2024)[..7]);
    }
    if let Some(system) = m.system {
        return format!("Owner: {owner}; System: {}; Level {}", system.name(), m.level);
    }
    match (m.level, rng.below(20)) {
        (2, 0..=4) => String::new(),
        (2, 5..=7) => format!(
            "{} - contact it-ops@{}.gov.example",
            m.application, m.department.prefix
        ),
        (level, _) => format!("Owner: {owner}; App: {}; Level {level}", m.application),
    }
}

fn dns_name(m: &Machine) -> String {
    if m.name.contains('.') {
        m.name.to_lowercase()
    } else {
        format!("{}.{}.gov.local", m.name.to_lowercase(), m.department.prefix)
    }
}

/// Level 3 machines sit in their own address range, as accredited networks do.
fn ip(m: &Machine, rng: &mut Rng) -> String {
    let department = PROVINCE
        .iter()
        .position(|d| d.name == m.department.name)
        .unwrap_or(0);
    format!(
        "10.{}.{}.{}",
        10 * m.level as usize + department,
        rng.below(64),
        2 + rng.below(250)
    )
}

/// A date and time in `year` or the years after, as RVTools writes them.
fn timestamp(rng: &mut Rng, year: u64) -> String {
    let years = 2025u64.saturating_sub(year).max(1);
    format!(
        "{}/{:02}/{:02} {:02}:{:02}:{:02}",
        year + rng.below(years),
        1 + rng.below(12),
        1 + rng.below(28),
        rng.below(24),
        rng.below(60),
        rng.below(60)
    )
}

fn uuid(rng: &mut Rng) -> String {
    let (a, b) = (rng.next_u64(), rng.next_u64());
    format!(
        "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xffff,
        b >> 48,
        b & 0xffff_ffff_ffff
    )
}

/// Picks exactly `wanted` of the next `left` calls to [`Exactly::take`], each set of
/// calls equally likely (selection sampling): exact counts, however few the rows.
struct Exactly {
    wanted: usize,
    left: usize,
}

impl Exactly {
    fn new(wanted: usize, left: usize) -> Self {
        Exactly {
            wanted: wanted.min(left),
            left,
        }
    }

    fn take(&mut self, rng: &mut Rng) -> bool {
        let hit = (rng.below(self.left as u64) as usize) < self.wanted;
        self.left = self.left.saturating_sub(1);
        if hit {
            self.wanted -= 1;
        }
        hit
    }
}

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
