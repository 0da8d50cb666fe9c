//! Thin helpers over prometheus-client: the gauge types used here, the units it lacks,
//! and [`Amount`], the CPU-and-memory pair that most planner figures are.

use std::fmt::Debug;
use std::hash::Hash;
use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

use crate::quantity::Res;

/// Cores, ratios, costs and timestamps are fractional.
pub type FloatGauge = Gauge<f64, AtomicU64>;
/// Counts and bytes are whole.
pub type IntGauge = Gauge<i64>;

/// What a label set must be to key a family.
pub trait Labels: Clone + Hash + Eq + EncodeLabelSet + Debug + Send + Sync + 'static {}
impl<T: Clone + Hash + Eq + EncodeLabelSet + Debug + Send + Sync + 'static> Labels for T {}

/// CPU is measured in cores; OpenMetrics has no unit for it, so it is spelt out.
pub fn cores() -> Unit {
    Unit::Other("cores".into())
}

/// Singular, as Prometheus' naming guide has it (`_ratio`), not OpenMetrics' `ratios`.
pub fn ratio() -> Unit {
    Unit::Other("ratio".into())
}

/// One figure in both resources. A family has one unit, so it is two families:
/// `<name>_cpu_cores` and `<name>_memory_bytes`.
#[derive(Debug)]
pub struct Amount<L: Labels> {
    cpu: Family<L, FloatGauge>,
    memory: Family<L, IntGauge>,
}

impl<L: Labels> Amount<L> {
    pub fn register(registry: &mut Registry, name: &str, help: &str) -> Self {
        let amount = Self {
            cpu: Family::default(),
            memory: Family::default(),
        };
        registry.register_with_unit(
            format!("{name}_cpu"),
            format!("{help}: CPU in cores"),
            cores(),
            amount.cpu.clone(),
        );
        registry.register_with_unit(
            format!("{name}_memory"),
            format!("{help}: memory in bytes"),
            Unit::Bytes,
            amount.memory.clone(),
        );
        amount
    }

    pub fn set(&self, labels: &L, amount: Res) {
        self.cpu.get_or_create(labels).set(amount.cores());
        self.memory.get_or_create(labels).set(amount.memory_bytes);
    }

    pub fn clear(&self) {
        self.cpu.clear();
        self.memory.clear();
    }
}
