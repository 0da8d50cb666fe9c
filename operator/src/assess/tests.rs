//! The assessment's rules end to end on small inventories: who shares, what is sized,
//! what is left out and why, and that the same input gives the same answer.

use super::inventory::{Measured, State, Statistic};
use super::synthetic::p95;
use super::*;
use crate::api::{PlatformPolicySpec, ResourceRequest};
use crate::synthetic;

const GIB: i64 = 1 << 30;

fn server(line: usize, department: &str, name: &str, system: Option<&str>, cores: i64, gib: i64) -> Server {
    Server {
        line,
        system: system.map(Into::into),
        cpu_utilisation: p95(0.1),
        memory_utilisation: p95(0.5),
        yearly_cost: Some(4000.0),
        power_watts: Some(300.0),
        ..super::synthetic::server(name, Some(department), cores, gib)
    }
}

fn run(servers: &[Server], platform: &Snapshot) -> (Assessment, Proposed) {
    assess(servers, &Mapping::default(), platform, 0.3).expect("a valid inventory")
}

fn outcome<'a>(a: &'a Assessment, server: &str) -> &'a ServerAssessment {
    a.servers
        .iter()
        .find(|s| s.server == server)
        .expect("every server has a row")
}

#[test]
fn a_system_two_departments_run_becomes_one_shared_offering_sized_from_its_largest_copy() {
    let servers = [
        server(2, "finance", "fin-dms", Some("document-management"), 8, 16),
        server(3, "health", "hlt-dms", Some("document-management"), 4, 32),
        server(4, "health", "hlt-web", None, 2, 4),
    ];
    let (a, p) = run(&servers, &Snapshot::default());
    assert_eq!(p.offerings.len(), 1);
    let o = &p.offerings[0];
    assert_eq!(o.metadata.name.as_deref(), Some("document-management"));
    // finance's copy needs 8 × 0.1 × 1.3 = 1.04 cores → 1.1; health's 32 GiB × 0.5 × 1.3
    // = 20.8 GiB → 20.875 GiB: the instance takes the larger of each.
    assert_eq!(o.spec.instance.resources.cpu, "1100m");
    assert_eq!(o.spec.instance.resources.memory, "21376Mi");
    assert_eq!(o.spec.tenants_per_instance, 5, "the mapping's default");
    assert_eq!(outcome(&a, "fin-dms").outcome, Outcome::Tenant);
    assert_eq!(outcome(&a, "hlt-web").outcome, Outcome::Workload);
    let s = &a.systems[0];
    assert_eq!(s.offering, OfferingSource::Proposed);
    assert_eq!(
        s.levels,
        vec![LevelSaving {
            security_level: 2,
            copies: 2,
            instances: 1,
            saved: 1
        }]
    );
}

#[test]
fn a_system_one_department_runs_stays_its_workloads_and_a_platform_offering_takes_tenants() {
    let mut platform = Snapshot::default();
    platform.pools.push(synthetic::pool("general", 3, "64", "256Gi"));
    platform
        .offerings
        .push(synthetic::offering("shared-postgresql", 3, 4, 1, "2", "8Gi"));
    let servers = [
        server(2, "finance", "fin-gis-1", Some("gis"), 2, 4),
        server(3, "finance", "fin-gis-2", Some("gis"), 2, 4),
        server(4, "health", "hlt-pg", Some("shared-postgresql"), 4, 16),
    ];
    let (a, p) = run(&servers, &platform);
    assert!(
        p.offerings.is_empty(),
        "gis is finance's alone; postgresql is offered"
    );
    assert_eq!(outcome(&a, "fin-gis-1").outcome, Outcome::Workload);
    let pg = outcome(&a, "hlt-pg");
    assert_eq!(pg.outcome, Outcome::Tenant);
    assert_eq!(pg.offering.as_deref(), Some("shared-postgresql"));
    assert_eq!(pg.pool.as_deref(), Some("general"));
    let gis = a.systems.iter().find(|s| s.name == "gis").unwrap();
    assert_eq!(gis.offering, OfferingSource::NotShared);
    assert_eq!(gis.levels[0].saved, 0);
    assert_eq!(a.pools_from, PoolsFrom::Platform);
    assert!(p.pools.is_empty(), "the platform's pools are used, none sized");
}

#[test]
fn without_pools_each_level_gets_whole_nodes_at_the_target_utilisation() {
    // 30 servers of 8 cores at 10 % p95: 1.1 cores each (33 cores), 16 GiB at 50 %:
    // 10.5 GiB each (312 GiB... 315 GiB). On 16-core 64 GiB nodes at 80 %: memory decides,
    // 315 / 51.2 → 7 nodes.
    let servers: Vec<Server> = (0..30)
        .map(|i| server(i + 2, "finance", &format!("fin-{i}"), None, 8, 16))
        .collect();
    let (a, p) = run(&servers, &Snapshot::default());
    assert_eq!(a.pools_from, PoolsFrom::Sized);
    assert_eq!(p.pools.len(), 1);
    let sized = &a.sized_pools[0];
    assert_eq!((sized.security_level, sized.nodes), (2, 7));
    assert_eq!(a.after.nodes, Some(7));
    assert!(
        a.plan
            .services
            .iter()
            .all(|s| s.pool.as_deref() == Some("assessed-level-2"))
    );
    assert_eq!(a.before.servers, 30);
    assert_eq!(a.before.provisioned.cpu, 240.0);
    assert_eq!(a.before.yearly_cost, Some(120_000.0));
    // The same use on fewer, fuller machines.
    let after = a.after.utilisation.unwrap();
    assert!(
        after.cpu > a.before.utilisation.cpu * 2.0,
        "{after:?} vs {:?}",
        a.before.utilisation
    );
}

