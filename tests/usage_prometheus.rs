//! Usage collection against a real Prometheus server (Debian `prometheus`, seeded with
//! history by `promtool tsdb create-blocks-from openmetrics`), and against small local
//! HTTP servers where Prometheus cannot show the behaviour: the bearer token it ignores,
//! a server that never answers, an answer that is not Prometheus', and the Kubernetes
//! metrics API.
//!
//! The seeded pods belong to services of the sample estate (`config/samples/`), named as
//! their Deployments' pods are (`<deployment>-<replicaset hash>-<suffix>`), so that the
//! sample read back is attributed by the estate's real plan, and an estate pass against
//! the API double writes it into the DepartmentServices' status.

use crate::support;

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use govcloud::api::{DepartmentService, ResourceAmounts};
use govcloud::config::{PrometheusConfig, UsageConfig, UsageSource};
use govcloud::controller::EstateReconciler;
use govcloud::load::load_paths;
use govcloud::plan::{Assignments, Plan, Snapshot, plan};
use govcloud::quantity::Res;
use govcloud::usage::{
    Collector, PodUsage, Prometheus, Source, Transition, UsageError, UsageState, aggregate,
};
use k8s_openapi::jiff::Timestamp;
use kube::api::{Api, ListParams};
use support::prometheus::{GI, MI, PrometheusServer, Seeded, pod_of, seed_for};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::Notify;

fn samples_dir() -> PathBuf {
    support::repo_root().join("config/samples")
}

fn sample_estate() -> (Snapshot, Plan) {
    let s = load_paths(&[samples_dir()]).expect("samples load").snapshot;
    let p = plan(&s, &Assignments::from_status(&s));
    (s, p)
}

fn pod_usage(namespace: &str, pod: &str, cpu: i64, memory: i64) -> PodUsage {
    PodUsage {
        namespace: namespace.into(),
        pod: pod.into(),
        used: Res::new(cpu, memory),
    }
}

#[tokio::test]
async fn a_sample_from_prometheus_is_attributed_to_services_departments_and_pools() {
    let started = Instant::now();
    let (estate, p) = sample_estate();
    let seed = seed_for(&p, &estate.settings.shared_namespace);
    let server = PrometheusServer::start(&seed.pods);
    let client = Prometheus::new(&server.config()).expect("a client");
    server.wait_for_data(&client, seed.pods.len()).await;

    let reading = client.read().await.expect("a reading");
    let mut expected: Vec<PodUsage> = seed
        .pods
        .iter()
        .map(|s| pod_usage(&s.namespace, &s.pod, s.cpu_millis, s.memory.unwrap_or(0)))
        .collect();
    expected.sort_by(|a, b| (&a.namespace, &a.pod).cmp(&(&b.namespace, &b.pod)));
    assert_eq!(
        reading.sample.pods, expected,
        "rate() of the counters in millicores, the gauges in bytes, the NaN pod with CPU only"
    );
    assert_eq!(reading.skipped.count, 1, "{:?}", reading.skipped);
    assert!(
        reading
            .skipped
            .first
            .as_deref()
            .unwrap()
            .contains("\"NaN\" is not a finite number"),
        "{:?}",
        reading.skipped
    );
    let age = Timestamp::now().duration_since(reading.sample.at);
    assert!(
        age.as_secs() < 5 && !age.is_negative(),
        "the sample is timed at the query: {age}"
    );

    let u = aggregate(&p, &estate.settings, &reading.sample);
    let own = format!("{}/{}", seed.own.0, seed.own.1);
    assert_eq!(u.services[&own], Res::new(375, 500 * MI), "its two pods");
    let other = format!("{}/{}", seed.other.0, seed.other.1);
    assert_eq!(u.services[&other], Res::new(500, GI));
    let n = seed.tenants.len() as i64;
    for tenant in &seed.tenants {
        assert_eq!(
            u.services[tenant],
            Res::new(1000, 2 * GI)
                .checked_div_ceil(n)
                .expect("a positive divisor"),
            "{tenant}: an even share of instance {}",
            seed.instance
        );
    }
    // Departments: each service's usage under the service's department.
    let mut departments: BTreeMap<String, Res> = BTreeMap::new();
    for s in p
        .services
        .iter()
        .filter(|s| u.services.contains_key(&format!("{}/{}", s.namespace, s.name)))
    {
        *departments.entry(s.department.clone().unwrap()).or_default() +=
            u.services[&format!("{}/{}", s.namespace, s.name)];
    }
    assert_eq!(u.departments, departments);
    assert!(u.departments[&seed.own_department].cpu_millis >= 375);
    // Pools: what ran there, shared instances whole.
    let instance_pool = p
        .offerings
        .iter()
        .flat_map(|o| &o.instances)
        .find(|i| i.name == seed.instance)
        .and_then(|i| i.pool.clone())
        .unwrap();
    let mut pools: BTreeMap<String, Res> = BTreeMap::new();
    *pools.entry(seed.own_pool.clone()).or_default() += Res::new(375, 500 * MI);
    let other_pool = p
        .services
        .iter()
        .find(|s| (&s.namespace, &s.name) == (&seed.other.0, &seed.other.1))
        .and_then(|s| s.pool.clone())
        .unwrap();
    *pools.entry(other_pool).or_default() += Res::new(500, GI);
    *pools.entry(instance_pool).or_default() += Res::new(1000, 2 * GI);
    assert_eq!(u.pools, pools);
    assert_eq!(
        u.unattributed_pods, 1,
        "the stray pod in a department namespace; kube-system is not ours"
    );
    eprintln!("attributed in {:?}", started.elapsed());
}

