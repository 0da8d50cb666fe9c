//! Whether a service's or a shared instance's platform-driven restarts may happen now:
//! its owner's windows (its department's, or its offering's), its pool's and the
//! estate's freezes, open together. What the operator holds a new pod template against.
//!
//! Cached per owner and pool: an estate has far fewer of those than services.

use std::collections::HashMap;

use super::model::Maintenance;
use super::output::MaintenancePlan;
use super::{Estate, Reason};
use crate::maintenance::{self, Calendar};

#[derive(Clone, Copy, PartialEq, Eq, Hash)]
enum Owner<'a> {
    Department(Option<usize>),
    Offering(&'a str),
}

pub(crate) struct Openings<'a> {
    estate: &'a Estate,
    cache: HashMap<(Owner<'a>, Option<usize>), MaintenancePlan>,
}

impl<'a> Openings<'a> {
    pub fn new(estate: &'a Estate) -> Self {
        Self {
            estate,
            cache: HashMap::new(),
        }
    }

    fn pool(&self, name: Option<&str>) -> Option<usize> {
        self.estate.pool_index(name?)
    }

    /// A service of department `dept` (its index) running on `pool`.
    pub fn service(&mut self, dept: Option<usize>, pool: Option<&str>) -> MaintenancePlan {
        let pool = self.pool(pool);
        self.joint(Owner::Department(dept), pool)
    }

    /// A shared instance of `offering` running on `pool`.
    pub fn instance(&mut self, offering: &'a str, pool: Option<&str>) -> MaintenancePlan {
        let pool = self.pool(pool);
        self.joint(Owner::Offering(offering), pool)
    }

    fn joint(&mut self, owner: Owner<'a>, pool: Option<usize>) -> MaintenancePlan {
        let estate = self.estate;
        // A calendar without windows or exclusions changes no joint opening, so all the
        // owners and pools that have none share one entry (with departments and pools
        // by the thousand, pairs of them would otherwise be as many as services).
        let owner = match owner {
            Owner::Department(Some(d)) if estate.departments[d].maintenance.calendar.is_always_open() => {
                Owner::Department(None)
            }
            Owner::Offering(o)
                if estate
                    .offerings
                    .get(o)
                    .is_none_or(|o| o.maintenance.calendar.is_always_open()) =>
            {
                Owner::Department(None)
            }
            other => other,
        };
        let pool = pool.filter(|&p| !estate.pools[p].maintenance.calendar.is_always_open());
        self.cache
            .entry((owner, pool))
            .or_insert_with(|| {
                let own: &Calendar = match owner {
                    Owner::Department(Some(d)) => &estate.departments[d].maintenance.calendar,
                    Owner::Department(None) => &estate.no_windows,
                    Owner::Offering(o) => estate
                        .offerings
                        .get(o)
                        .map_or(&estate.no_windows, |o| &o.maintenance.calendar),
                };
                let pool = pool.map(|p| &estate.pools[p].maintenance.calendar);
                together(estate, std::iter::once(own).chain(pool), Vec::new())
            })
            .clone()
    }
}

/// An object's own calendar with the estate's freezes, and its calendar's problems.
pub(crate) fn own(estate: &Estate, m: &Maintenance) -> MaintenancePlan {
    together(estate, [&m.calendar], m.problems.clone())
}

fn together<'a>(
    estate: &'a Estate,
    own: impl IntoIterator<Item = &'a Calendar>,
    problems: Vec<Reason>,
) -> MaintenancePlan {
    let o = maintenance::joint(&estate.with_freeze(own), estate.now);
    MaintenancePlan {
        open: o.open,
        next_open: o.next_open,
        closes_at: o.closes_at,
        frozen: o.frozen,
        problems,
    }
}
