//! Problems of meaning: values that parse but that the operator cannot run with. Every check
//! runs, so that one edit-and-retry cycle fixes the whole file.

use std::time::Duration;

use super::{OperatorConfig, UsageSource};
use crate::duration::Shown;
use crate::load::{FieldPath, Segment};
use crate::names::{LABEL_MAX, Rule};

/// The path of a config key, from its camelCase segments.
pub(super) fn path(keys: &[&str]) -> FieldPath {
    FieldPath(keys.iter().map(|k| Segment::Key((*k).to_owned())).collect())
}

#[derive(Default)]
struct Problems(Vec<(FieldPath, String)>);

impl Problems {
    fn push(&mut self, keys: &[&str], message: String) {
        self.0.push((path(keys), message));
    }

    fn positive(&mut self, keys: &[&str], d: Duration) {
        if d.is_zero() {
            self.push(keys, "must be longer than 0s".into());
        }
    }

    /// `shorter` must be strictly shorter than `longer` (named `name` in the message).
    fn shorter(&mut self, keys: &[&str], shorter: Duration, name: &str, longer: Duration) {
        if shorter >= longer {
            self.push(
                keys,
                format!("{} must be shorter than {name} {}", Shown(shorter), Shown(longer)),
            );
        }
    }
}

/// Every problem, in the order of the keys in `config/govcloud.yaml`.
pub(super) fn problems(c: &OperatorConfig) -> Vec<(FieldPath, String)> {
    let mut p = Problems::default();
    namespaces(c, &mut p);
    if let Err(e) = check_currency(&c.currency) {
        p.push(&["currency"], e);
    }
    controller(c, &mut p);
    leader_election(c, &mut p);
    usage(c, &mut p);
    p.0
}

fn namespaces(c: &OperatorConfig, p: &mut Problems) {
    let prefix = &c.namespace_prefix;
    let prefix_ok = check_namespace_prefix(prefix)
        .map_err(|e| p.push(&["namespacePrefix"], e))
        .is_ok();
    for (key, ns) in [
        ("sharedNamespace", &c.shared_namespace),
        ("platformNamespace", &c.platform_namespace),
        ("ingressNamespace", &c.ingress_namespace),
    ] {
        if let Err(e) = check_namespace(ns) {
            p.push(&[key], e);
        } else if let Some(department) = ns
            .strip_prefix(prefix.as_str())
            .filter(|d| prefix_ok && !prefix.is_empty() && !d.is_empty())
        {
            // The operator would hand this namespace to a Department of that name. (With an
            // empty prefix every namespace is some department's; the planner refuses those
            // departments instead, as it refuses any department of a reserved namespace.)
            p.push(
                &[key],
                format!(
                    "{ns:?} starts with namespacePrefix {prefix:?}: it would be the namespace of a \
                     department named {department:?}"
                ),
            );
        }
    }
}

/// `namespacePrefix` and `--namespace-prefix`: the prefix and a valid name must be able to
/// form a DNS-1123 label, i.e. the prefix is the start of one with room for one more
/// character. Empty is allowed: department namespaces are then named as the departments.
pub fn check_namespace_prefix(prefix: &str) -> Result<(), String> {
    // Any one-character name completes a valid prefix, and a longer one only if it can.
    match Rule::Dns1123Label.check_within(&format!("{prefix}a"), LABEL_MAX) {
        Ok(()) => Ok(()),
        Err(_) => Err(format!(
            "{prefix:?} is not a DNS label prefix (empty, or at most {} lowercase letters, digits \
             and '-', starting with a letter or digit)",
            LABEL_MAX - 1
        )),
    }
}

/// `sharedNamespace`, `--shared-namespace` and every other namespace name.
pub fn check_namespace(ns: &str) -> Result<(), String> {
    Rule::Dns1123Label.check(ns)
}

/// `currency` and `--currency`.
pub fn check_currency(code: &str) -> Result<(), String> {
    if code.len() == 3 && code.bytes().all(|b| b.is_ascii_uppercase()) {
        Ok(())
    } else {
        Err(format!(
            "{code:?} is not an ISO 4217 code (three capital letters, such as CNY)"
        ))
    }
}

