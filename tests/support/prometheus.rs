//! A real Prometheus server for the usage tests: Debian `prometheus` on a free loopback
//! port, its TSDB seeded with history by `promtool tsdb create-blocks-from openmetrics`,
//! and the pods to seed, named as the sample estate's Deployments name their pods.

use std::fmt::Write as _;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use govcloud::config::PrometheusConfig;
use govcloud::plan::Plan;
use govcloud::usage::{Prometheus, Sample};
use k8s_openapi::jiff::Timestamp;

use super::process::Process;

pub const MI: i64 = 1 << 20;
pub const GI: i64 = 1 << 30;

/// A pod of Deployment `deployment`, as the ReplicaSet controller names them.
pub fn pod_of(deployment: &str, suffix: &str) -> String {
    format!("{deployment}-5f6d7c8b9-{suffix}")
}

/// What the test seeds, per pod: namespace, pod, CPU in millicores, memory in bytes.
#[derive(Clone, Debug)]
pub struct Seeded {
    pub namespace: String,
    pub pod: String,
    pub cpu_millis: i64,
    /// `None` seeds a NaN working set, which the client must skip.
    pub memory: Option<i64>,
}

/// The pods the real-server tests seed: two own workloads, a shared instance, a stray pod
/// in a department namespace, and a kube-system pod whose memory series is NaN.
pub struct Seed {
    pub pods: Vec<Seeded>,
    /// (namespace, name) of the first own workload and its pool and department.
    pub own: (String, String),
    pub own_pool: String,
    pub own_department: String,
    /// (namespace, name) of the second own workload.
    pub other: (String, String),
    /// The shared instance and its tenants.
    pub instance: String,
    pub tenants: Vec<String>,
}

pub fn seed_for(p: &Plan, shared_namespace: &str) -> Seed {
    let mut own = p
        .services
        .iter()
        .filter(|s| s.pool.is_some() && s.shared_instance.is_none());
    let first = own.next().expect("a placed own workload");
    let second = own
        .find(|s| s.department != first.department)
        .expect("a placed own workload of another department");
    let instance = p
        .offerings
        .iter()
        .flat_map(|o| &o.instances)
        .find(|i| i.pool.is_some() && i.tenants.len() >= 2)
        .expect("a placed shared instance with two tenants or more");
    let pod = |namespace: &str, deployment: &str, suffix: &str, cpu_millis, memory| Seeded {
        namespace: namespace.into(),
        pod: pod_of(deployment, suffix),
        cpu_millis,
        memory,
    };
    Seed {
        pods: vec![
            pod(&first.namespace, &first.name, "aaaaa", 250, Some(300 * MI)),
            pod(&first.namespace, &first.name, "bbbbb", 125, Some(200 * MI)),
            pod(&second.namespace, &second.name, "ccccc", 500, Some(GI)),
            pod(shared_namespace, &instance.name, "ddddd", 1000, Some(2 * GI)),
            pod(&first.namespace, "leftover", "eeeee", 5, Some(5 * MI)),
            pod("kube-system", "coredns", "fffff", 10, None),
        ],
        own: (first.namespace.clone(), first.name.clone()),
        own_pool: first.pool.clone().unwrap(),
        own_department: first.department.clone().unwrap(),
        other: (second.namespace.clone(), second.name.clone()),
        instance: instance.name.clone(),
        tenants: instance.tenants.clone(),
    }
}

/// OpenMetrics text: a CPU counter rising at each pod's rate and a memory gauge, every
/// 15 s from 15 minutes before `now` to 15 minutes after it, so that an instant query
/// at any moment of the test finds a rate over 5m and a sample within its 5m lookback.
pub fn openmetrics(pods: &[Seeded], now: i64) -> String {
    let now = now - now % 15;
    let times: Vec<i64> = (now - 900..=now + 900).step_by(15).collect();
    let mut text = String::from(
        "# HELP container_cpu_usage_seconds Cumulative cpu time consumed.\n# TYPE container_cpu_usage_seconds counter\n",
    );
    for p in pods {
        for (i, t) in times.iter().enumerate() {
            // Multiples of 1/8 s: exact in binary, so the rate is exact.
            let value = 1000.0 + (p.cpu_millis as f64 / 1000.0) * 15.0 * i as f64;
            writeln!(
                text,
                "container_cpu_usage_seconds_total{{namespace=\"{}\",pod=\"{}\",container=\"app\"}} {value} {t}",
                p.namespace, p.pod
            )
            .unwrap();
        }
    }
    text.push_str(
        "# HELP container_memory_working_set_bytes Current working set.\n# TYPE container_memory_working_set_bytes gauge\n",
    );
    for p in pods {
        for t in &times {
            let value = p.memory.map_or("NaN".to_string(), |m| m.to_string());
            writeln!(
                text,
                "container_memory_working_set_bytes{{namespace=\"{}\",pod=\"{}\",container=\"app\"}} {value} {t}",
                p.namespace, p.pod
            )
            .unwrap();
        }
    }
    text.push_str("# EOF\n");
    text
}

/// A Prometheus server on a TSDB seeded from OpenMetrics text.
pub struct PrometheusServer {
    pub process: Process,
    pub url: String,
    pub dir: tempfile::TempDir,
}

impl PrometheusServer {
    pub fn start(pods: &[Seeded]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let om = dir.path().join("seed.om.txt");
        let data = dir.path().join("data");
        std::fs::write(&om, openmetrics(pods, Timestamp::now().as_second())).unwrap();
        super::promtool::create_blocks(dir.path(), &om, &data);
        let config = dir.path().join("prometheus.yml");
        std::fs::write(&config, "global:\n  scrape_interval: 15s\n").unwrap();
        let port = super::free_port();
        let log = dir.path().join("prometheus.log");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!("--storage.tsdb.path={}", data.display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdin(Stdio::null())
            .stdout(std::fs::File::create(&log).unwrap())
            .stderr(std::fs::File::create(&log).unwrap())
            .spawn()
            .expect("prometheus runs (apt-get install -y --no-install-recommends prometheus)");
        Self {
            process: Process {
                name: "prometheus",
                child,
                log,
            },
            url: format!("http://127.0.0.1:{port}"),
            dir,
        }
    }

    pub fn config(&self) -> PrometheusConfig {
        PrometheusConfig {
            url: Some(self.url.clone()),
            timeout: Duration::from_secs(5),
            ..PrometheusConfig::default()
        }
    }

    /// Polls with the client until both queries see every seeded pod (no fixed sleep).
    pub async fn wait_for_data(&self, client: &Prometheus, pods: usize) -> Sample {
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            if let Ok(r) = client.read().await
                && r.sample.pods.len() == pods
                && r.sample.pods.iter().any(|p| p.used.cpu_millis > 0)
            {
                return r.sample;
            }
            assert!(
                Instant::now() < deadline,
                "Prometheus did not serve the seeded data within 60 s\n{}",
                self.process.log()
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}
