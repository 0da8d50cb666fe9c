//! Names a cluster would refuse are refused by the planner, each with its field and rule.

use super::*;
use crate::api::*;
use crate::render::{Manifest, render};
use crate::synthetic::{department, offering, pool, tenant, workload};

fn estate() -> Snapshot {
    Snapshot {
        pools: vec![pool("l3-a", 3, "10", "40Gi")],
        departments: vec![department("fin", 3, "8", "32Gi", 10)],
        ..Snapshot::default()
    }
}

fn messages(reasons: &[Reason]) -> Vec<&str> {
    assert!(
        reasons.iter().all(|r| r.code == ReasonCode::InvalidSpec),
        "{reasons:?}"
    );
    reasons.iter().map(|r| r.message.as_str()).collect()
}

fn dept_reasons(s: &Snapshot, name: &str) -> Vec<String> {
    let p = plan(s, &Assignments::default());
    let d = p
        .departments
        .iter()
        .find(|d| d.name == name)
        .expect("department in plan");
    messages(&d.reasons).into_iter().map(Into::into).collect()
}

fn service_reasons(s: &Snapshot, ns: &str, name: &str) -> Vec<String> {
    let p = plan(s, &Assignments::default());
    let svc = p
        .services
        .iter()
        .find(|x| x.namespace == ns && x.name == name)
        .expect("service in plan");
    messages(&svc.reasons).into_iter().map(Into::into).collect()
}

fn a(len: usize) -> String {
    "a".repeat(len)
}

#[test]
fn a_department_name_that_is_no_dns_label_is_refused() {
    let mut s = estate();
    s.departments.push(department("Payroll_DB", 3, "1", "1Gi", 1));
    assert_eq!(
        dept_reasons(&s, "Payroll_DB"),
        [
            "metadata.name: the department's namespace (namespacePrefix \"dept-\" + name) \"dept-Payroll_DB\" \
          is not a DNS-1123 label (lowercase letters, digits and '-', starting and ending with a letter or \
          digit, at most 63 characters)"
        ]
    );
}

#[test]
fn the_department_namespace_is_at_most_63_characters() {
    let mut s = estate();
    s.departments.push(department(&a(58), 3, "1", "1Gi", 1));
    s.departments.push(department(&a(59), 3, "1", "1Gi", 1));
    assert!(dept_reasons(&s, &a(58)).is_empty(), "dept- + 58 = 63 characters");
    let refused = dept_reasons(&s, &a(59));
    assert!(
        refused.len() == 1 && refused[0].ends_with("at most 63 characters)"),
        "{refused:?}"
    );
}

#[test]
fn system_platform_and_shared_namespaces_are_never_a_department_s() {
    let mut s = estate();
    s.settings.namespace_prefix = String::new();
    for name in [
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "kube-future",
        "default",
        "govcloud-shared",
        "govcloud-system",
        "ingress-nginx",
    ] {
        s.departments.push(department(name, 3, "1", "1Gi", 1));
    }
    s.offerings.push(offering("pg", 3, 4, 1, "1", "1Gi"));
    s.services.push(tenant("fin", "db", 3, "pg"));
    let p = plan(&s, &Assignments::default());
    for d in p.departments.iter().filter(|d| d.name != "fin") {
        let m = messages(&d.reasons);
        assert_eq!(m.len(), 1, "{}: {m:?}", d.name);
        assert!(
            m[0].starts_with(&format!(
                "metadata.name: the department's namespace {:?} is ",
                d.name
            )) && m[0].ends_with(", which no department may own"),
            "{}: {}",
            d.name,
            m[0]
        );
    }
    let kube = p.departments.iter().find(|d| d.name == "kube-system").unwrap();
    assert!(kube.reasons[0].message.contains("Kubernetes system namespace"));
    let shared = p
        .departments
        .iter()
        .find(|d| d.name == "govcloud-shared")
        .unwrap();
    assert!(shared.reasons[0].message.contains("sharedNamespace"));

    // Nothing lands in a reserved namespace, and the shared one is rendered once.
    let manifests = render(&s, &p).expect("renders");
    let guarded = [
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "kube-future",
        "default",
    ];
    assert!(
        !manifests
            .iter()
            .any(|m| guarded.contains(&m.namespace().unwrap_or(m.name()))),
        "an object in a system namespace"
    );
    let shared_namespaces = manifests
        .iter()
        .filter(|m| matches!(m, Manifest::Namespace(_)) && m.name() == "govcloud-shared")
        .count();
    assert_eq!(shared_namespaces, 1);
    assert!(
        !manifests
            .iter()
            .any(|m| m.namespace() == Some("govcloud-shared") && m.kind() == "ResourceQuota"),
        "a department's quota in the shared namespace"
    );
}

