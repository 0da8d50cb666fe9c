//! `used` and `usedAt`: the rounding, the rewrite rule, and the three kinds of knowledge.

use std::collections::BTreeMap;

use k8s_openapi::jiff::Timestamp;

use super::*;
use crate::api::ResourceAmounts;
use crate::status::{Measured, USED_RULE, needs_update, rounded, service_status, shown_used};
use crate::usage::Usage;

const MI: i64 = 1 << 20;

fn t(secs: i64) -> Timestamp {
    Timestamp::from_second(secs).unwrap()
}

fn amounts(cpu: &str, memory: &str) -> ResourceAmounts {
    ResourceAmounts {
        cpu: cpu.into(),
        memory: memory.into(),
    }
}

fn used(cpu: i64, memory: i64, secs: i64) -> Measured {
    Measured::Used {
        used: Res::new(cpu, memory),
        at: t(secs),
    }
}

#[test]
fn the_shown_value_has_two_significant_digits() {
    let r = |cpu, memory| {
        let x = rounded(Res::new(cpu, memory));
        (x.cpu_quantity(), x.memory_quantity())
    };
    assert_eq!(r(0, 0), ("0".into(), "0".into()));
    assert_eq!(r(7, 9), ("7m".into(), "9".into()));
    assert_eq!(r(37, 1000), ("37m".into(), "1000".into()));
    assert_eq!(r(1234, 87 * MI + 300_000), ("1200m".into(), "87Mi".into()));
    assert_eq!(
        r(1250, 3_650_722_201),
        ("1300m".into(), "3500Mi".into()),
        "half up; 3.4Gi in Mi"
    );
    assert_eq!(r(1949, 5 * MI + 100_000), ("1900m".into(), "5200Ki".into()));
    assert_eq!(
        r(500, GI),
        ("500m".into(), "1000Mi".into()),
        "two digits of Mi, not Gi"
    );
    assert_eq!(r(12_345, 123 * GI + 7), ("12".into(), "120Gi".into()));
    assert_eq!(r(999, 99 * MI + MI / 2), ("1".into(), "100Mi".into()));
    let huge = rounded(Res::new(i64::MAX, i64::MAX));
    assert!(
        huge.cpu_millis > 0 && huge.memory_bytes > 0,
        "no overflow: {huge:?}"
    );
}

#[test]
fn unknown_keeps_nothing_clears_and_a_first_measurement_is_written() {
    let shown = amounts("300m", "1Gi");
    let at = at(100);
    assert_eq!(
        shown_used(Some(&shown), Some(&at), Measured::Unknown),
        (Some(shown.clone()), Some(at.clone()))
    );
    assert_eq!(shown_used(None, None, Measured::Unknown), (None, None));
    assert_eq!(
        shown_used(Some(&shown), Some(&at), Measured::Nothing),
        (None, None)
    );
    assert_eq!(
        shown_used(None, None, used(1234, 87 * MI + 5, 200)),
        (Some(amounts("1200m", "87Mi")), Some(super::at(200)))
    );
}

#[test]
fn a_small_move_keeps_the_shown_value_and_a_real_one_rewrites_it() {
    let shown = amounts("1200m", "1000Mi");
    let at = at(100);
    let next = |cpu, memory| shown_used(Some(&shown), Some(&at), used(cpu, memory, 160));
    let kept = (Some(shown.clone()), Some(at.clone()));
    assert_eq!(next(1200, 1000 * MI), kept, "the same value");
    assert_eq!(next(1319, 1099 * MI), kept, "less than 10 % either way");
    assert_eq!(next(1081, 901 * MI), kept);
    assert_eq!(
        next(1320, 1000 * MI),
        (Some(amounts("1300m", "1000Mi")), Some(super::at(160))),
        "cpu moved 10 %"
    );
    assert_eq!(
        next(1200, 1100 * MI),
        (Some(amounts("1200m", "1100Mi")), Some(super::at(160))),
        "memory moved 10 %"
    );

    // Small values: 10 % of 3m is nothing worth a write; the floor (10m, 10 MiB) holds it.
    let idle = amounts("3m", "20Mi");
    let kept = (Some(idle.clone()), Some(at.clone()));
    assert_eq!(shown_used(Some(&idle), Some(&at), used(12, 29 * MI, 160)), kept);
    assert_eq!(
        shown_used(Some(&idle), Some(&at), used(13, 20 * MI, 160)).1,
        Some(super::at(160))
    );
}

#[test]
fn a_value_wavering_across_a_rounding_boundary_writes_nothing() {
    // 1249m shows as 1200m; 1251m would round to 1300m, but moved 4 % from what is shown.
    let (first, first_at) = shown_used(None, None, used(1249, 100 * MI, 100));
    assert_eq!(first, Some(amounts("1200m", "100Mi")));
    let mut shown = (first, first_at);
    for (i, cpu) in [1251, 1249, 1251, 1252, 1248].into_iter().enumerate() {
        let next = shown_used(
            shown.0.as_ref(),
            shown.1.as_ref(),
            used(cpu, 100 * MI, 160 + 60 * i as i64),
        );
        assert_eq!(next, shown, "{cpu}m");
        shown = next;
    }
}

