use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;

use super::*;
use crate::plan::Settings;

fn shipped() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../config/govcloud.yaml")
}

fn parse(text: &str) -> Result<OperatorConfig, ConfigErrors> {
    OperatorConfig::from_str(text, Path::new("govcloud.yaml"))
}

/// The errors of `text`, one string each.
fn errors(text: &str) -> Vec<String> {
    let ConfigErrors(errors) = parse(text).expect_err("the config should be refused");
    errors.iter().map(ToString::to_string).collect()
}

fn only_error(text: &str) -> String {
    let errors = errors(text);
    assert_eq!(errors.len(), 1, "{errors:#?}");
    errors.into_iter().next().unwrap()
}

#[test]
fn defaults_are_valid_and_match_the_planner() {
    let config = OperatorConfig::default();
    config.validate(&Source::Defaults).unwrap();
    assert_eq!(config.settings(), Settings::default());
    assert_eq!(config.lease_namespace(), "govcloud-system");
    assert_eq!(config.controller.concurrency, 4);
    assert_eq!(config.controller.debounce, Duration::from_secs(2));
    assert_eq!(config.controller.resync, Duration::from_secs(600));
    assert_eq!(config.controller.shutdown_timeout, Duration::from_secs(20));
    assert_eq!(config.controller.backoff.max, Duration::from_secs(300));
    assert_eq!(config.http.address, "0.0.0.0:8080".parse::<SocketAddr>().unwrap());
    assert_eq!(config.usage.source, UsageSource::None);
    assert!(!config.leader_election.enabled && !config.metrics.per_service);
}

#[test]
fn shipped_file_holds_exactly_the_defaults() {
    assert_eq!(
        OperatorConfig::load(&shipped()).unwrap(),
        OperatorConfig::default()
    );
}

/// The shipped file is the config's documentation: every key has a comment right above it.
#[test]
fn shipped_file_comments_every_key() {
    let text = std::fs::read_to_string(shipped()).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let mut keys = 0;
    for (i, line) in lines.iter().enumerate() {
        let trimmed = line.trim_start();
        if trimmed.is_empty() || trimmed.starts_with('#') {
            continue;
        }
        keys += 1;
        let above = i.checked_sub(1).map(|j| lines[j].trim_start());
        assert!(
            above.is_some_and(|l| l.starts_with('#')),
            "line {}: key without a comment above it: {line}",
            i + 1
        );
    }
    assert!(keys > 0);
}

/// Every key path of a YAML/JSON tree: `controller`, `controller.backoff`, ….
fn key_paths(value: &serde_json::Value, prefix: &str, out: &mut Vec<String>) {
    if let serde_json::Value::Object(map) = value {
        for (key, child) in map {
            let path = if prefix.is_empty() {
                key.clone()
            } else {
                format!("{prefix}.{key}")
            };
            key_paths(child, &path, out);
            out.push(path);
        }
    }
}

/// A key added to the config but not to the shipped file would go undocumented.
#[test]
fn shipped_file_lists_every_key() {
    let text = std::fs::read_to_string(shipped()).unwrap();
    let file: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
    let defaults = serde_json::to_value(OperatorConfig::default()).unwrap();
    let (mut in_file, mut in_config) = (Vec::new(), Vec::new());
    key_paths(&file, "", &mut in_file);
    key_paths(&defaults, "", &mut in_config);
    in_file.sort();
    in_config.sort();
    assert_eq!(in_file, in_config);
}

#[test]
fn empty_and_comment_only_files_are_the_defaults() {
    for text in ["", "\n", "# nothing set\n", "---\n", "{}\n"] {
        assert_eq!(parse(text).unwrap(), OperatorConfig::default(), "{text:?}");
    }
}

#[test]
fn absent_keys_take_their_defaults() {
    let config = parse("platformNamespace: ops\ncontroller:\n  backoff:\n    max: 1m\n").unwrap();
    let defaults = OperatorConfig::default();
    let expected = OperatorConfig {
        platform_namespace: "ops".into(),
        controller: ControllerConfig {
            backoff: BackoffConfig {
                max: Duration::from_secs(60),
                ..defaults.controller.backoff
            },
            ..defaults.controller.clone()
        },
        ..defaults
    };
    assert_eq!(config, expected);
    // The Lease follows the operator's namespace unless placed elsewhere.
    assert_eq!(config.lease_namespace(), "ops");
}

const FULL: &str = "\
namespacePrefix: gov-
sharedNamespace: shared-services
platformNamespace: ops
ingressNamespace: edge
currency: EUR
controller:
  concurrency: 16
  debounce: 500ms
  resync: 1h30m
  shutdownTimeout: 8s500ms
  backoff: {initial: 250ms, max: 2m}