#[test]
fn built_in_identities_cannot_own_a_department() {
    let mut s = estate();
    let mut d = department("open", 3, "1", "1Gi", 1);
    for (kind, name) in [
        (OwnerKind::User, "system:anonymous"),
        (OwnerKind::Group, "system:unauthenticated"),
        (OwnerKind::Group, "system:serviceaccounts"),
        (OwnerKind::Group, "system:serviceaccounts:dept-fin"),
        (OwnerKind::Group, "finance-admins"),
    ] {
        d.spec.owners.push(Owner {
            kind,
            name: name.into(),
            namespace: None,
        });
    }
    d.spec.owners.push(Owner {
        kind: OwnerKind::ServiceAccount,
        name: "Deployer".into(),
        namespace: Some("CI".into()),
    });
    s.departments.push(d);
    let m = dept_reasons(&s, "open");
    assert_eq!(m.len(), 6, "{m:?}");
    assert_eq!(
        m[0],
        "spec.owners[0].name: User \"system:anonymous\" is every unauthenticated request: it must not administer a department"
    );
    assert!(m[3].starts_with("spec.owners[3].name: Group \"system:serviceaccounts:dept-fin\" is every service account of namespace \"dept-fin\""));
    assert!(
        m[4].starts_with("spec.owners[5].name: \"Deployer\" is not a DNS-1123 subdomain"),
        "{}",
        m[4]
    );
    assert!(
        m[5].starts_with("spec.owners[5].namespace: \"CI\" is not a DNS-1123 label"),
        "{}",
        m[5]
    );
}

#[test]
fn an_offering_name_leaves_room_for_its_instance_names() {
    assert_eq!(instance_name(&a(OFFERING_NAME_MAX), 4, u32::MAX).len(), 63);
    let mut s = estate();
    s.offerings.push(offering(&a(49), 3, 1, 1, "1", "1Gi"));
    s.offerings.push(offering(&a(50), 3, 1, 1, "1", "1Gi"));
    s.offerings.push(offering("9pg", 3, 1, 1, "1", "1Gi"));
    let p = plan(&s, &Assignments::default());
    let reasons =
        |name: &str| messages(&p.offerings.iter().find(|o| o.name == name).unwrap().reasons).join("\n");
    assert_eq!(reasons(&a(49)), "");
    let long = reasons(&a(50));
    assert!(
        long.starts_with(&format!("metadata.name: {:?} is not a DNS-1035 label (", a(50)))
            && long.contains("at most 49 characters); it starts the names of its shared instances, \"<name>-l4-4294967295\" at the longest"),
        "{long}"
    );
    assert!(reasons("9pg").contains("is not a DNS-1035 label"));
}

#[test]
fn service_names_ports_and_env_names_follow_the_api_server() {
    let mut s = estate();
    s.services.push(workload("dept-fin", "1st", 3, 1, "1", "1Gi"));
    let mut w = workload("dept-fin", "web", 3, 1, "1", "1Gi");
    let spec = w.spec.workload.as_mut().unwrap();
    spec.ports.clear();
    for name in ["80", "a--b", "http"] {
        spec.ports.push(Port {
            name: name.into(),
            port: 8000 + spec.ports.len() as i32,
            protocol: Protocol::Tcp,
        });
    }
    for name in ["1A", "..", "GOOD_NAME"] {
        spec.env.push(EnvVar {
            name: name.into(),
            value: String::new(),
        });
    }
    s.services.push(w);
    assert_eq!(
        service_reasons(&s, "dept-fin", "1st"),
        [
            "metadata.name: \"1st\" is not a DNS-1035 label (lowercase letters, digits and '-', starting with a \
          letter and ending with a letter or digit, at most 63 characters); a Service is named after it"
        ]
    );
    let m = service_reasons(&s, "dept-fin", "web");
    let fields: Vec<&str> = m.iter().map(|m| m.split(':').next().unwrap()).collect();
    assert_eq!(
        fields,
        [
            "spec.workload.env[0].name",
            "spec.workload.env[1].name",
            "spec.workload.ports[0].name",
            "spec.workload.ports[1].name"
        ],
        "{m:?}"
    );
    assert!(
        m[2].contains("at least one letter") && m[2].contains("at most 15 characters"),
        "{}",
        m[2]
    );
}

#[test]
fn offering_port_names_are_checked_too() {
    let mut s = estate();
    let mut o = offering("pg", 3, 1, 1, "1", "1Gi");
    o.spec.instance.ports = vec![];
    o.spec.instance.ports.push(Port {
        name: "5432".into(),
        port: 5432,
        protocol: Protocol::Tcp,
    });
    s.offerings.push(o);
    let p = plan(&s, &Assignments::default());
    let m = messages(&p.offerings[0].reasons);
    assert!(
        m.len() == 1 && m[0].starts_with("spec.instance.ports[0].name: \"5432\" is not a port name"),
        "{m:?}"
    );
}

#[test]
fn pool_names_and_node_selectors_are_labels() {
    let mut s = estate();
    s.pools.push(pool(&a(64), 3, "1", "1Gi"));
    let mut bad = pool("gpu.pool", 3, "1", "1Gi");
    bad.spec.node_selector = [
        ("bad key!".to_string(), "ok".to_string()),
        ("zone".into(), "-x".into()),
    ]
    .into();
    s.pools.push(bad);
    let p = plan(&s, &Assignments::default());
    let reasons = |name: &str| messages(&p.pools.iter().find(|x| x.name == name).unwrap().reasons).join("\n");
    let long = reasons(&a(64));
    assert!(
        long.starts_with("metadata.name: ")
            && long.contains("at most 63 characters); it is the value of the label govcloud.io/pool"),
        "{long}"
    );
    let m = reasons("gpu.pool");
    assert!(
        m.contains("spec.nodeSelector: key \"bad key!\" is not a label key"),
        "{m}"
    );
    assert!(
        m.contains("spec.nodeSelector[\"zone\"]: \"-x\" is not a label value"),
        "{m}"
    );
}
