use super::*;

fn at(s: &str) -> Timestamp {
    s.parse().unwrap()
}

#[test]
fn govcloud_json_takes_quantities_or_numbers_and_sums_a_pod_listed_twice() {
    let s = parse(
        r#"{"at": "2025-06-30T12:00:00Z", "pods": [
            {"namespace": "dept-finance", "pod": "ledger-5f6d7c8b9-aaaaa", "cpu": "250m", "memory": "512Mi"},
            {"namespace": "dept-finance", "pod": "ledger-5f6d7c8b9-aaaaa", "cpu": 0.05, "memory": 1048576},
            {"namespace": "dept-education", "pod": "portal-5f6d7c8b9-bbbbb", "cpu": "1", "memory": "1Gi"}
        ]}"#,
    )
    .unwrap();
    assert_eq!(s.at, at("2025-06-30T12:00:00Z"));
    assert_eq!(s.pods.len(), 2, "{s:?}");
    assert_eq!(s.pods[0].namespace, "dept-education", "sorted");
    assert_eq!(s.pods[1].used, Res::new(300, 513 << 20));
}

#[test]
fn govcloud_json_reports_every_problem_with_its_path() {
    let e = parse(
        r#"{"at": "yesterday", "pod": [], "pods": [
            {"namespace": "", "pod": "a-1-2", "cpu": "lots", "memory": -1}
        ]}"#,
    )
    .unwrap_err();
    let text: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 5, "{text:#?}");
    assert!(text[0].starts_with("pod: unknown field"), "{text:#?}");
    assert!(
        text[1].starts_with("at: \"yesterday\" is not an RFC 3339 time"),
        "{text:#?}"
    );
    assert_eq!(text[2], "pods[0].namespace: a non-empty string is required");
    assert!(
        text[3].starts_with("pods[0].cpu: \"lots\" is not a Kubernetes quantity"),
        "{text:#?}"
    );
    assert_eq!(
        text[4],
        "pods[0].memory: -1 is not a non-negative number of bytes"
    );
}

#[test]
fn malformed_json_names_the_line() {
    let e = parse("{\"at\": \"2025-06-30T12:00:00Z\",\n \"pods\": [,]}").unwrap_err();
    assert_eq!(e.len(), 1);
    assert_eq!(e[0].line, Some(2));
    assert!(e[0].message.starts_with("malformed JSON"), "{e:?}");
}

#[test]
fn a_metrics_api_pod_list_sums_containers_and_takes_the_latest_time() {
    let s = parse(
        r#"{"kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "items": [
          {"metadata": {"name": "ledger-5f6d7c8b9-aaaaa", "namespace": "dept-finance"},
           "timestamp": "2025-06-30T12:00:00Z", "window": "30s",
           "containers": [{"name": "app", "usage": {"cpu": "120m", "memory": "100Mi"}},
                          {"name": "sidecar", "usage": {"cpu": "5021n", "memory": "10Mi"}}]},
          {"metadata": {"name": "x-5f6d7c8b9-bbbbb", "namespace": "dept-health"},
           "timestamp": "2025-06-30T12:00:15Z", "containers": []}
        ]}"#,
    )
    .unwrap();
    assert_eq!(s.at, at("2025-06-30T12:00:15Z"));
    assert_eq!(s.pods[0].pod, "ledger-5f6d7c8b9-aaaaa");
    assert_eq!(
        s.pods[0].used,
        Res::new(121, 110 << 20),
        "nanocores round up to a millicore"
    );
    assert_eq!(s.pods[1].used, Res::ZERO);
}

#[test]
fn csv_columns_in_any_order_quoted_fields_and_extra_columns() {
    let s = parse(
        "namespace,pod,container,cpu,memory,at\r\n\
         dept-finance,ledger-5f6d7c8b9-aaaaa,app,250m,512Mi,2025-06-30T12:00:00Z\r\n\
         \"dept-finance\",\"ledger-5f6d7c8b9-aaaaa\",\"side, car\",50m,0,2025-06-30T12:00:05Z\r\n\
         \n",
    )
    .unwrap();
    assert_eq!(s.at, at("2025-06-30T12:00:05Z"));
    assert_eq!(s.pods.len(), 1);
    assert_eq!(s.pods[0].used, Res::new(300, 512 << 20));
}