leaderElection:
  enabled: true
  leaseName: govcloud.leader
  leaseNamespace: kube-leases
  leaseDuration: 30s
  renewDeadline: 20s
  retryPeriod: 1s500ms
http:
  address: '[::1]:9090'
usage:
  source: prometheus
  interval: 30s
  prometheus:
    url: https://prometheus.monitoring.svc:9090/prom
    timeout: 5s
    bearerTokenFile: /var/run/secrets/prometheus/token
    caFile: /etc/govcloud/ca.pem
    queries: {cpu: cpu_by_pod, memory: memory_by_pod}
metrics:
  perService: true
";

fn full() -> OperatorConfig {
    OperatorConfig {
        namespace_prefix: "gov-".into(),
        shared_namespace: "shared-services".into(),
        platform_namespace: "ops".into(),
        ingress_namespace: "edge".into(),
        currency: "EUR".into(),
        controller: ControllerConfig {
            concurrency: 16,
            debounce: Duration::from_millis(500),
            resync: Duration::from_secs(5400),
            shutdown_timeout: Duration::from_millis(8500),
            backoff: BackoffConfig {
                initial: Duration::from_millis(250),
                max: Duration::from_secs(120),
            },
        },
        leader_election: LeaderElectionConfig {
            enabled: true,
            lease_name: "govcloud.leader".into(),
            lease_namespace: Some("kube-leases".into()),
            lease_duration: Duration::from_secs(30),
            renew_deadline: Duration::from_secs(20),
            retry_period: Duration::from_millis(1500),
        },
        http: HttpConfig {
            address: "[::1]:9090".parse().unwrap(),
        },
        usage: UsageConfig {
            source: UsageSource::Prometheus,
            interval: Duration::from_secs(30),
            prometheus: PrometheusConfig {
                url: Some("https://prometheus.monitoring.svc:9090/prom".into()),
                timeout: Duration::from_secs(5),
                bearer_token_file: Some("/var/run/secrets/prometheus/token".into()),
                ca_file: Some("/etc/govcloud/ca.pem".into()),
                queries: PrometheusQueries {
                    cpu: "cpu_by_pod".into(),
                    memory: "memory_by_pod".into(),
                },
            },
        },
        metrics: MetricsConfig { per_service: true },
    }
}

#[test]
fn full_file_sets_every_key() {
    let config = parse(FULL).unwrap();
    assert_eq!(config, full());
    assert_eq!(config.lease_namespace(), "kube-leases");
    assert_eq!(
        config.settings(),
        Settings {
            namespace_prefix: "gov-".into(),
            shared_namespace: "shared-services".into(),
            platform_namespace: "ops".into(),
            ingress_namespace: "edge".into(),
        }
    );
}

#[test]
fn serialised_config_reads_back_equal() {
    for config in [full(), OperatorConfig::default()] {
        let text = serde_saphyr::to_string(&config).unwrap();
        assert_eq!(parse(&text).unwrap(), config, "{text}");
    }
}

#[test]
fn unknown_key_is_refused_with_its_path_and_line() {
    let error = only_error("currency: CNY\ncontroller:\n  concurency: 8\n");
    assert!(
        error.starts_with("govcloud.yaml:3:3: controller.concurency: unknown field `concurency`"),
        "{error}"
    );
    let error = only_error("leaderElect: true\n");
    assert!(
        error.starts_with("govcloud.yaml:1:1: leaderElect: unknown field"),
        "{error}"
    );
}

#[test]
fn wrong_types_name_the_field_and_position() {
    let cases = [
        (
            "controller:\n  concurrency: many\n",
            "govcloud.yaml:2:16: controller.concurrency: ",
        ),
        (
            "controller:\n  debounce: 2 seconds\n",
            "govcloud.yaml:2:3: controller.debounce: ",
        ),
        (
            "controller:\n  shutdownTimeout: 20\n",
            "govcloud.yaml:2:3: controller.shutdownTimeout: ",
        ),
        (
            "http:\n  address: localhost:8080\n",
            "govcloud.yaml:2:3: http.address: ",
        ),
        (
            "usage:\n  source: graphite\n",
            "govcloud.yaml:2:11: usage.source: ",
        ),
        ("metrics: true\n", "govcloud.yaml:1:10: metrics: "),
    ];
    for (text, start) in cases {
        let error = only_error(text);
        assert!(error.starts_with(start), "{text:?} gave {error}");
    }
    let error = only_error("controller:\n  debounce: 2 seconds\n");
    assert!(
        error.contains("a duration such as 500ms, 2s, 10m or 1h30m"),
        "{error}"
    );
    let error = only_error("usage:\n  source: graphite\n");
    assert!(error.contains("metricsApi"), "{error}");
}

