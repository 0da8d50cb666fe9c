//! `joint` against a brute-force reference that knows nothing of the module: walk
//! absolute UTC minutes, convert each to civil time in the zone with jiff, and match the
//! five fields with a matcher written here. A firing is a minute whose civil time
//! matches, so skipped civil times never fire and repeated ones fire twice, by
//! construction rather than by any DST logic.

use jiff::tz::{TimeZone, TimeZoneDatabase};
use proptest::prelude::*;

use super::tests::window;
use super::*;

const ZONES: [&str; 5] = [
    "UTC",
    "America/New_York",
    "Europe/London",
    "Asia/Shanghai",
    "Australia/Lord_Howe",
];

/// DST transitions of those zones and month ends, 2026-2028; `now` lands within two
/// days of one.
const ANCHORS: [&str; 16] = [
    "2026-03-08T07:00:00Z",
    "2026-11-01T06:00:00Z",
    "2027-03-14T07:00:00Z",
    "2027-11-07T06:00:00Z",
    "2028-03-12T07:00:00Z",
    "2026-03-29T01:00:00Z",
    "2027-03-28T01:00:00Z",
    "2027-10-31T01:00:00Z",
    "2026-04-04T15:00:00Z",
    "2026-10-03T15:30:00Z",
    "2027-04-03T15:00:00Z",
    "2027-10-02T15:30:00Z",
    "2026-12-31T23:00:00Z",
    "2027-02-28T22:00:00Z",
    "2028-02-29T12:00:00Z",
    "2027-04-30T20:00:00Z",
];

/// How far the reference walks forward; answers beyond are only checked to lie beyond.
const WALK_MINUTES: i64 = 14 * 24 * 60;

/// The values one field allows: `*`, `n`, `a-b`, with `/step`, in a comma list.
fn allowed(field: &str, lo: u32, hi: u32) -> Vec<bool> {
    let mut set = vec![false; hi as usize + 1];
    for item in field.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((r, s)) => (r, s.parse::<u32>().unwrap()),
            None => (item, 1),
        };
        let (a, b) = match (range, range.split_once('-')) {
            ("*", _) => (lo, hi),
            (_, Some((a, b))) => (a.parse().unwrap(), b.parse().unwrap()),
            (n, None) => (n.parse().unwrap(), n.parse().unwrap()),
        };
        let mut v = a;
        while v <= b {
            set[v as usize] = true;
            v += step;
        }
    }
    set
}

struct Reference {
    fields: [Vec<bool>; 5],
    stars: bool,
    zone: TimeZone,
    minutes: i64,
}

impl Reference {
    fn new(schedule: &str, zone: &str, minutes: i64) -> Self {
        let f: Vec<&str> = schedule.split(' ').collect();
        let mut dow = allowed(f[4], 0, 7);
        dow[0] |= dow[7];
        Reference {
            fields: [
                allowed(f[0], 0, 59),
                allowed(f[1], 0, 23),
                allowed(f[2], 1, 31),
                allowed(f[3], 1, 12),
                dow,
            ],
            stars: f[2].starts_with('*') || f[4].starts_with('*'),
            // The bundled data, as the module uses: the reference checks the rules, not the data.
            zone: TimeZoneDatabase::bundled().get(zone).unwrap(),
            minutes,
        }
    }

    /// Whether absolute minute `m` (minutes since the Unix epoch) is a firing.
    fn fires(&self, m: i64) -> bool {
        let t = Timestamp::from_second(m * 60)
            .unwrap()
            .to_zoned(self.zone.clone());
        let [mi, h, dom, mon, dow] = &self.fields;
        let day_of_month = dom[t.day() as usize];
        let weekday = dow[t.weekday().to_sunday_zero_offset() as usize];
        let day = if self.stars {
            day_of_month && weekday
        } else {
            day_of_month || weekday
        };
        mi[t.minute() as usize] && h[t.hour() as usize] && mon[t.month() as usize] && day
    }

