//! govcloud: consolidation planner and operator for shared government cluster infrastructure.
//!
//! `api`, `quantity`, `plan` and `render` decide and never touch a Kubernetes client;
//! I/O lives at the edges (`load`, `cli`).
#![forbid(unsafe_code)]

pub mod api;
pub mod crds;
pub mod quantity;
pub mod plan;
pub mod synthetic;
pub mod render;
pub mod load;
pub mod cli;
