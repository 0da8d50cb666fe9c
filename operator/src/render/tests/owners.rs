//! Owner references: present where the owner has a uid (it came from a cluster), on the
//! object's real owner; absent offline and on Namespaces.

use kube::Resource;
use serde_json::Value;

use super::super::fixture::{plan, snapshot};
use super::super::render;
use super::{find, get};

fn with_uids() -> crate::plan::Snapshot {
    let mut s = snapshot();
    let uid = |m: &mut kube::api::ObjectMeta, kind: &str| {
        m.uid = Some(format!("uid-{kind}-{}", m.name.clone().unwrap_or_default()));
    };
    s.departments.iter_mut().for_each(|d| uid(d.meta_mut(), "dept"));
    s.services.iter_mut().for_each(|d| uid(d.meta_mut(), "svc"));
    s.offerings.iter_mut().for_each(|d| uid(d.meta_mut(), "offering"));
    s
}

fn owner(v: &Value) -> (String, String, String) {
    let r = &v["metadata"]["ownerReferences"][0];
    assert_eq!(r["controller"], true);
    assert_eq!(r["apiVersion"], "govcloud.io/v1alpha1");
    let s = |k: &str| r[k].as_str().unwrap_or_default().to_owned();
    (s("kind"), s("name"), s("uid"))
}

#[test]
fn every_object_is_owned_by_what_it_exists_for() {
    let ms = render(&with_uids(), &plan()).unwrap();
    let own = |kind: &str, ns: &str, name: &str| owner(&get(&ms, kind, ns, name));
    let svc = |n: &str| {
        (
            "DepartmentService".to_owned(),
            n.to_owned(),
            format!("uid-svc-{n}"),
        )
    };
    assert_eq!(own("Deployment", "dept-finance", "ledger"), svc("ledger"));
    assert_eq!(own("Service", "dept-finance", "ledger"), svc("ledger"));
    assert_eq!(
        own("ConfigMap", "dept-finance", "db-binding"),
        svc("db"),
        "a tenant's binding is the tenant's"
    );
    let quota = own("ResourceQuota", "dept-finance", "govcloud-quota");
    assert_eq!(
        quota,
        ("Department".into(), "finance".into(), "uid-dept-finance".into())
    );
    let instance = ms
        .iter()
        .find(|m| m.kind() == "Deployment" && m.namespace() == Some("govcloud-shared"))
        .expect("a shared instance");
    assert_eq!(owner(&instance.to_json()).0, "ServiceOffering");
    let ns = find(&ms, "Namespace", None, "dept-finance").unwrap();
    assert!(
        ns["metadata"].get("ownerReferences").is_none(),
        "deleting a Department never deletes its namespace by GC"
    );
}

#[test]
fn offline_manifests_carry_no_owner_references() {
    let ms = render(&snapshot(), &plan()).unwrap();
    assert!(ms.iter().all(|m| m.metadata().owner_references.is_none()));
}