#[test]
fn malformed_yaml_is_a_syntax_error_with_its_position() {
    let error = only_error("controller:\n  concurrency: [4\n");
    assert!(error.starts_with("govcloud.yaml:"), "{error}");
    assert!(error.contains("malformed YAML"), "{error}");
    let error = only_error("currency: CNY\n---\ncurrency: EUR\n");
    assert!(error.contains("malformed YAML"), "{error}");
}

#[test]
fn each_problem_of_meaning_names_its_field() {
    let prom = "usage:\n  source: prometheus\n  prometheus:\n";
    let cases = [
        (
            "namespacePrefix: Dept_\n",
            r#"namespacePrefix: "Dept_" is not a DNS label prefix"#,
        ),
        (
            "namespacePrefix: '-dept'\n",
            r#"namespacePrefix: "-dept" is not a DNS label prefix"#,
        ),
        (
            "sharedNamespace: -shared\n",
            r#"sharedNamespace: "-shared" is not a DNS-1123 label"#,
        ),
        (
            "platformNamespace: Ops\n",
            r#"platformNamespace: "Ops" is not a DNS-1123 label"#,
        ),
        (
            "ingressNamespace: dept-ingress\n",
            r#"ingressNamespace: "dept-ingress" starts with namespacePrefix "dept-": it would be the namespace of a department named "ingress""#,
        ),
        ("currency: yuan\n", r#"currency: "yuan" is not an ISO 4217 code"#),
        (
            "controller: {concurrency: 0}\n",
            "controller.concurrency: 0 is outside 1–64",
        ),
        (
            "controller: {concurrency: 65}\n",
            "controller.concurrency: 65 is outside 1–64",
        ),
        (
            "controller: {debounce: 10m}\n",
            "controller.debounce: 10m must be shorter than resync 10m",
        ),
        (
            "controller: {resync: 500ms, debounce: 0s}\n",
            "controller.resync: 500ms is under 1s",
        ),
        (
            "controller: {shutdownTimeout: 0s}\n",
            "controller.shutdownTimeout: must be longer than 0s",
        ),
        (
            "controller: {backoff: {initial: 0s}}\n",
            "controller.backoff.initial: must be longer than 0s",
        ),
        (
            "controller: {backoff: {initial: 10s, max: 5s}}\n",
            "controller.backoff.max: 5s must not be shorter than initial 10s",
        ),
        (
            "leaderElection: {leaseName: Leader}\n",
            r#"leaderElection.leaseName: "Leader" is not a DNS-1123 subdomain"#,
        ),
        (
            "leaderElection: {leaseNamespace: a.b}\n",
            r#"leaderElection.leaseNamespace: "a.b" is not a DNS-1123 label"#,
        ),
        (
            "leaderElection: {leaseDuration: 15s500ms}\n",
            "leaderElection.leaseDuration: 15s500ms must be a whole number of seconds",
        ),
        (
            "leaderElection: {renewDeadline: 15s}\n",
            "leaderElection.renewDeadline: 15s must be shorter than leaseDuration 15s",
        ),
        (
            "leaderElection: {retryPeriod: 10s}\n",
            "leaderElection.retryPeriod: 10s must be shorter than renewDeadline 10s",
        ),
        (
            "leaderElection: {retryPeriod: 0s}\n",
            "leaderElection.retryPeriod: must be longer than 0s",
        ),
        (
            "usage: {source: metricsApi, interval: 0s}\n",
            "usage.interval: must be longer than 0s",
        ),
        (
            "usage: {source: prometheus}\n",
            "usage.prometheus.url: required when usage.source is prometheus",
        ),
        (
            &format!("{prom}    url: prometheus:9090\n"),
            r#"usage.prometheus.url: "prometheus:9090" is not an http:// or https:// URL with a host"#,
        ),
        (
            &format!("{prom}    url: http:///api\n"),
            r#"usage.prometheus.url: "http:///api" is not an http:// or https:// URL with a host"#,
        ),
        (
            &format!("{prom}    url: http://p\n    timeout: 1m\n"),
            "usage.prometheus.timeout: 1m must be shorter than usage.interval 1m",
        ),
        (
            &format!("{prom}    url: http://p\n    caFile: ''\n"),
            "usage.prometheus.caFile: must not be empty",
        ),
        (
            &format!("{prom}    url: http://p\n    queries: {{memory: ' '}}\n"),
            "usage.prometheus.queries.memory: must not be empty",
        ),
    ];
    for (text, expected) in cases {
        let error = only_error(text);
        assert!(
            error.starts_with(&format!("govcloud.yaml: {expected}")),
            "{text:?} gave {error}"
        );
    }
}

#[test]
fn prometheus_settings_are_checked_only_for_prometheus() {
    let text = "usage:\n  source: metricsApi\n  prometheus: {url: not-a-url, timeout: 0s}\n";
    assert_eq!(parse(text).unwrap().usage.source, UsageSource::MetricsApi);
}

#[test]
fn every_problem_is_reported_at_once() {
    let text = "\
namespacePrefix: Dept_
currency: cny
controller:
  concurrency: 0
leaderElection:
  renewDeadline: 15s
usage:
  source: prometheus
";
    assert_eq!(
        errors(text),
        [
            r#"govcloud.yaml: namespacePrefix: "Dept_" is not a DNS label prefix (empty, or at most 62 lowercase letters, digits and '-', starting with a letter or digit)"#,
            r#"govcloud.yaml: currency: "cny" is not an ISO 4217 code (three capital letters, such as CNY)"#,
            "govcloud.yaml: controller.concurrency: 0 is outside 1–64",
            "govcloud.yaml: leaderElection.renewDeadline: 15s must be shorter than leaseDuration 15s",
            "govcloud.yaml: usage.prometheus.url: required when usage.source is prometheus",
        ]
    );
}

#[test]
fn missing_file_is_a_read_error() {
    let ConfigErrors(errors) = OperatorConfig::load(Path::new("/nonexistent/govcloud.yaml")).unwrap_err();
    assert!(
        matches!(errors.as_slice(), [ConfigError::Read { .. }]),
        "{errors:?}"
    );
}

fn flags() -> ConfigOverrides {
    ConfigOverrides {
        leader_elect: Some(true),
        concurrency: Some(32),
        http_address: Some("127.0.0.1:0".parse().unwrap()),
        namespace_prefix: Some("agency-".into()),
    }
}

#[test]
fn flags_win_over_the_file() {
    let config = parse(FULL).unwrap().overrides(&flags());
    let mut expected = full();
    expected.leader_election.enabled = true;
    expected.controller.concurrency = 32;
    expected.http.address = "127.0.0.1:0".parse().unwrap();
    expected.namespace_prefix = "agency-".into();
    assert_eq!(config, expected);
    // A flag not given leaves the file's value.
    let config = parse(FULL).unwrap().overrides(&ConfigOverrides {
        leader_elect: Some(false),
        ..ConfigOverrides::default()
    });
    assert!(!config.leader_election.enabled);
    assert_eq!(config.controller.concurrency, 16);
}

#[test]
fn resolve_applies_flags_to_the_file_and_blames_bad_flags() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("govcloud.yaml");
    // The file's concurrency is out of range, but the flag replaces it.
    std::fs::write(&file, "controller: {concurrency: 0}\ncurrency: EUR\n").unwrap();
    let config = OperatorConfig::resolve(Some(&file), &flags()).unwrap();
    assert_eq!(
        (config.controller.concurrency, config.currency.as_str()),
        (32, "EUR")
    );

    let bad = ConfigOverrides {
        concurrency: Some(100),
        namespace_prefix: Some("Agency".into()),
        ..ConfigOverrides::default()
    };
    let ConfigErrors(errors) = OperatorConfig::resolve(None, &bad).unwrap_err();
    let shown: Vec<_> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(shown.len(), 2, "{shown:#?}");
    assert!(
        shown[0].starts_with(r#"flag --namespace-prefix: namespacePrefix: "Agency""#),
        "{}",
        shown[0]
    );
    assert_eq!(
        shown[1],
        "flag --concurrency: controller.concurrency: 100 is outside 1–64"
    );

    std::fs::write(&file, "controller: {concurrency: 0}\n").unwrap();
    let ConfigErrors(errors) = OperatorConfig::resolve(Some(&file), &ConfigOverrides::default()).unwrap_err();
    assert_eq!(
        errors[0].to_string(),
        format!("{}: controller.concurrency: 0 is outside 1–64", file.display())
    );
}

#[test]
fn a_namespace_prefix_is_valid_when_a_name_can_complete_it_into_a_label() {
    let longest = "p".repeat(62);
    for ok in ["", "d", "dept-", "gov-dept-", longest.as_str()] {
        assert_eq!(super::check_namespace_prefix(ok), Ok(()), "{ok:?}");
    }
    let too_long = "p".repeat(63);
    for bad in ["-", "-dept", "Dept-", "dept_", "gov.", too_long.as_str()] {
        assert!(super::check_namespace_prefix(bad).is_err(), "{bad:?}");
    }
    // Department namespaces then carry the departments' names; the planner refuses those
    // that would be a reserved namespace.
    let config = OperatorConfig::from_str("namespacePrefix: ''\n", Path::new("govcloud.yaml"))
        .expect("an empty prefix is valid");
    assert_eq!(config.namespace_prefix, "");
}
