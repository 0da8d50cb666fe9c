//! Right-sizing: what a server would request on the shared platform.
//!
//! A server measured at p95 (or on average) becomes a workload requesting that use ×
//! (1 + headroom), rounded up to the platform's sizing steps; a server never measured
//! keeps what it was given, because shrinking it would be a guess. Either is held to the
//! platform policy's per-replica maxima: a server that needs more is not proposed,
//! rather than proposed at a size the platform would refuse.

use serde::Serialize;

use super::inventory::{Measured, Server, Statistic};
use crate::quantity::Res;

/// The sizing grain when no PlatformPolicy sets `spec.resourceSteps`: a tenth of a core
/// and 128 MiB, fine enough not to waste what right-sizing saves.
pub const DEFAULT_STEPS: Res = Res {
    cpu_millis: 100,
    memory_bytes: 128 << 20,
};

/// Largest headroom taken: ten times the measured use is already more than any server
/// was given.
pub const HEADROOM_MAX: f64 = 10.0;

/// What a proposed size rests on, per resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum Basis {
    P95,
    Average,
    /// Not measured: the provisioned amount is kept.
    Provisioned,
}

impl Basis {
    fn of(m: Option<Measured>) -> Self {
        match m.map(|m| m.statistic) {
            Some(Statistic::P95) => Basis::P95,
            Some(Statistic::Average) => Basis::Average,
            None => Basis::Provisioned,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Basis::P95 => "p95",
            Basis::Average => "average",
            Basis::Provisioned => "provisioned",
        }
    }
}

/// The platform's rules for sizes: its grain and its per-replica maxima.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rules {
    pub steps: Res,
    pub max_cpu: Option<i64>,
    pub max_memory: Option<i64>,
}

/// A server's proposed requests.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Sized {
    pub requests: Res,
    pub cpu: Basis,
    pub memory: Basis,
}

impl Sized {
    /// Whether either resource kept its provisioned size for want of a measurement.
    pub fn unmeasured(&self) -> bool {
        self.cpu == Basis::Provisioned || self.memory == Basis::Provisioned
    }
}

/// Why a server gets no proposed size.
#[derive(Clone, Debug, PartialEq)]
pub enum SizeError {
    /// Above the policy's `maxReplicaResources`.
    AboveMaximum {
        resource: &'static str,
        needed: i64,
        max: i64,
    },
    /// A size beyond what the platform can represent.
    TooLarge,
}

/// The requests `server` would make at `headroom` (0 to [`HEADROOM_MAX`]).
pub fn right_size(server: &Server, headroom: f64, rules: &Rules) -> Result<Sized, SizeError> {
    let provisioned = Res::new(server.cpu_millis, server.memory_bytes);
    let factor = |m: Option<Measured>| m.map_or(1.0, |m| m.ratio * (1.0 + headroom));
    let needed = provisioned
        .checked_scale_up(factor(server.cpu_utilisation), factor(server.memory_utilisation))
        .ok_or(SizeError::TooLarge)?;
    let requests = Res::new(
        round_up(needed.cpu_millis, rules.steps.cpu_millis).ok_or(SizeError::TooLarge)?,
        round_up(needed.memory_bytes, rules.steps.memory_bytes).ok_or(SizeError::TooLarge)?,
    );
    for (resource, needed, max) in [
        ("cpu", requests.cpu_millis, rules.max_cpu),
        ("memory", requests.memory_bytes, rules.max_memory),
    ] {
        if let Some(max) = max
            && needed > max
        {
            return Err(SizeError::AboveMaximum {
                resource,
                needed,
                max,
            });
        }
    }
    Ok(Sized {
        requests,
        cpu: Basis::of(server.cpu_utilisation),
        memory: Basis::of(server.memory_utilisation),
    })
}

/// `n` rounded up to a whole number of `step`s, at least one step: an idle server still
/// needs a request to be scheduled.
fn round_up(n: i64, step: i64) -> Option<i64> {
    if step < 1 {
        return None;
    }
    let steps = n.checked_add(step - 1)?.checked_div(step)?.max(1);
    steps.checked_mul(step)
}