#[test]
fn an_hour_old_value_is_refreshed_and_time_never_goes_back() {
    let shown = amounts("500m", "1000Mi");
    let at = at(1_000);
    let refresh = USED_RULE.refresh.as_secs() as i64;
    assert_eq!(
        shown_used(Some(&shown), Some(&at), used(500, 1000 * MI, 1_000 + refresh - 1)),
        (Some(shown.clone()), Some(at.clone()))
    );
    assert_eq!(
        shown_used(Some(&shown), Some(&at), used(504, 1000 * MI, 1_000 + refresh)),
        (Some(shown.clone()), Some(super::at(1_000 + refresh))),
        "same shown value, new time: a reader can tell the source still answers"
    );
    assert_eq!(
        shown_used(Some(&shown), Some(&at), used(5_000, 9 * GI, 999)),
        (Some(shown.clone()), Some(at.clone())),
        "a sample older than the shown value changes nothing"
    );
    assert_eq!(
        shown_used(
            Some(&amounts("lots", "1Gi")),
            Some(&at),
            used(500, 1000 * MI, 1_001)
        ),
        (Some(shown.clone()), Some(super::at(1_001))),
        "a shown value that does not parse is replaced"
    );
    assert_eq!(
        shown_used(Some(&shown), None, used(500, 1000 * MI, 1_001)).1,
        Some(super::at(1_001)),
        "used without usedAt is replaced"
    );
}

#[test]
fn measured_reads_the_attributed_usage() {
    let usage = Usage {
        at: Some(t(50)),
        services: BTreeMap::from([("dept-finance/ledger".to_string(), Res::new(1, 2))]),
        departments: BTreeMap::from([("finance".to_string(), Res::new(3, 4))]),
        pools: BTreeMap::from([("general-l2".to_string(), Res::new(5, 6))]),
        unattributed_pods: 0,
    };
    let u = Some(&usage);
    assert_eq!(Measured::service(u, "dept-finance", "ledger"), used(1, 2, 50));
    assert_eq!(Measured::service(u, "dept-finance", "other"), Measured::Nothing);
    assert_eq!(Measured::department(u, "finance"), used(3, 4, 50));
    assert_eq!(Measured::pool(u, "general-l2"), used(5, 6, 50));
    assert_eq!(Measured::pool(u, "other"), Measured::Nothing);
    assert_eq!(Measured::pool(None, "general-l2"), Measured::Unknown);
    let timeless = Usage {
        at: None,
        ..usage.clone()
    };
    assert_eq!(Measured::pool(Some(&timeless), "general-l2"), Measured::Unknown);
}

#[test]
fn a_service_status_shows_usage_and_is_not_rewritten_for_noise() {
    let plan = placed_plan("general-l2");
    let first = service_status(
        &service(1, None),
        &plan,
        None,
        used(1234, 300 * MI, 100),
        &at(100),
    );
    assert_eq!(first.used, Some(amounts("1200m", "300Mi")));
    assert_eq!(first.used_at, Some(at(100)));
    let value = serde_json::to_value(&first).unwrap();
    assert_eq!(
        value["used"],
        serde_json::json!({"cpu": "1200m", "memory": "300Mi"})
    );
    assert_eq!(value["usedAt"], "1970-01-01T00:01:40Z");

    let stored = service(1, Some(first.clone()));
    assert_eq!(
        stored.status.as_ref(),
        Some(&first),
        "what is written reads back equal"
    );
    let precise = Timestamp::from_millisecond(100_999).unwrap();
    let (_, shown_at) = shown_used(
        None,
        None,
        Measured::Used {
            used: Res::new(1, 1),
            at: precise,
        },
    );
    assert_eq!(shown_at, Some(at(100)), "whole seconds");
    let noise = service_status(&stored, &plan, None, used(1260, 310 * MI, 160), &at(160));
    assert!(!needs_update(stored.status.as_ref(), &noise), "{noise:?}");
    let down = service_status(&stored, &plan, None, used(1234, 300 * MI, 100), &at(900));
    assert!(
        !needs_update(stored.status.as_ref(), &down),
        "the source down: the same old sample, nothing to write"
    );
    let busy = service_status(&stored, &plan, None, used(2500, 300 * MI, 220), &at(220));
    assert!(needs_update(stored.status.as_ref(), &busy));
    assert_eq!(busy.used, Some(amounts("2500m", "300Mi")));
    assert_eq!(busy.used_at, Some(at(220)));
    let gone = service_status(&stored, &plan, None, Measured::Nothing, &at(280));
    assert_eq!((gone.used, gone.used_at), (None, None));
}