#[tokio::test]
async fn an_estate_pass_writes_measured_usage_into_status_once() {
    use support::fake_cluster::{beyond_namespace_limitation, cluster, now};

    let (estate, p) = sample_estate();
    let seed = seed_for(&p, &estate.settings.shared_namespace);
    let server = PrometheusServer::start(&seed.pods);
    let prometheus = Prometheus::new(&server.config()).unwrap();
    server.wait_for_data(&prometheus, seed.pods.len()).await;

    let state = UsageState::new();
    let collector = Collector::new(
        Source::Prometheus(prometheus),
        Duration::from_secs(10),
        state.clone(),
    );
    assert!(matches!(collector.sample_once().await, Transition::Up));
    let sample = state.sample().unwrap();

    // The cluster-scoped objects live outside the double (see fake_cluster), with the
    // statuses a pass with this usage writes; the services are written through it.
    let mut settled = estate.clone();
    govcloud::synthetic::settle_cluster_scoped_with_usage(&mut settled, &now(), Some(&sample));
    let (client, _writes) = cluster(&settled).await;
    let snapshot = |client: kube::Client| {
        let settled = settled.clone();
        async move {
            let mut services = Api::<DepartmentService>::all(client)
                .list(&ListParams::default())
                .await
                .unwrap()
                .items;
            services.sort_by(|a, b| {
                (&a.metadata.namespace, &a.metadata.name).cmp(&(&b.metadata.namespace, &b.metadata.name))
            });
            Snapshot { services, ..settled }
        }
    };
    let reconciler = EstateReconciler::new(client.clone(), None).with_usage(state.clone());
    let (_, first) = reconciler
        .pass(&snapshot(client.clone()).await, &now())
        .await
        .unwrap();
    assert!(
        beyond_namespace_limitation(&first.errors).is_empty(),
        "{:#?}",
        first.errors
    );
    assert_eq!(first.status_writes, 40, "one per DepartmentService, used or not");

    let own: Api<DepartmentService> = Api::namespaced(client.clone(), &seed.own.0);
    let status = own.get(&seed.own.1).await.unwrap().status.unwrap();
    assert_eq!(
        status.used,
        Some(ResourceAmounts {
            cpu: "380m".into(),
            memory: "500Mi".into()
        }),
        "375m and 500Mi, to two significant digits"
    );
    assert_eq!(
        status.used_at.map(|t| t.0.as_second()),
        Some(sample.at.as_second()),
        "the sample's time, to the second"
    );
    let pool = settled
        .pools
        .iter()
        .find(|o| o.metadata.name.as_deref() == Some(seed.own_pool.as_str()))
        .unwrap();
    assert!(pool.status.as_ref().unwrap().used.is_some());
    let unmeasured = p
        .services
        .iter()
        .find(|s| s.pool.is_none())
        .expect("a refused sample service");
    let refused: Api<DepartmentService> = Api::namespaced(client.clone(), &unmeasured.namespace);
    let status = refused.get(&unmeasured.name).await.unwrap().status.unwrap();
    assert_eq!((status.used, status.used_at), (None, None));

    // A new sample of the same usage: nothing moved, nothing is written.
    assert!(matches!(collector.sample_once().await, Transition::StillUp));
    assert!(state.sample().unwrap().at > sample.at);
    let (_, again) = reconciler
        .pass(&snapshot(client.clone()).await, &now())
        .await
        .unwrap();
    assert_eq!(again.status_writes, 0, "{:#?}", again.errors);
}

