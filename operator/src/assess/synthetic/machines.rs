//! The machines of the synthetic province: sizes, utilisation, states and the cells
//! each format writes of them.

use super::departments::System::*;
use super::departments::*;
use crate::synthetic::Rng;

pub(super) struct Os {
    /// As govcloud's CSV and the Azure template's `OS name` would give it.
    pub(super) name: &'static str,
    /// The guest OS as vSphere knows it (RVTools' two OS columns).
    pub(super) vmware: &'static str,
    pub(super) azure_name: &'static str,
    pub(super) azure_version: &'static str,
    pub(super) windows: bool,
}

/// Operating systems by frequency; the Linux ones first, as databases never run Windows
/// here.
pub(super) static OSES: [(Os, u64); 7] = [
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
pub(super) const LINUX: usize = 5;

/// What every format says about a machine; each format adds its own columns.
pub(super) struct Machine {
    pub(super) department: &'static Department,
    pub(super) name: String,
    pub(super) application: String,
    pub(super) system: Option<System>,
    pub(super) level: u8,
    pub(super) cores: u32,
    pub(super) memory_gib: u32,
    pub(super) os: &'static Os,
}

pub(super) struct Province {
    pub(super) rng: Rng,
    pub(super) departments: Vec<&'static Department>,
    pub(super) total_weight: u64,
    /// The last number given per department and name slot: names are unique by
    /// construction, without looking back at the names given.
    pub(super) counters: Vec<[u32; NAME_SLOTS]>,
}

impl Province {
    pub(super) fn new(names: &[&str], seed: u64) -> Self {
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

    pub(super) fn department(&mut self) -> usize {
        let mut at = self.rng.below(self.total_weight);
        for (i, d) in self.departments.iter().enumerate() {
            if at < d.weight {
                return i;
            }
            at -= d.weight;
        }
        unreachable!("the draw is below the total weight")
    }

    pub(super) fn machine(&mut self) -> Machine {
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
    pub(super) fn template(&mut self) -> Machine {
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

    pub(super) fn name(&mut self, d: usize, slot: usize, role: &str) -> String {
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

pub(super) fn pick<'a, T>(rng: &mut Rng, weighted: &'a [(T, u64)]) -> &'a T {
    let total = weighted.iter().map(|(_, w)| w).sum::<u64>();
    &weighted[weighted_index(weighted, rng.below(total))].0
}

pub(super) fn weighted_index<T>(weighted: &[(T, u64)], mut at: u64) -> usize {
    for (i, (_, w)) in weighted.iter().enumerate() {
        if at < *w {
            return i;
        }
        at -= w;
    }
    weighted.len() - 1
}

/// Uniform in [0, 1).
pub(super) fn unit(rng: &mut Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 / (1u64 << 53) as f64
}

#[derive(Clone, Copy)]
pub(super) struct Utilisation {
    pub(super) cpu: f64,
    pub(super) memory: f64,
}

/// A server's measured utilisation, in percent: a p95 and an average, either, or none.
pub(super) struct Measured {
    pub(super) p95: Option<Utilisation>,
    pub(super) average: Option<Utilisation>,
}

impl Measured {
    pub(super) fn draw(rng: &mut Rng) -> Measured {
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

pub(super) fn percent(value: Option<f64>) -> String {
    value.map_or(String::new(), |v| format!("{v:.1}"))
}

/// Hardware, licences and support a year, growing with the machine; within 1,500–9,000.
pub(super) fn yearly_cost(m: &Machine, rng: &mut Rng) -> u64 {
    let base = 1_300.0 + 180.0 * f64::from(m.cores) + 18.0 * f64::from(m.memory_gib);
    let windows = if m.os.windows { 400.0 } else { 0.0 };
    ((base + windows) * (0.85 + 0.3 * unit(rng)))
        .round()
        .clamp(1_500.0, 9_000.0) as u64
}

/// Average draw in watts, growing with the machine; within 150–600.
pub(super) fn power_watts(m: &Machine, rng: &mut Rng) -> u64 {
    let base = 140.0 + 9.0 * f64::from(m.cores) + 1.2 * f64::from(m.memory_gib);
    (base * (0.85 + 0.3 * unit(rng))).round().clamp(150.0, 600.0) as u64
}

/// An RVTools annotation as admins write them: structured for systems and for anything
/// not graded level 2 (a mapping reads the level from it), sometimes free text or empty
/// for the rest.
pub(super) fn annotation(m: &Machine, template: bool, rng: &mut Rng) -> String {
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

pub(super) fn dns_name(m: &Machine) -> String {
    if m.name.contains('.') {
        m.name.to_lowercase()
    } else {
        format!("{}.{}.gov.local", m.name.to_lowercase(), m.department.prefix)
    }
}

/// Level 3 machines sit in their own address range, as accredited networks do.
pub(super) fn ip(m: &Machine, rng: &mut Rng) -> String {
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
pub(super) fn timestamp(rng: &mut Rng, year: u64) -> String {
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

pub(super) fn uuid(rng: &mut Rng) -> String {
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
pub(super) struct Exactly {
    pub(super) wanted: usize,
    pub(super) left: usize,
}

impl Exactly {
    pub(super) fn new(wanted: usize, left: usize) -> Self {
        Exactly {
            wanted: wanted.min(left),
            left,
        }
    }

    pub(super) fn take(&mut self, rng: &mut Rng) -> bool {
        let hit = (rng.below(self.left as u64) as usize) < self.wanted;
        self.left = self.left.saturating_sub(1);
        if hit {
            self.wanted -= 1;
        }
        hit
    }
}