#[test]
fn csv_problems_name_their_lines() {
    let e = parse(
        "at,namespace,pod,cpu,memory\n\
         2025-06-30T12:00:00Z,dept-a,p-1-2,1,1Gi\n\
         2025-06-30T12:00:00Z,dept-a,p-1-2,1\n\
         noon,dept-a,,x,1Gi\n",
    )
    .unwrap_err();
    let text: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 4, "{text:#?}");
    assert_eq!(text[0], "3: 4 fields where the header has 5");
    assert!(
        text[1].starts_with("4: at: \"noon\" is not an RFC 3339 time"),
        "{text:#?}"
    );
    assert_eq!(text[2], "4: pod: empty");
    assert!(
        text[3].starts_with("4: cpu: \"x\" is not a Kubernetes quantity"),
        "{text:#?}"
    );

    let e = parse("namespace,pod,cpu\n").unwrap_err();
    assert_eq!(
        e[0].to_string(),
        "1: the header lacks the columns at, memory (expected at, namespace, pod, cpu, memory; JSON starts with `{`)"
    );
    let e = parse("at,namespace,pod,cpu,memory\n\"unterminated,x\n").unwrap_err();
    assert_eq!(e[0].to_string(), "2: a quoted field is never closed");
}

#[test]
fn csv_lines_count_crlf_blank_lines_and_line_breaks_inside_quotes() {
    let e = parse(
        "at,namespace,pod,cpu,memory\r\n\
         \r\n\
         \x20 \r\n\
         2025-06-30T12:00:00Z,dept-a,\"p-1-2\",\"1\r\n\",1Gi\r\n\
         2025-06-30T12:00:00Z,\"dept\r\n\r\na\",p-1-2,lots,1Gi\r\n\
         \n\
         noon,dept-a,p-1-2,1,1Gi\r\n",
    )
    .unwrap_err();
    let text: Vec<String> = e.iter().map(ToString::to_string).collect();
    assert_eq!(text.len(), 2, "{text:#?}");
    assert!(text[0].starts_with("6: cpu: \"lots\""), "{text:#?}");
    assert!(text[1].starts_with("10: at: \"noon\""), "{text:#?}");
}

#[test]
fn csv_quoting_is_strict_rfc_4180() {
    for (row, line, message) in [
        (
            "2025-06-30T12:00:00Z,dept-a,p\"1,1,1Gi\n",
            2,
            "a quote inside an unquoted field",
        ),
        (
            "2025-06-30T12:00:00Z,dept-a,\"p\"1,1,1Gi\n",
            2,
            "a quote inside an unquoted field",
        ),
        (
            "2025-06-30T12:00:00Z,dept-a,p-1-2,1,\"1Gi",
            2,
            "a quoted field is never closed",
        ),
        (
            "\n\n2025-06-30T12:00:00Z,\"dept\na\",\"p\n",
            4,
            "a quoted field is never closed",
        ),
    ] {
        let e = parse(&format!("at,namespace,pod,cpu,memory\n{row}")).unwrap_err();
        assert_eq!(e.len(), 1, "{row:?}: {e:?}");
        assert_eq!(e[0].line, Some(line), "{row:?}: {e:?}");
        assert!(e[0].message.starts_with(message), "{row:?}: {e:?}");
    }
    let s = parse(
        "at,namespace,pod,cpu,memory\n\
         \"2025-06-30T12:00:00Z\",\"dept-a\",\"p-1-2\",\"1\",\"\"\"\"\"\"\n",
    )
    .unwrap_err();
    assert!(
        s[0].to_string().starts_with("2: memory: \"\\\"\\\"\" is not"),
        "doubled quotes are one quote: {s:?}"
    );
}

#[test]
fn csv_header_names_match_loosely_and_the_first_of_a_repeated_column_counts() {
    let s = parse(
        " AT ,Namespace,POD,cpu,Memory,cpu\n\
         2025-06-30T12:00:00Z,dept-a,p-1-2, 250m ,1Gi,not read\n",
    )
    .unwrap();
    assert_eq!(s.pods[0].used, Res::new(250, 1 << 30));
    let records = csv_records("a,\"b,\"\"c\"\"\r\nd\"\r\n\r\n,\n").unwrap();
    assert_eq!(
        records,
        vec![(1, vec!["a".to_owned(), "b,\"c\"\r\nd".to_owned()])],
        "fields as written, each record with its first line; a row of blank fields (what \
         Excel writes for a formatted empty row) is no record"
    );
    let e = parse("\n\n  \n").unwrap_err();
    assert!(e[0].message.starts_with("empty: expected a CSV header"), "{e:?}");
}