/// A local HTTP server answering every request with `status` and `body`, recording the
/// request heads it received.
async fn answering_server(status: &'static str, body: String) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let heads = Arc::new(Mutex::new(Vec::new()));
    let recorded = heads.clone();
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let (recorded, body) = (recorded.clone(), body.clone());
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 4096];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                recorded
                    .lock()
                    .unwrap()
                    .push(String::from_utf8_lossy(&head).into_owned());
                let answer = format!(
                    "HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = socket.write_all(answer.as_bytes()).await;
                let _ = socket.shutdown().await;
            });
        }
    });
    (url, heads)
}

const ONE_POD: &str = r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"namespace":"dept-finance","pod":"ledger-5f6d7c8b9-aaaaa"},"value":[1800000000,"2"]}]}}"#;

fn authorization(head: &str) -> Option<&str> {
    head.lines().find_map(|l| {
        l.strip_prefix("authorization: ")
            .or_else(|| l.strip_prefix("Authorization: "))
    })
}

#[tokio::test]
async fn the_bearer_token_is_read_from_its_file_for_every_query() {
    let (url, heads) = answering_server("200 OK", ONE_POD.into()).await;
    let dir = tempfile::tempdir().unwrap();
    let token = dir.path().join("token");
    std::fs::write(&token, "first-token\n").unwrap();
    let client = Prometheus::new(&PrometheusConfig {
        url: Some(format!("{url}/prom")),
        timeout: Duration::from_secs(5),
        bearer_token_file: Some(token.clone()),
        ..PrometheusConfig::default()
    })
    .unwrap();

    let r = client.read().await.expect("a reading");
    assert_eq!(
        r.sample.pods,
        vec![pod_usage("dept-finance", "ledger-5f6d7c8b9-aaaaa", 2000, 2)]
    );
    std::fs::write(&token, "rotated-token").unwrap();
    client.read().await.expect("a reading");

    let heads = heads.lock().unwrap().clone();
    assert_eq!(heads.len(), 4, "two queries per reading: {heads:#?}");
    let tokens: Vec<_> = heads.iter().map(|h| authorization(h)).collect();
    assert_eq!(
        tokens,
        [
            Some("Bearer first-token"),
            Some("Bearer first-token"),
            Some("Bearer rotated-token"),
            Some("Bearer rotated-token")
        ]
    );
    for head in &heads {
        assert!(
            head.starts_with("GET /prom/api/v1/query?query=sum+by+%28namespace%2C+pod%29"),
            "{head}"
        );
        assert!(head.contains("&time="), "{head}");
    }

    std::fs::write(&token, "  \n").unwrap();
    let e = client.read().await.unwrap_err();
    assert!(
        matches!(&e, UsageError::File { field: "bearerTokenFile", path, .. } if *path == token),
        "{e}"
    );
    std::fs::remove_file(&token).unwrap();
    let e = client.read().await.unwrap_err();
    assert!(
        e.to_string().starts_with("usage.prometheus.bearerTokenFile"),
        "{e}"
    );
}

#[tokio::test]
async fn a_server_that_never_answers_times_out_naming_url_and_query() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    // Accepts, reads nothing, answers nothing, keeps the connections open.
    tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = listener.accept().await {
            held.push(socket);
        }
    });
    let client = Prometheus::new(&PrometheusConfig {
        url: Some(url.clone()),
        timeout: Duration::from_millis(300),
        ..PrometheusConfig::default()
    })
    .unwrap();
    let started = Instant::now();
    let e = client.read().await.unwrap_err();
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(5),
        "{took:?}"
    );
    match &e {
        UsageError::Timeout {
            url: u,
            query,
            timeout,
        } => {
            assert_eq!(u, &url);
            assert!(query.contains("container_"), "{query}");
            assert_eq!(*timeout, Duration::from_millis(300));
        }
        other => panic!("not a timeout: {other}"),
    }
    assert!(e.to_string().contains("timed out after 300ms"), "{e}");

    // The collector's own deadline holds even when the source's timeout is longer.
    let slow = Prometheus::new(&PrometheusConfig {
        url: Some(url.clone()),
        timeout: Duration::from_secs(30),
        ..PrometheusConfig::default()
    })
    .unwrap();
    let state = UsageState::new();
    let collector = Collector::new(Source::Prometheus(slow), Duration::from_secs(60), state.clone())
        .with_deadline(Duration::from_millis(200));
    let started = Instant::now();
    assert_eq!(collector.sample_once().await, Transition::Down);
    assert!(started.elapsed() < Duration::from_secs(5));
    let error = state.health().last_error.unwrap().to_string();
    assert!(error.contains("did not finish within 200ms"), "{error}");
}

