use super::*;

fn ok(body: &str, measure: Measure) -> (Amounts, Skipped) {
    parse_answer(200, body.as_bytes(), measure).expect("usable answer")
}

fn key(ns: &str, pod: &str) -> (String, String) {
    (ns.into(), pod.into())
}

#[test]
fn a_vector_gives_amounts_per_pod() {
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"namespace":"dept-finance","pod":"ledger-5f6d7c8b9-aaaaa"},"value":[1800000000.5,"0.25"]},
        {"metric":{"namespace":"dept-finance","pod":"ledger-5f6d7c8b9-bbbbb"},"value":[1800000000.5,"1.2345"]},
        {"metric":{"namespace":"dept-finance","pod":"ledger-5f6d7c8b9-bbbbb"},"value":[1800000000.5,"0.5"]},
        {"metric":{"namespace":"dept-health","pod":"idle-5f6d7c8b9-ccccc"},"value":[1800000000.5,"0"]}
    ]},"warnings":["ignored"]}"#;
    let (cpu, skipped) = ok(body, Measure::Cpu);
    assert_eq!(skipped, Skipped::default());
    assert_eq!(cpu[&key("dept-finance", "ledger-5f6d7c8b9-aaaaa")], 250);
    assert_eq!(
        cpu[&key("dept-finance", "ledger-5f6d7c8b9-bbbbb")],
        1235 + 500,
        "series of one pod are added; cores rounded to millicores"
    );
    assert_eq!(cpu[&key("dept-health", "idle-5f6d7c8b9-ccccc")], 0);

    let (memory, _) = ok(body, Measure::Memory);
    assert_eq!(
        memory[&key("dept-finance", "ledger-5f6d7c8b9-aaaaa")],
        0,
        "0.25 B rounds to 0"
    );
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"namespace":"a","pod":"p-1-2"},"value":[1,"1.073741824e+09"]}]}}"#;
    assert_eq!(ok(body, Measure::Memory).0[&key("a", "p-1-2")], 1 << 30);
}

#[test]
fn bad_series_are_skipped_and_counted_not_fatal() {
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"namespace":"a","pod":"good-1-2"},"value":[1,"2"]},
        {"metric":{"namespace":"a","pod":"nan-1-2"},"value":[1,"NaN"]},
        {"metric":{"namespace":"a","pod":"inf-1-2"},"value":[1,"+Inf"]},
        {"metric":{"namespace":"a","pod":"neg-1-2"},"value":[1,"-0.5"]},
        {"metric":{"namespace":"a","pod":"word-1-2"},"value":[1,"lots"]},
        {"metric":{"namespace":"a","pod":"huge-1-2"},"value":[1,"1e300"]},
        {"metric":{"namespace":"a","pod":"number-1-2"},"value":[1,2]},
        {"metric":{"namespace":"a","pod":"short-1-2"},"value":[1]},
        {"metric":{"pod":"homeless-1-2"},"value":[1,"1"]},
        {"metric":{"namespace":"a","pod":""},"value":[1,"1"]},
        {"metric":{"namespace":"a"},"value":[1,"1"]},
        {"value":[1,"1"]},
        "not even an object"
    ]}}"#;
    let (cpu, skipped) = ok(body, Measure::Cpu);
    assert_eq!(cpu.len(), 1, "{cpu:?}");
    assert_eq!(cpu[&key("a", "good-1-2")], 2000);
    assert_eq!(skipped.count, 12);
    assert_eq!(
        skipped.first.as_deref(),
        Some(r#"cpu query: series {namespace="a", pod="nan-1-2"}: value "NaN" is not a finite number"#)
    );
    let (_, skipped) = ok(
        r#"{"status":"success","data":{"resultType":"vector","result":[{"metric":{"pod":"x-1-2"},"value":[1,"1"]}]}}"#,
        Measure::Memory,
    );
    assert_eq!(
        skipped.first.as_deref(),
        Some(r#"memory query: series {pod="x-1-2"}: no "namespace" label"#)
    );
}

#[test]
fn a_series_is_read_whatever_its_time_and_named_with_all_its_labels() {
    let (memory, skipped) = ok(
        r#"{"status":"success","data":{"resultType":"vector","result":[
            {"metric":{"namespace":"a","pod":"p-1-2","container":"app"},"value":["whenever","5"]},
            {"metric":{"namespace":"a","pod":7,"uid":null},"value":[1,"1"]},
            {"metric":"not labels","value":[1,"1"]}
        ]}}"#,
        Measure::Memory,
    );
    assert_eq!(memory, Amounts::from([(key("a", "p-1-2"), 5)]));
    assert_eq!(skipped.count, 2);
    assert_eq!(
        skipped.first.as_deref(),
        Some(r#"memory query: series {namespace="a", pod=7, uid=null}: no "pod" label"#)
    );
}

