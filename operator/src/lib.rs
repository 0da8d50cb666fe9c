//! govcloud: consolidation planner and operator for shared government cluster infrastructure.
//!
//! `api`, `quantity`, `plan` and `render` decide and never touch a Kubernetes client;
//! `controller` applies their decisions;
//! I/O lives at the edges (`load`, `cli`).
#![forbid(unsafe_code)]

pub mod api;
pub mod assess;
pub mod cli;
pub mod config;
pub mod controller;
pub mod crds;
mod csv_records;
pub mod duration;
pub mod load;
pub mod maintenance;
pub mod metrics;
pub mod names;
pub mod object;
pub mod plan;
pub mod quantity;
#[cfg(any(test, feature = "test-support"))]
pub mod rbac;
pub mod render;
pub mod report;
pub mod runtime;
pub mod status;
#[cfg(any(test, feature = "test-support"))]
pub mod synthetic;
mod units;
pub mod usage;