#[tokio::test]
async fn bad_urls_and_foreign_answers_are_errors_naming_the_url() {
    for url in ["127.0.0.1:9090", "unix:///run/prom.sock", "http://[::1"] {
        let e = Prometheus::new(&PrometheusConfig {
            url: Some(url.into()),
            ..PrometheusConfig::default()
        })
        .unwrap_err();
        assert!(
            matches!(&e, UsageError::BadUrl { url: u, .. } if u == url),
            "{url}: {e}"
        );
    }

    let closed = format!("http://127.0.0.1:{}", support::free_port());
    let client = Prometheus::new(&PrometheusConfig {
        url: Some(closed.clone()),
        timeout: Duration::from_secs(5),
        ..PrometheusConfig::default()
    })
    .unwrap();
    let e = client.read().await.unwrap_err();
    assert!(
        matches!(&e, UsageError::Request { url, .. } if *url == closed),
        "{e}"
    );
    assert!(e.to_string().contains(&closed), "{e}");

    let (url, _) = answering_server("404 Not Found", "<html>no such page</html>".into()).await;
    let client = Prometheus::new(&PrometheusConfig {
        url: Some(url.clone()),
        ..PrometheusConfig::default()
    })
    .unwrap();
    let e = client.read().await.unwrap_err();
    assert!(
        matches!(&e, UsageError::Status { url: u, status: 404, body, .. } if *u == url && body.contains("no such page")),
        "{e}"
    );

    // A real Prometheus refusing a query: its error type and message come through.
    let server = PrometheusServer::start(&[Seeded {
        namespace: "dept-finance".into(),
        pod: pod_of("ledger", "aaaaa"),
        cpu_millis: 100,
        memory: Some(MI),
    }]);
    let mut config = server.config();
    config.queries.cpu = "sum by (namespace, pod) (".into();
    let client = Prometheus::new(&config).unwrap();
    let deadline = Instant::now() + Duration::from_secs(30);
    let e = loop {
        match client.read().await {
            // Not listening yet, or not ready yet.
            Err(UsageError::Request { .. } | UsageError::Status { status: 503, .. })
                if Instant::now() < deadline =>
            {
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) => break e,
            Ok(r) => panic!("a broken query was answered: {r:?}"),
        }
    };
    assert!(
        matches!(&e, UsageError::Prometheus { status: 400, error_type, query, .. } if error_type == "bad_data" && query.ends_with('(')),
        "{e}\n{}",
        server.process.log()
    );
}

