//! Usage from the Kubernetes metrics API (`metrics.k8s.io/v1beta1`, served by
//! metrics-server): one list of every PodMetrics, each pod's containers summed.
//!
//! A pod without a name or namespace, with a container whose `usage.cpu` or
//! `usage.memory` is missing or not a quantity, or whose `containers` is not a list, is
//! **skipped and counted** ([`Skipped`]); only the list request failing (or its answer
//! not being a list) is an error. The sample's time is the newest `timestamp` among the
//! pods (when metrics-server scraped them), or the time of the request when none has one.

use k8s_openapi::jiff::Timestamp;
use kube::Client;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams};
use serde::Deserialize;
use serde_json::Value;

use super::UsageError;
use super::lenient::or_none;
use super::reading::{PerPod, Reading, Skipped, sample_of};
use crate::quantity::{QuantityError, Res, parse_cpu, parse_memory};

/// What is read of a PodMetrics beside its metadata. Every field reads as absent when its
/// shape is wrong, so that the pod is skipped with the reason of that field.
#[derive(Debug, Default, Deserialize)]
struct PodMetrics {
    /// When metrics-server scraped the pod (RFC 3339); one that does not parse is not
    /// counted for the sample's time.
    #[serde(default, deserialize_with = "or_none")]
    timestamp: Option<String>,
    /// Decoded container by container ([`Container`]).
    #[serde(default, deserialize_with = "or_none")]
    containers: Option<Vec<Value>>,
}

/// One container's usage. One that is not even an object reads as the default and is
/// skipped for its missing usage.
#[derive(Debug, Default, Deserialize)]
struct Container {
    #[serde(default, deserialize_with = "or_none")]
    name: Option<String>,
    #[serde(default, deserialize_with = "or_none")]
    usage: Option<ContainerUsage>,
}

#[derive(Debug, Default, Deserialize)]
struct ContainerUsage {
    #[serde(default, deserialize_with = "or_none")]
    cpu: Option<String>,
    #[serde(default, deserialize_with = "or_none")]
    memory: Option<String>,
}

/// The PodMetrics of every namespace, through the API server's aggregation layer.
#[derive(Clone)]
pub struct MetricsApi {
    api: Api<DynamicObject>,
}

impl std::fmt::Debug for MetricsApi {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("MetricsApi(metrics.k8s.io/v1beta1 PodMetrics)")
    }
}

/// `metrics.k8s.io/v1beta1` PodMetrics, whose resource is named `pods`.
pub fn pod_metrics_resource() -> ApiResource {
    ApiResource::from_gvk_with_plural(
        &GroupVersionKind::gvk("metrics.k8s.io", "v1beta1", "PodMetrics"),
        "pods",
    )
}

impl MetricsApi {
    pub fn new(client: Client) -> Self {
        Self {
            api: Api::all_with(client, &pod_metrics_resource()),
        }
    }

    /// Usage of every pod metrics-server currently reports.
    pub async fn read(&self) -> Result<Reading, UsageError> {
        let asked_at = Timestamp::now();
        let list = self
            .api
            .list(&ListParams::default())
            .await
            .map_err(UsageError::MetricsApi)?;
        Ok(reading_of(&list.items, asked_at))
    }
}

/// A reading from the body of a PodMetricsList (what `kubectl get --raw
/// /apis/metrics.k8s.io/v1beta1/pods` prints).
pub fn reading_of_list(body: &[u8], asked_at: Timestamp) -> Result<Reading, UsageError> {
    let list: kube::core::ObjectList<DynamicObject> =
        serde_json::from_slice(body).map_err(|e| UsageError::MetricsApiMalformed(e.to_string()))?;
    Ok(reading_of(&list.items, asked_at))
}

/// A reading from listed PodMetrics (see the module docs).
pub fn reading_of(items: &[DynamicObject], asked_at: Timestamp) -> Reading {
    let mut pods = PerPod::new();
    let mut skipped = Skipped::default();
    let mut newest: Option<Timestamp> = None;
    for item in items {
        let (Some(namespace), Some(name)) = (
            item.metadata.namespace.as_deref().filter(|s| !s.is_empty()),
            item.metadata.name.as_deref().filter(|s| !s.is_empty()),
        ) else {
            skipped.push(|| "a PodMetrics without metadata.name or metadata.namespace".into());
            continue;
        };
        let metrics = PodMetrics::deserialize(&item.data).unwrap_or_default();
        match pod_usage(&metrics) {
            Ok(used) => {
                let sum = pods.entry((namespace.to_string(), name.to_string())).or_default();
                let Some(total) = sum.checked_add(used) else {
                    skipped.push(|| format!("PodMetrics {namespace}/{name}: usage sums beyond the largest representable amount"));
                    continue;
                };
                *sum = total;
                let at = metrics.timestamp.and_then(|t| t.parse::<Timestamp>().ok());
                newest = newest.max(at);
            }
            Err(why) => skipped.push(|| format!("PodMetrics {namespace}/{name}: {why}")),
        }
    }
    Reading {
        sample: sample_of(newest.unwrap_or(asked_at), pods),
        skipped,
    }
}

