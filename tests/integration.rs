//! Every integration test, in one crate: a module per former test binary, sharing
//! `support` and the API double. One crate links the library once instead of thirty
//! times (measured in the commit that folded them: 0.85 GiB of test outputs instead of
//! 2.9 GiB, and less than half the CPU time to build). Run one area with a filter:
//! `cargo test --test integration cli::`.

#[path = "support/double.rs"]
mod double;
#[path = "support/mod.rs"]
mod support;

#[path = "plan_properties.rs"]
mod plan_properties;

#[path = "assess.rs"]
mod assess;

#[path = "plan_packing.rs"]
mod plan_packing;

#[path = "controller_apply.rs"]
mod controller_apply;

#[path = "controller_cached.rs"]
mod controller_cached;

#[path = "controller_changes.rs"]
mod controller_changes;

#[path = "controller_estate.rs"]
mod controller_estate;
#[path = "controller_maintenance.rs"]
mod controller_maintenance;

#[path = "run_command.rs"]
mod run_command;

#[path = "controller_faults.rs"]
mod controller_faults;

#[path = "controller_shutdown.rs"]
mod controller_shutdown;

#[path = "operator_binary.rs"]
mod operator_binary;

#[path = "operator_leader.rs"]
mod operator_leader;

#[path = "operator_deletion.rs"]
mod operator_deletion;

#[path = "e2e_kind.rs"]
mod e2e_kind;

#[path = "plan_golden.rs"]
mod plan_golden;

#[path = "crds.rs"]
mod crds;

#[path = "samples.rs"]
mod samples;

#[path = "cli.rs"]
mod cli;

#[path = "render_validate.rs"]
mod render_validate;

#[path = "metrics.rs"]
mod metrics;

#[path = "monitoring.rs"]
mod monitoring;

#[path = "report.rs"]
mod report;

#[path = "usage_prometheus.rs"]
mod usage_prometheus;

#[path = "operator_usage.rs"]
mod operator_usage;

#[path = "chart.rs"]
mod chart;

#[path = "rbac.rs"]
mod rbac;

#[path = "dockerfile.rs"]
mod dockerfile;

#[path = "control_plane.rs"]
mod control_plane;

#[path = "control_plane_operations.rs"]
mod control_plane_operations;

#[path = "control_plane_tenancy.rs"]
mod control_plane_tenancy;

#[path = "control_plane_rejections.rs"]
mod control_plane_rejections;

#[path = "plan_arithmetic.rs"]
mod plan_arithmetic;

mod assess_report;
#[path = "control_plane_changes.rs"]
mod control_plane_changes;
#[path = "control_plane_maintenance.rs"]
mod control_plane_maintenance;
#[path = "control_plane_templates.rs"]
mod control_plane_templates;