#[tokio::test]
async fn when_prometheus_stops_the_last_usage_stays_with_its_age_and_nothing_blocks() {
    let (estate, p) = sample_estate();
    let seed = seed_for(&p, &estate.settings.shared_namespace);
    let server = PrometheusServer::start(&seed.pods);
    let prometheus = Prometheus::new(&server.config()).unwrap();
    server.wait_for_data(&prometheus, seed.pods.len()).await;

    let state = UsageState::new();
    let wake = Arc::new(Notify::new());
    let observed = Arc::new(Mutex::new(Vec::new()));
    let seen = observed.clone();
    let collector = Collector::new(
        Source::Prometheus(prometheus),
        Duration::from_millis(200),
        state.clone(),
    )
    .wake(wake.clone())
    .on_sample(move |h| seen.lock().unwrap().push(h.up));
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let task = tokio::spawn(collector.run(async {
        let _ = stopped.await;
    }));

    tokio::time::timeout(Duration::from_secs(10), wake.notified())
        .await
        .expect("a good sample wakes the planner");
    let up = state.health();
    assert_eq!(up.up, Some(true));
    assert_eq!(up.pods, seed.pods.len());
    assert_eq!(
        up.source.as_deref(),
        Some(format!("prometheus {}", server.url).as_str())
    );
    let measured_at = up.sampled_at.unwrap();
    let own = format!("{}/{}", seed.own.0, seed.own.1);
    let before = state.aggregate(&p, &estate.settings).unwrap();
    assert_eq!(before.services[&own], Res::new(375, 500 * MI));

    let url = server.url.clone();
    drop(server); // kills and reaps the server
    let deadline = Instant::now() + Duration::from_secs(10);
    while state.health().up != Some(false) {
        assert!(Instant::now() < deadline, "the failure was not recorded");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let sampled_before_the_failure = state.health().sampled_at.unwrap();
    assert!(sampled_before_the_failure >= measured_at);
    // Let it fail a few more times: the state neither blocks nor loses the sample.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let down = state.health();
    assert_eq!(down.up, Some(false));
    assert!(down.consecutive_failures >= 2, "{down:?}");
    assert_eq!(
        down.sampled_at,
        Some(sampled_before_the_failure),
        "the last good sample is kept"
    );
    assert!(down.attempted_at.unwrap() > sampled_before_the_failure);
    assert!(
        down.age(Timestamp::now()).unwrap() >= Duration::from_millis(700),
        "its age shows: {:?}",
        down.age(Timestamp::now())
    );
    let error = down.last_error.as_ref().unwrap().to_string();
    assert!(error.contains(&url) && error.contains("container_"), "{error}");
    let kept = state.aggregate(&p, &estate.settings).unwrap();
    assert_eq!(kept.services[&own], Res::new(375, 500 * MI));
    assert_eq!(kept.at, Some(sampled_before_the_failure));
    {
        let observed = observed.lock().unwrap();
        assert!(
            observed.contains(&Some(true)) && observed.last() == Some(&Some(false)),
            "{observed:?}"
        );
    }

    stop.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), task)
        .await
        .expect("the collector stops when told")
        .unwrap();
}

#[tokio::test]
async fn the_metrics_api_source_sums_pod_metrics_through_a_kube_client() {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let list = r#"{"kind":"PodMetricsList","apiVersion":"metrics.k8s.io/v1beta1","metadata":{},"items":[
        {"metadata":{"name":"ledger-5f6d7c8b9-aaaaa","namespace":"dept-finance"},"timestamp":"2027-01-15T08:00:00Z","window":"15s",
         "containers":[{"name":"app","usage":{"cpu":"250000000n","memory":"300Mi"}},{"name":"proxy","usage":{"cpu":"5m","memory":"20Mi"}}]},
        {"metadata":{"name":"bad-5f6d7c8b9-bbbbb","namespace":"dept-finance"},"containers":[{"name":"app","usage":{"cpu":"x","memory":"1"}}]}]}"#;
    let (url, heads) = answering_server("200 OK", list.into()).await;
    let client = kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();
    let config = UsageConfig {
        source: UsageSource::MetricsApi,
        ..UsageConfig::default()
    };
    let source = Source::from_config(&config, &client).unwrap().expect("a source");
    assert_eq!(source.name(), "metrics.k8s.io/v1beta1");
    let r = source.read().await.expect("a reading");
    assert_eq!(
        r.sample.pods,
        vec![pod_usage("dept-finance", "ledger-5f6d7c8b9-aaaaa", 255, 320 * MI)]
    );
    assert_eq!(r.sample.at, "2027-01-15T08:00:00Z".parse::<Timestamp>().unwrap());
    assert_eq!(r.skipped.count, 1);
    assert!(
        heads.lock().unwrap()[0].starts_with("GET /apis/metrics.k8s.io/v1beta1/pods"),
        "{:?}",
        heads.lock().unwrap()
    );

    // metrics-server not installed: the aggregated API answers 404.
    let (url, _) = answering_server(
        "404 Not Found",
        r#"{"kind":"Status","apiVersion":"v1","status":"Failure","message":"the server could not find the requested resource","reason":"NotFound","code":404}"#.into(),
    )
    .await;
    let client = kube::Client::try_from(kube::Config::new(url.parse().unwrap())).unwrap();
    let e = Source::from_config(&config, &client)
        .unwrap()
        .unwrap()
        .read()
        .await
        .unwrap_err();
    assert!(matches!(e, UsageError::MetricsApi(_)), "{e}");
    assert!(
        e.to_string()
            .starts_with("listing metrics.k8s.io/v1beta1 PodMetrics"),
        "{e}"
    );

    let none = UsageConfig::default();
    assert!(Source::from_config(&none, &client).unwrap().is_none());
}