/// The sum of a pod's containers' usage, or why it cannot be had.
fn pod_usage(metrics: &PodMetrics) -> Result<Res, String> {
    let containers = metrics.containers.as_ref().ok_or("containers is not a list")?;
    let mut used = Res::ZERO;
    for (i, c) in containers.iter().enumerate() {
        let c = Container::deserialize(c).unwrap_or_default();
        let name = c
            .name
            .map_or_else(|| format!("containers[{i}]"), |n| format!("container {n:?}"));
        let usage = c.usage.unwrap_or_default();
        let quantity = |key: &str, raw: Option<&str>, parse: fn(&str) -> Result<i64, QuantityError>| {
            let raw = raw.ok_or_else(|| format!("{name}: no usage.{key}"))?;
            parse(raw).map_err(|e| format!("{name}: usage.{key}: {e}"))
        };
        used = used
            .checked_add(Res::new(
                quantity("cpu", usage.cpu.as_deref(), parse_cpu)?,
                quantity("memory", usage.memory.as_deref(), parse_memory)?,
            ))
            .ok_or_else(|| format!("{name}: usage sums beyond the largest representable amount"))?;
    }
    Ok(used)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::usage::PodUsage;

    const LIST: &str = r#"{
      "kind": "PodMetricsList",
      "apiVersion": "metrics.k8s.io/v1beta1",
      "metadata": {},
      "items": [
        {
          "metadata": {"name": "ledger-5f6d7c8b9-aaaaa", "namespace": "dept-finance",
                       "creationTimestamp": "2027-01-15T08:00:05Z"},
          "timestamp": "2027-01-15T08:00:00Z",
          "window": "15.04s",
          "containers": [
            {"name": "app", "usage": {"cpu": "250000000n", "memory": "512Mi"}},
            {"name": "sidecar", "usage": {"cpu": "1500u", "memory": "1024Ki"}}
          ]
        },
        {
          "metadata": {"name": "pg-l2-1-6c7d8e9f0-bbbbb", "namespace": "govcloud-shared"},
          "timestamp": "2027-01-15T08:00:10Z",
          "window": "15s",
          "containers": [{"name": "postgres", "usage": {"cpu": "1", "memory": "2Gi"}}]
        },
        {
          "metadata": {"name": "empty-6c7d8e9f0-ccccc", "namespace": "dept-health"},
          "timestamp": "not a time",
          "containers": []
        },
        {
          "metadata": {"name": "broken-6c7d8e9f0-ddddd", "namespace": "dept-health"},
          "timestamp": "2027-01-15T09:00:00Z",
          "containers": [{"name": "app", "usage": {"cpu": "lots", "memory": "1Mi"}}]
        },
        {
          "metadata": {"name": "half-6c7d8e9f0-eeeee", "namespace": "dept-health"},
          "containers": [{"usage": {"cpu": "1m"}}]
        },
        {
          "metadata": {"name": "odd-6c7d8e9f0-fffff", "namespace": "dept-health"},
          "containers": {"app": {}}
        },
        {
          "metadata": {"name": "nowhere-6c7d8e9f0-ggggg"},
          "containers": []
        }
      ]
    }"#;

    fn pod(namespace: &str, pod: &str, cpu: i64, memory: i64) -> PodUsage {
        PodUsage {
            namespace: namespace.into(),
            pod: pod.into(),
            used: Res::new(cpu, memory),
        }
    }

    #[test]
    fn pod_metrics_sum_their_containers() {
        let asked = Timestamp::from_second(1_900_000_000).unwrap();
        let r = reading_of_list(LIST.as_bytes(), asked).expect("a list");
        assert_eq!(
            r.sample.pods,
            vec![
                pod(
                    "dept-finance",
                    "ledger-5f6d7c8b9-aaaaa",
                    250 + 2,
                    (512 << 20) + (1 << 20)
                ),
                pod("dept-health", "empty-6c7d8e9f0-ccccc", 0, 0),
                pod("govcloud-shared", "pg-l2-1-6c7d8e9f0-bbbbb", 1000, 2 << 30),
            ],
            "nanocores and microcores round up to millicores, as quantities do"
        );
        assert_eq!(
            r.sample.at,
            "2027-01-15T08:00:10Z".parse::<Timestamp>().unwrap(),
            "the newest scrape of a pod that was taken in; a skipped pod's time does not count"
        );
        assert_eq!(r.skipped.count, 4);
        assert_eq!(
            r.skipped.first.as_deref(),
            Some(
                "PodMetrics dept-health/broken-6c7d8e9f0-ddddd: container \"app\": usage.cpu: \"lots\" is not a Kubernetes quantity (e.g. 500m, 2, 1.5Gi)"
            )
        );
    }

    #[test]
    fn reasons_for_skipping_name_the_container_and_field() {
        let skipped = |containers: Value| {
            let metrics = PodMetrics::deserialize(serde_json::json!({ "containers": containers })).unwrap();
            pod_usage(&metrics).unwrap_err()
        };
        assert_eq!(
            skipped(serde_json::json!([{"usage": {"cpu": "1m"}}])),
            "containers[0]: no usage.memory"
        );
        assert_eq!(
            skipped(serde_json::json!({"app": {}})),
            "containers is not a list"
        );
        assert_eq!(
            skipped(serde_json::json!([{"name": 5, "usage": {"cpu": 1, "memory": "1Mi"}}])),
            "containers[0]: no usage.cpu",
            "a field of the wrong shape is absent, and named"
        );
        assert_eq!(
            skipped(serde_json::json!([{"name": "a", "usage": "none"}, "junk"])),
            "container \"a\": no usage.cpu"
        );
        assert_eq!(
            skipped(serde_json::json!([{"name": "a", "usage": {"cpu": "1m", "memory": "-1"}}])),
            "container \"a\": usage.memory: \"-1\" is negative"
        );
    }

    #[test]
    fn no_timestamps_fall_back_to_the_request_time_and_junk_is_an_error() {
        let asked = Timestamp::from_second(1_900_000_000).unwrap();
        let r = reading_of_list(br#"{"metadata":{},"items":[]}"#, asked).unwrap();
        assert_eq!((r.sample.at, r.sample.pods.len(), r.skipped.count), (asked, 0, 0));
        assert!(matches!(
            reading_of_list(b"<html>", asked),
            Err(UsageError::MetricsApiMalformed(_))
        ));
    }
}