/// What the server uses today, as far as it was measured: the measured share of what it
/// was given, or all of it when it was not measured (it was sized on that too).
pub fn in_use(server: &Server) -> (f64, f64) {
    let used = |amount: i64, m: Option<Measured>| amount as f64 * m.map_or(1.0, |m| m.ratio);
    (
        used(server.cpu_millis, server.cpu_utilisation),
        used(server.memory_bytes, server.memory_utilisation),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assess::synthetic::{self, p95};

    const GIB: i64 = 1 << 30;

    fn server(cores: i64, memory_gib: i64, cpu: Option<f64>, memory: Option<f64>) -> Server {
        Server {
            cpu_utilisation: cpu.and_then(p95),
            memory_utilisation: memory.and_then(p95),
            ..synthetic::server("fin-db-01", Some("finance"), cores, memory_gib)
        }
    }

    const RULES: Rules = Rules {
        steps: Res {
            cpu_millis: 250,
            memory_bytes: 256 << 20,
        },
        max_cpu: Some(4000),
        max_memory: Some(16 * GIB),
    };

    #[test]
    fn a_measured_server_is_sized_at_its_use_with_headroom_rounded_up_to_the_steps() {
        // 8 cores at 10 % p95 = 0.8 cores; × 1.3 = 1.04 cores → 1.25 on a 250m grain.
        // 32 GiB at 40 % = 12.8 GiB; × 1.3 = 16.64 GiB: above the 16 GiB maximum.
        let s = right_size(&server(8, 32, Some(0.10), Some(0.40)), 0.3, &RULES);
        assert_eq!(
            s,
            Err(SizeError::AboveMaximum {
                resource: "memory",
                needed: 16 * GIB + (768 << 20),
                max: 16 * GIB
            })
        );
        let s = right_size(&server(8, 32, Some(0.10), Some(0.25)), 0.3, &RULES).unwrap();
        assert_eq!(s.requests.cpu_millis, 1250);
        // 32 GiB × 0.25 × 1.3 = 10.4 GiB → 10.5 GiB on a 256 MiB grain.
        assert_eq!(s.requests.memory_bytes, 10 * GIB + (512 << 20));
        assert_eq!((s.cpu, s.memory), (Basis::P95, Basis::P95));
        assert!(!s.unmeasured());
    }

    #[test]
    fn an_unmeasured_server_keeps_its_provisioned_size_and_is_flagged() {
        let s = right_size(&server(2, 4, None, Some(0.5)), 0.3, &RULES).unwrap();
        assert_eq!(s.requests.cpu_millis, 2000, "provisioned, not shrunk");
        assert_eq!(
            s.requests.memory_bytes,
            2 * GIB + (768 << 20),
            "4 GiB × 0.5 × 1.3 = 2.6 GiB → 2.75"
        );
        assert_eq!(s.cpu, Basis::Provisioned);
        assert!(s.unmeasured());
    }

    #[test]
    fn an_idle_server_still_requests_one_step_and_a_big_one_is_held_to_the_maximum() {
        let idle = right_size(&server(4, 8, Some(0.0), Some(0.0)), 0.3, &RULES).unwrap();
        assert_eq!(idle.requests, RULES.steps);
        let big = right_size(&server(16, 8, Some(0.5), Some(0.1)), 0.3, &RULES);
        assert_eq!(
            big,
            Err(SizeError::AboveMaximum {
                resource: "cpu",
                needed: 10_500,
                max: 4000
            })
        );
    }

    #[test]
    fn sizes_beyond_the_representable_are_refused_not_wrapped() {
        let mut s = server(1, 1, Some(1.0), Some(1.0));
        s.cpu_millis = i64::MAX - 10;
        let rules = Rules {
            max_cpu: None,
            max_memory: None,
            ..RULES
        };
        assert_eq!(right_size(&s, 10.0, &rules), Err(SizeError::TooLarge));
        assert_eq!(round_up(i64::MAX - 1, 250), None);
        assert_eq!(round_up(1, 250), Some(250));
        assert_eq!(round_up(500, 250), Some(500));
    }
}
