//! Moves through maintenance windows: which platform-driven moves go ahead now, which
//! wait, and how many leave one pool at once.
//!
//! A move waits on its source pool, with capacity held on its destination too, so that
//! the destination is still there when the windows open. A move in progress holds both
//! pools until its Deployment is available again, and counts against the source pool's
//! `spec.disruption.maxConcurrentMoves` until then.

use std::collections::BTreeMap;

use jiff::Timestamp;

use super::output::{PendingPlan, PendingReason};
use super::placer::{Placer, Request};
use super::{Estate, PoolModel};
use crate::api::{ChangeKind, PendingChange};
use crate::maintenance::{self, Calendar};

/// What the plan decided about a service's or shared instance's moves.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct MoveState {
    /// The pool a move in progress (or starting now) leaves.
    pub moved_from: Option<String>,
    pub pending: Option<PendingPlan>,
    /// The break-glass reason a move went ahead for, outside its windows or move slots.
    pub applied_now: Option<String>,
}

impl MoveState {
    /// The destination a waiting move holds capacity on, beside the pool it waits on.
    pub fn holds_destination(&self) -> Option<&str> {
        self.pending.as_ref().map(|p| p.change.to.as_str())
    }
}

/// Whose windows a move needs besides the two pools': the department's for its own
/// workload, the offering's for a shared instance.
#[derive(Clone, Copy)]
pub(crate) struct Owner<'a> {
    pub kind: &'static str,
    pub name: &'a str,
    pub calendar: &'a Calendar,
}

/// One platform-driven move the placement made: from the pool something is on to the
/// pool the plan chose.
pub(crate) struct Move<'a> {
    pub owner: Owner<'a>,
    pub from: &'a str,
    pub to: String,
    pub request: Request<'a>,
    /// Since when this move has been waiting, by the previous plan's record.
    pub waiting_since: Option<Timestamp>,
    /// The break-glass reason of the service or offering, when it has one.
    pub apply_now: Option<&'a str>,
}

/// Moves out of each pool, in progress or started by this plan.
pub(crate) struct Gate<'a> {
    estate: &'a Estate,
    moving: BTreeMap<&'a str, u32>,
    /// The earliest moment a waiting move's windows open or close: when to plan again.
    wake_at: Option<Timestamp>,
}

impl<'a> Gate<'a> {
    pub fn new(estate: &'a Estate) -> Self {
        Self {
            estate,
            moving: BTreeMap::new(),
            wake_at: None,
        }
    }

    /// When the next plan may decide a waiting move differently, by the clock alone
    /// (a move slot frees when a Deployment rolls out, which the watches report).
    pub fn wake_at(&self) -> Option<Timestamp> {
        self.wake_at
    }

    fn pool(&self, name: &str) -> Option<&'a PoolModel> {
        self.estate.pool_index(name).map(|i| &self.estate.pools[i])
    }

    /// A move still rolling out takes one of its source's move slots (its hold on the
    /// source is accounted, not placed: see `account`).
    pub fn in_progress(&mut self, from: &'a str) -> MoveState {
        *self.moving.entry(from).or_default() += 1;
        MoveState {
            moved_from: Some(from.to_string()),
            ..MoveState::default()
        }
    }

    /// Decides one move: go now, or wait on the source pool. Returns the pool the thing
    /// is on after this plan, and the state to record.
    pub fn decide(&mut self, placer: &mut Placer, mv: Move<'a>) -> (String, MoveState) {
        let go = |mv: &Move| {
            (
                mv.to.clone(),
                MoveState {
                    moved_from: Some(mv.from.to_string()),
                    ..MoveState::default()
                },
            )
        };
        let (Some(from), Some(to)) = (self.pool(mv.from), self.pool(&mv.to)) else {
            return go(&mv);
        };
        let Some(slot) = placer.index_of(mv.from) else {
            return go(&mv);
        };
        // Staying would break a rule the service's own spec or its department sets
        // (level, allow-list), or the source no longer holds it: the move is not
        // optional, so no window can hold it back. Its pods stay on the source until the
        // rollout, as any move's do (see `in_progress`).
        if !placer.may_hold(slot, &mv.request) {
            *self.moving.entry(mv.from).or_default() += 1;
            return go(&mv);
        }
        let calendars = self.estate.with_freeze([
            mv.owner.calendar,
            &from.maintenance.calendar,
            &to.maintenance.calendar,
        ]);
        let now = self.estate.now;
        let openness = maintenance::joint(&calendars, now);
        let moving = self.moving.get(mv.from).copied().unwrap_or(0);
        let apply_now = mv.apply_now.or(from.apply_now.as_deref());
        let reason = if let Some(why) = apply_now {
            *self.moving.entry(mv.from).or_default() += 1;
            let (pool, mut state) = go(&mv);
            state.applied_now = Some(why.to_string());
            return (pool, state);
        } else if !openness.open {
            if openness.frozen.is_some() {
                PendingReason::Frozen
            } else {
                PendingReason::AwaitingWindow
            }
        } else if moving >= from.max_moves {
            PendingReason::MoveLimit
        } else {
            *self.moving.entry(mv.from).or_default() += 1;
            return go(&mv);
        };
        // It stays where it is: placed there, as it was.
        placer.commit(slot, mv.request.demand);
        if let Some(t) = maintenance::next_transition(&calendars, now) {
            self.wake_at = Some(self.wake_at.map_or(t, |w| w.min(t)));
        }
        let message = self.explain(&mv, from, reason, &openness);
        let pending = PendingPlan {
            change: PendingChange {
                kind: ChangeKind::Move,
                from: mv.from.to_string(),
                to: mv.to.clone(),
                since: k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(mv.waiting_since.unwrap_or(now)),
                next_window: match reason {
                    PendingReason::MoveLimit => None,
                    _ => openness
                        .next_open
                        .map(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time),
                },
            },
            reason,
            message,
        };
        (
            mv.from.to_string(),
            MoveState {
                pending: Some(pending),
                ..MoveState::default()
            },
        )
    }

    fn explain(
        &self,
        mv: &Move,
        from: &PoolModel,
        reason: PendingReason,
        openness: &maintenance::Openness,
    ) -> String {
        let why = if from.deleting {
            "is being deleted"
        } else if from.cordoned {
            "is cordoned"
        } else if !from.usable() {
            "has an invalid spec"
        } else {
            "has no room for it"
        };
        let head = format!("move from ResourcePool {:?} ({why}) to {:?}", mv.from, mv.to);
        match reason {
            // No count of the moves under way: it depends on the order moves are decided
            // in, and a message that changes would be a status write with nothing new.
            PendingReason::MoveLimit => format!(
                "{head} waits for a move slot: moves out of {:?} are under way up to its spec.disruption.maxConcurrentMoves ({})",
                mv.from, from.max_moves
            ),
            PendingReason::Frozen => format!(
                "{head} waits: maintenance is frozen ({})",
                openness.frozen.as_deref().unwrap_or_default()
            ),
            PendingReason::AwaitingWindow => {
                let when = match openness.next_open {
                    Some(t) => format!("next open together at {t}"),
                    None => format!(
                        "not open together within {} days (or one is invalid)",
                        maintenance::HORIZON_DAYS
                    ),
                };
                format!(
                    "{head} waits for the maintenance windows of {} {:?}, ResourcePool {:?} and ResourcePool {:?}: {when}",
                    mv.owner.kind, mv.owner.name, mv.from, mv.to
                )
            }
        }
    }
}