    /// Open at `now`: a firing `s` with `s <= now < s + duration`.
    fn open(&self, now: Timestamp) -> bool {
        let last = now.as_second().div_euclid(60);
        (last - self.minutes + 1..=last)
            .filter(|m| {
                Timestamp::from_second(m * 60).unwrap() > now - SignedDuration::from_mins(self.minutes)
            })
            .any(|m| self.fires(m))
    }

    /// The first firing after `now` within the walk (openings happen only at firings).
    fn next_open(&self, now: Timestamp) -> Option<Timestamp> {
        let first = now.as_second().div_euclid(60) + 1;
        (first..first + WALK_MINUTES)
            .find(|m| self.fires(*m))
            .map(|m| Timestamp::from_second(m * 60).unwrap())
    }

    /// The first whole minute after `now` with no firing in the last `duration`.
    fn closes_at(&self, now: Timestamp) -> Option<Timestamp> {
        let start = now.as_second().div_euclid(60);
        let mut last_firing = (start - self.minutes + 1..=start)
            .rev()
            .find(|m| self.fires(*m))?;
        for m in start + 1..start + WALK_MINUTES {
            if self.fires(m) {
                last_firing = m;
            }
            if last_firing <= m - self.minutes {
                return Some(Timestamp::from_second(m * 60).unwrap());
            }
        }
        None
    }
}

fn field(lo: u32, hi: u32) -> impl Strategy<Value = String> {
    let step = (hi - lo) / 2 + 1;
    prop_oneof![
        Just("*".to_string()),
        (1..=step).prop_map(|s| format!("*/{s}")),
        (lo..=hi).prop_map(|n| n.to_string()),
        (lo..=hi, lo..=hi).prop_map(|(a, b)| format!("{}-{}", a.min(b), a.max(b))),
        (lo..=hi, lo..=hi, 1..=step).prop_map(|(a, b, s)| format!("{}-{}/{s}", a.min(b), a.max(b))),
        (lo..=hi, lo..=hi).prop_map(|(a, b)| format!("{a},{b}")),
    ]
}

/// Mostly `*`, so that most schedules fire within the reference's walk.
fn loose(lo: u32, hi: u32) -> impl Strategy<Value = String> {
    prop_oneof![3 => Just("*".to_string()), 2 => field(lo, hi)]
}

fn schedule() -> impl Strategy<Value = String> {
    (
        field(0, 59),
        field(0, 23),
        loose(1, 31),
        loose(1, 12),
        loose(0, 7),
    )
        .prop_map(|(a, b, c, d, e)| format!("{a} {b} {c} {d} {e}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]

    #[test]
    fn joint_agrees_with_a_minute_by_minute_walk(
        schedule in schedule(),
        minutes in 1i64..=48 * 60,
        zone in 0usize..ZONES.len(),
        anchor in 0usize..ANCHORS.len(),
        shift in -2 * 86_400i64..=2 * 86_400,
    ) {
        let zone = ZONES[zone];
        let duration = format!("{minutes}m");
        let (c, problems) = Calendar::new(&[window(&schedule, &duration, Some(zone))], &[]);
        prop_assert!(problems.is_empty(), "{:?}", problems);
        let now = ANCHORS[anchor].parse::<Timestamp>().unwrap() + SignedDuration::from_secs(shift);
        let reference = Reference::new(&schedule, zone, minutes);
        let got = joint(&[&c], now);
        let open = reference.open(now);
        prop_assert_eq!(got.open, open, "{} {} {} at {}", schedule, duration, zone, now);
        let walked_to = now + SignedDuration::from_mins(WALK_MINUTES - 1);
        let (expected, actual) = if open {
            (reference.closes_at(now), got.closes_at)
        } else {
            (reference.next_open(now), got.next_open)
        };
        match expected {
            Some(_) => prop_assert_eq!(actual, expected, "{} {} {} at {}", schedule, duration, zone, now),
            None => prop_assert!(actual.is_none_or(|t| t > walked_to), "{:?}", actual),
        }
    }
}