fn controller(c: &OperatorConfig, p: &mut Problems) {
    let ctl = &c.controller;
    if !(1..=64).contains(&ctl.concurrency) {
        p.push(
            &["controller", "concurrency"],
            format!("{} is outside 1–64", ctl.concurrency),
        );
    }
    // A debounce as long as the resync would let resyncs starve the planner of quiet time.
    p.shorter(&["controller", "debounce"], ctl.debounce, "resync", ctl.resync);
    if ctl.resync < Duration::from_secs(1) {
        p.push(
            &["controller", "resync"],
            format!(
                "{} is under 1s, which would keep the API server busy",
                Shown(ctl.resync)
            ),
        );
    }
    p.positive(&["controller", "shutdownTimeout"], ctl.shutdown_timeout);
    p.positive(&["controller", "backoff", "initial"], ctl.backoff.initial);
    if ctl.backoff.max < ctl.backoff.initial {
        p.push(
            &["controller", "backoff", "max"],
            format!(
                "{} must not be shorter than initial {}",
                Shown(ctl.backoff.max),
                Shown(ctl.backoff.initial)
            ),
        );
    }
}

fn leader_election(c: &OperatorConfig, p: &mut Problems) {
    let le = &c.leader_election;
    if let Err(e) = Rule::Dns1123Subdomain.check(&le.lease_name) {
        p.push(&["leaderElection", "leaseName"], e);
    }
    if let Some(Err(e)) = le.lease_namespace.as_deref().map(check_namespace) {
        p.push(&["leaderElection", "leaseNamespace"], e);
    }
    if le.lease_duration.subsec_nanos() != 0 || le.lease_duration.is_zero() {
        p.push(
            &["leaderElection", "leaseDuration"],
            format!(
                "{} must be a whole number of seconds, at least 1s (the Lease stores leaseDurationSeconds)",
                Shown(le.lease_duration)
            ),
        );
    }
    // client-go's invariants: the leader must give up before its lease can be taken, and
    // must get more than one renewal attempt in before it gives up.
    let keys = |k| ["leaderElection", k];
    p.shorter(
        &keys("renewDeadline"),
        le.renew_deadline,
        "leaseDuration",
        le.lease_duration,
    );
    p.shorter(
        &keys("retryPeriod"),
        le.retry_period,
        "renewDeadline",
        le.renew_deadline,
    );
    p.positive(&keys("retryPeriod"), le.retry_period);
}

fn usage(c: &OperatorConfig, p: &mut Problems) {
    let usage = &c.usage;
    if usage.source == UsageSource::None {
        return;
    }
    p.positive(&["usage", "interval"], usage.interval);
    if usage.source != UsageSource::Prometheus {
        return;
    }
    let prom = &usage.prometheus;
    let keys = |k| ["usage", "prometheus", k];
    match prom.url.as_deref() {
        None => p.push(&keys("url"), "required when usage.source is prometheus".into()),
        Some(url) if !http_url(url) => p.push(
            &keys("url"),
            format!("{url:?} is not an http:// or https:// URL with a host"),
        ),
        Some(_) => {}
    }
    p.positive(&keys("timeout"), prom.timeout);
    // A query outliving the sampling interval would pile up behind the next one.
    p.shorter(&keys("timeout"), prom.timeout, "usage.interval", usage.interval);
    for (key, file) in [
        ("bearerTokenFile", &prom.bearer_token_file),
        ("caFile", &prom.ca_file),
    ] {
        if file.as_ref().is_some_and(|f| f.as_os_str().is_empty()) {
            p.push(
                &keys(key),
                "must not be empty (leave the key out, or null, for none)".into(),
            );
        }
    }
    for (key, query) in [("cpu", &prom.queries.cpu), ("memory", &prom.queries.memory)] {
        if query.trim().is_empty() {
            p.push(
                &["usage", "prometheus", "queries", key],
                "must not be empty".into(),
            );
        }
    }
}

/// `http(s)://host[:port][/path]`: enough to catch a missing scheme or a typo, which is what
/// a hand-written URL gets wrong; the client reports anything subtler when it first queries.
fn http_url(url: &str) -> bool {
    let Some(rest) = url
        .strip_prefix("http://")
        .or_else(|| url.strip_prefix("https://"))
    else {
        return false;
    };
    let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
    !host.is_empty() && !host.starts_with(':') && !url.contains(char::is_whitespace)
}
