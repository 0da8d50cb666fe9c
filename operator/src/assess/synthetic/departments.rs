//! The province of the synthetic inventories: its departments, their naming, their
//! applications and the common systems they run copies of.

use super::SYSTEMS;

pub(super) struct Department {
    pub(super) name: &'static str,
    /// How its admins start a machine's name.
    pub(super) prefix: &'static str,
    /// Its folder under `/Provincial DC/vm/` in vCenter.
    pub(super) folder: &'static str,
    /// Relative number of servers: health, education and the police run the most.
    pub(super) weight: u64,
    pub(super) style: Style,
    /// Its own applications and the security level each is graded at.
    pub(super) apps: &'static [(&'static str, u8)],
    /// The level of its copies of shared systems, but for databases, which take the
    /// level of the application whose data they hold.
    pub(super) shared_level: u8,
    /// The shared systems it runs a copy of, weighted by how many servers each takes.
    pub(super) systems: &'static [(System, u64)],
}

/// How a department's admins write server names. The assessment normalises names, so
/// every style the inventories show must come through it.
#[derive(Clone, Copy)]
pub(super) enum Style {
    Lower,
    /// `HLT-APP-07`.
    Upper,
    /// Half the names fully qualified: `edu-web-02.edu.gov.local`.
    Fqdn,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum System {
    Postgresql,
    HrFinance,
    Documents,
    EmailArchive,
    Gis,
    CaseManagement,
}

impl System {
    pub(super) fn index(self) -> usize {
        self as usize
    }

    pub(super) fn name(self) -> &'static str {
        SYSTEMS[self.index()]
    }

    /// The role part of its servers' names (`fin-pg-01`), which the sample mapping's name
    /// patterns recognise in exports without a system column.
    pub(super) fn role(self) -> &'static str {
        ["pg", "hrf", "dms", "arc", "gis", "case"][self.index()]
    }

    pub(super) fn applications(self) -> &'static [&'static str] {
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

pub(super) static PROVINCE: [Department; 12] = [
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
pub(super) const OWN_ROLES: [(&str, u64); 6] = [
    ("app", 30),
    ("web", 25),
    ("db", 20),
    ("api", 10),
    ("batch", 8),
    ("file", 7),
];
/// Name counters per department: the own roles, the systems, then templates.
pub(super) const NAME_SLOTS: usize = OWN_ROLES.len() + SYSTEMS.len() + 1;
pub(super) const TEMPLATE_SLOT: usize = NAME_SLOTS - 1;

/// The share of servers that are a department's copy of a shared system.
pub(super) const SHARED: f64 = 0.4;