#[test]
fn unusable_answers_are_refused_with_the_reason() {
    let refused = |status, body: &str| parse_answer(status, body.as_bytes(), Measure::Cpu).unwrap_err();
    assert_eq!(
        refused(
            400,
            r#"{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:5: parse error"}"#
        ),
        Refusal::Prometheus {
            status: 400,
            error_type: "bad_data".into(),
            error: "invalid parameter \"query\": 1:5: parse error".into()
        }
    );
    assert_eq!(
        refused(502, "<html>Bad Gateway</html>"),
        Refusal::Status {
            status: 502,
            body: "<html>Bad Gateway</html>".into()
        }
    );
    assert_eq!(
        refused(503, r#"{"message":"busy"}"#),
        Refusal::Status {
            status: 503,
            body: r#"{"message":"busy"}"#.into()
        }
    );
    let matrix = refused(
        200,
        r#"{"status":"success","data":{"resultType":"matrix","result":[]}}"#,
    );
    assert!(
        matches!(&matrix, Refusal::Malformed(m) if m.starts_with("resultType is matrix")),
        "{matrix:?}"
    );
    assert!(matches!(refused(200, "not json"), Refusal::Malformed(m) if m.contains("not JSON")));
    assert!(matches!(refused(200, r#"{"status":"success"}"#), Refusal::Malformed(m) if m == "no data"));
    assert!(matches!(
        refused(200, r#"{"status":"success","data":{"resultType":"vector","result":{}}}"#),
        Refusal::Malformed(m) if m.contains("not a list")
    ));
    assert!(matches!(
        refused(200, r#"{"status":"pending"}"#),
        Refusal::Malformed(_)
    ));
    let long = "x".repeat(1000);
    assert!(matches!(refused(500, &long), Refusal::Status { body, .. } if body.chars().count() == 201));
}

#[test]
fn cpu_and_memory_merge_by_pod() {
    let cpu = Amounts::from([(key("a", "both-1-2"), 100), (key("a", "cpu-1-2"), 7)]);
    let memory = Amounts::from([(key("a", "both-1-2"), 5), (key("b", "mem-1-2"), 9)]);
    let pods = merge(cpu, memory);
    assert_eq!(
        pods,
        PerPod::from([
            (key("a", "both-1-2"), Res::new(100, 5)),
            (key("a", "cpu-1-2"), Res::new(7, 0)),
            (key("b", "mem-1-2"), Res::new(0, 9)),
        ])
    );
}

#[test]
fn series_of_one_pod_whose_sum_is_beyond_i64_are_skipped_not_capped() {
    let body = r#"{"status":"success","data":{"resultType":"vector","result":[
        {"metric":{"namespace":"a","pod":"big-1-2","container":"x"},"value":[1,"8e18"]},
        {"metric":{"namespace":"a","pod":"big-1-2","container":"y"},"value":[1,"8e18"]}
    ]}}"#;
    let (memory, skipped) = ok(body, Measure::Memory);
    assert_eq!(memory[&key("a", "big-1-2")], 8_000_000_000_000_000_000);
    assert_eq!(skipped.count, 1);
    assert!(
        skipped
            .first
            .as_deref()
            .is_some_and(|m| m.contains("past the largest representable amount")),
        "{skipped:?}"
    );
}