#[test]
fn machines_not_running_are_listed_and_left_out_and_unassignable_ones_say_why() {
    let mut off = server(2, "finance", "fin-old", None, 4, 8);
    off.state = State::Off;
    let mut template = server(3, "finance", "tpl-win2019", None, 2, 4);
    template.state = State::Template;
    let mut orphan = server(4, "finance", "who-owns-me", None, 2, 4);
    orphan.department = None;
    let mut unmeasured = server(5, "finance", "fin-app", None, 2, 4);
    unmeasured.cpu_utilisation = None;
    let (a, _) = run(&[off, template, orphan, unmeasured], &Snapshot::default());
    let why = |name| outcome(&a, name).why.clone().unwrap_or_default();
    assert_eq!(outcome(&a, "fin-old").outcome, Outcome::LeftOut);
    assert_eq!(why("fin-old"), "powered off");
    assert_eq!(why("tpl-win2019"), "a VM template");
    assert_eq!(outcome(&a, "who-owns-me").outcome, Outcome::NotAssessed);
    assert!(
        why("who-owns-me").starts_with("no department"),
        "{}",
        why("who-owns-me")
    );
    assert_eq!(a.not_assessed.len(), 3);
    let app = outcome(&a, "fin-app");
    assert_eq!(app.outcome, Outcome::Workload);
    assert!(
        why("fin-app").contains("not measured"),
        "flagged: {}",
        why("fin-app")
    );
    assert_eq!(app.proposed.unwrap().cpu, 2.0, "kept at what it was given");
}

#[test]
fn the_policy_sets_the_grain_and_the_maxima() {
    let mut platform = Snapshot::default();
    platform.policies.push(crate::api::PlatformPolicy::new(
        "baseline",
        PlatformPolicySpec {
            max_replica_resources: Some(ResourceRequest {
                cpu: Some("4".into()),
                memory: Some("16Gi".into()),
            }),
            resource_steps: Some(ResourceRequest {
                cpu: Some("500m".into()),
                memory: Some("1Gi".into()),
            }),
            allowed_registries: vec!["registry.gov.example/".into()],
            ..Default::default()
        },
    ));
    let mut big = server(3, "finance", "fin-big", None, 32, 16);
    big.cpu_utilisation = Some(Measured {
        ratio: 0.5,
        statistic: Statistic::Average,
    });
    let (a, p) = run(&[server(2, "finance", "fin-web", None, 8, 16), big], &platform);
    let web = outcome(&a, "fin-web").proposed.unwrap();
    assert_eq!(web.cpu, 1.5, "1.04 cores on a 500m grain");
    assert_eq!(web.memory, 11 * GIB, "10.4 GiB on a 1 GiB grain");
    let refused = outcome(&a, "fin-big");
    assert_eq!(refused.outcome, Outcome::NotAssessed);
    assert!(
        refused
            .why
            .as_deref()
            .unwrap()
            .contains("maxReplicaResources.cpu 4"),
        "{:?}",
        refused.why
    );
    let image = &p.services[0].spec.workload.as_ref().unwrap().image;
    assert_eq!(
        image, "registry.gov.example/assessed/fin-web:assessed",
        "passes the registry rule"
    );
    assert!(a.plan.services[0].compliant);
}

#[test]
fn values_that_cannot_become_kubernetes_names_are_input_errors_with_their_place() {
    let bad = server(7, "Finance Dept", "fin-1", Some("HR system"), 2, 4);
    let twin = server(9, "health", "HLT_APP", None, 2, 4);
    let twin2 = server(12, "health", "hlt-app", None, 2, 4);
    let errors = assess(
        &[bad, twin, twin2],
        &Mapping::default(),
        &Snapshot::default(),
        0.3,
    )
    .unwrap_err();
    let shown: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert!(
        shown
            .iter()
            .any(|e| e.starts_with("servers.csv:7: column \"department\": \"Finance Dept\"")),
        "{shown:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|e| e.starts_with("servers.csv:7: column \"system\"")),
        "{shown:#?}"
    );
    assert!(
        shown
            .iter()
            .any(|e| e.starts_with("servers.csv:12: column \"server\"") && e.contains("servers.csv:9")),
        "{shown:#?}"
    );
}

#[test]
fn the_same_inventory_gives_the_same_assessment_byte_for_byte() {
    let text = super::synthetic::govcloud_csv(400, 7);
    let servers = inventory::parse("servers.csv", &text).unwrap();
    let once = output::json(&run(&servers, &Snapshot::default()).0);
    let again = output::json(&run(&servers, &Snapshot::default()).0);
    assert_eq!(once, again);
    assert!(once.len() > 10_000, "a real assessment: {} bytes", once.len());
}
