use super::*;
use crate::api::OwnerKind;
use crate::plan::Settings;

fn n(c: char, len: usize) -> String {
    std::iter::repeat_n(c, len).collect()
}

/// Asserts each value is accepted or refused by `rule` as the API server would.
fn table(rule: Rule, accepted: &[&str], refused: &[&str]) {
    for v in accepted {
        assert_eq!(rule.check(v), Ok(()), "{rule:?} must accept {v:?}");
    }
    for v in refused {
        assert!(rule.check(v).is_err(), "{rule:?} must refuse {v:?}");
    }
}

#[test]
fn dns1123_label_at_its_boundaries() {
    let (max, over) = (n('a', 63), n('a', 64));
    table(
        Rule::Dns1123Label,
        &["a", "0", "9lives", "a-b", "a--b", "x1", &max],
        &[
            "",
            &over,
            "-a",
            "a-",
            "-",
            "A",
            "Payroll_DB",
            "a.b",
            "a b",
            "é",
            "a\n",
        ],
    );
}

#[test]
fn dns1035_label_must_start_with_a_letter() {
    let max = format!("a{}", n('1', 62));
    let over = format!("a{}", n('1', 63));
    table(
        Rule::Dns1035Label,
        &["a", "a1", "web-1", &max],
        &["", "1a", "0", "-a", "a-", "Web", "a.b", &over],
    );
}

#[test]
fn dns1123_subdomain_allows_dots_up_to_253() {
    let max = format!("{}.{}.{}.{}", n('a', 63), n('b', 63), n('c', 63), n('d', 61));
    assert_eq!(max.len(), 253);
    let over = format!("{max}e");
    table(
        Rule::Dns1123Subdomain,
        &["a", "a.b", "gpu.pool-1", "1.2.3", &max],
        &["", ".", "a.", ".a", "a..b", "a.-b", "a-.b", "A.b", "a_b", &over],
    );
}

#[test]
fn label_values_allow_empty_mixed_case_and_dots() {
    let (max, over) = (n('Z', 63), n('Z', 64));
    table(
        Rule::LabelValue,
        &["", "a", "A", "a.b_c-d", "1", "Payroll_DB", &max],
        &["-a", "a-", "_a", "a.", "a b", "a/b", "é", &over],
    );
}

#[test]
fn label_keys_are_qualified_names() {
    let name63 = n('k', 63);
    let prefixed = format!("{}/{}", n('p', 63), name63);
    table(
        Rule::LabelKey,
        &[
            "zone",
            "node.kubernetes.io/pool",
            "a/B_c.d",
            "kubernetes.io/hostname",
            &name63,
            &prefixed,
        ],
        &[
            "",
            "/a",
            "a/",
            "a/b/c",
            "A.B/c",
            "-a",
            "a_",
            &n('k', 64),
            &format!("{}/a", n('p', 254)),
        ],
    );
}

#[test]
fn port_names_are_iana_service_names() {
    table(
        Rule::PortName,
        &[
            "http",
            "h",
            "http-2",
            "1-x",
            "9p",
            "x9",
            "a-b-c",
            "abcdefghijklmno",
        ],
        &[
            "",
            "80",
            "1-2",
            "a--b",
            "-http",
            "http-",
            "HTTP",
            "http_alt",
            "abcdefghijklmnop",
        ],
    );
}

#[test]
fn env_var_names_follow_is_env_var_name() {
    table(
        Rule::EnvVarName,
        &[
            "A",
            "_",
            "-",
            ".a",
            "._",
            "a..",
            "MY_ENV.NAME",
            "my.env-name",
            "x9",
        ],
        &["", ".", "..", "..a", "9A", "A=B", "A B", "É"],
    );
}

#[test]
fn messages_name_the_rule_and_the_limit() {
    let e = Rule::Dns1123Label.check("Payroll_DB").unwrap_err();
    assert!(e.starts_with("\"Payroll_DB\" is not a DNS-1123 label ("), "{e}");
    assert!(e.ends_with("at most 63 characters)"), "{e}");
    let e = Rule::Dns1035Label.check_within(&n('a', 50), 49).unwrap_err();
    assert!(e.contains("at most 49 characters"), "{e}");
    let e = Rule::PortName.check("80").unwrap_err();
    assert!(
        e.contains("at least one letter") && e.contains("at most 15 characters"),
        "{e}"
    );
    let e = Rule::EnvVarName.check("1A").unwrap_err();
    assert!(!e.contains("at most"), "env names have no length limit: {e}");
}

#[test]
fn a_huge_name_is_cut_in_messages() {
    let e = Rule::Dns1123Label.check(&n('a', 100_000)).unwrap_err();
    assert!(e.len() < 400, "{} bytes", e.len());
    assert!(e.contains("(100000 characters)"), "{e}");
    // Cutting never splits a character.
    let e = Rule::LabelValue.check(&n('é', 100)).unwrap_err();
    assert!(e.contains("(200 characters)"), "{e}");
}

#[test]
fn system_and_platform_namespaces_are_reserved() {
    let s = Settings::default();
    for ns in [
        "default",
        "kube-system",
        "kube-public",
        "kube-node-lease",
        "kube-anything",
    ] {
        let why = reserved_namespace(ns, &s).unwrap_or_else(|| panic!("{ns} must be reserved"));
        assert!(why.contains("system namespace"), "{ns}: {why}");
    }
    let shared = reserved_namespace("govcloud-shared", &s).unwrap();
    assert!(shared.contains("sharedNamespace"), "{shared}");
    assert!(
        reserved_namespace("govcloud-system", &s)
            .unwrap()
            .contains("platformNamespace")
    );
    assert!(
        reserved_namespace("ingress-nginx", &s)
            .unwrap()
            .contains("ingressNamespace")
    );
    for ns in ["dept-finance", "kube", "kubesystem", "defaults", "finance"] {
        assert_eq!(reserved_namespace(ns, &s), None, "{ns}");
    }
}

#[test]
fn built_in_identities_are_refused_as_owners() {
    for (kind, name) in [
        (OwnerKind::User, "system:anonymous"),
        (OwnerKind::Group, "system:unauthenticated"),
        (OwnerKind::Group, "system:authenticated"),
        (OwnerKind::Group, "system:serviceaccounts"),
        (OwnerKind::Group, "system:serviceaccounts:kube-system"),
    ] {
        assert!(system_owner(kind, name).is_some(), "{kind:?} {name}");
    }
    for (kind, name) in [
        (OwnerKind::User, "alice@example.gov"),
        (OwnerKind::Group, "finance-admins"),
        (OwnerKind::User, "system:serviceaccount:dept-finance:deployer"),
        (OwnerKind::Group, "system:masters-not"),
        (OwnerKind::ServiceAccount, "deployer"),
    ] {
        assert_eq!(system_owner(kind, name), None, "{kind:?} {name}");
    }
}
