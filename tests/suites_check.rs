//! What `check` finds in suite files before anything runs: files found in
//! a folder, values a probe would refuse, every mistake of a scenario.

mod common;

use common::suite_files::{write, ISLANDS, TWO_HOSTS};

use netns_test::suite::{self, LoadOptions, SuiteError, SuiteErrorKind};

#[test]
fn a_file_with_scenarios_however_written_is_not_taken_for_a_lab() {
    let step = r#"{ do = "tcp", from = "h1", to = "h2:${prot}", expect = "refused" }"#;
    let forms = [
        format!("[[ scenario ]]\nname = \"t\"\nsteps = [{step}]\n"),
        format!("[[\"scenario\"]]\nname = \"t\"\nsteps = [{step}]\n"),
        format!("\"scenario\" = [{{ name = \"t\", steps = [{step}] }}]\n"),
        format!("'scenario' = [{{ name = \"t\", steps = [{step}] }}]\n"),
        format!("scenario = [{{ name = \"t\", steps = [{step}] }}]\n"),
    ];
    for form in forms {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "good.toml",
            &format!(
                "{TWO_HOSTS}[[scenario]]\nname = \"ok\"\n\
                 steps = [{{ do = \"sleep\", for = \"1ms\" }}]\n"
            ),
        );
        // Top-level keys come before the tables.
        let text = format!("{form}{TWO_HOSTS}");
        let file = write(dir.path(), "spaced.toml", &text);
        let errors = suite::check(&[dir.path()], &LoadOptions::default());
        assert_eq!(errors.len(), 1, "{form}\n{errors:#?}");
        assert_eq!(errors[0].file, file, "{form}");
        assert!(errors[0].to_string().contains("${prot}"), "{}", errors[0]);
    }
}

#[test]
fn a_lab_with_scenario_only_in_a_comment_or_a_string_is_still_a_lab() {
    let dir = tempfile::tempdir().unwrap();
    let lab = "# [[scenario]] are in the files that include this one\n\
        [[topology.links]]\n\
        a = { node = \"h1\", iface = \"eth0\", addr = \"${net}.1/24\" }\n\
        b = { node = \"h2\", iface = \"eth0\", addr = \"${net}.2/24\" }\n\
        [vars]\nnote = \"scenario = 1\"\n";
    write(dir.path(), "labs/pair.toml", lab);
    write(
        dir.path(),
        "main.toml",
        "include = \"labs/pair.toml\"\n[vars]\nnet = \"198.51.100\"\n",
    );
    let errors = suite::check(&[dir.path()], &LoadOptions::default());
    assert!(errors.is_empty(), "{errors:#?}");
}

/// The mistakes `check` finds in one file: the lab of two hosts and `body`.
fn mistakes(body: &str) -> Vec<SuiteError> {
    let dir = tempfile::tempdir().unwrap();
    let file = write(dir.path(), "f.toml", &format!("{body}{TWO_HOSTS}"));
    suite::check(&[&file], &LoadOptions::default())
}

/// Each mistake's line and what it says.
fn lines_and_kinds(errors: &[SuiteError]) -> Vec<(usize, String)> {
    errors
        .iter()
        .map(|e| (e.line, e.kind.to_string()))
        .collect()
}

#[test]
fn a_step_that_cannot_be_read_hides_no_other_steps_mistake() {
    let errors = mistakes(
        r#"
[[scenario]]
name = "s"
steps = [
  { do = "start", name = "web", node = "h1", cmd = ["true"], bogus = 1 },
  { do = "ping", from = "h9", to = "h2" },
  { do = "stop", name = "web" },
  { do = "heal", name = "cut" },
  { do = "partition", name = "cut", a = "h1", b = "h2", oops = true },
]
"#,
    );
    let found = lines_and_kinds(&errors);
    assert_eq!(found.len(), 4, "{found:#?}");
    assert!(
        matches!(&errors[0].kind, SuiteErrorKind::Syntax(m) if m.contains("step 1") && m.contains("bogus")),
        "{found:#?}"
    );
    // Step 3 stops what step 1 starts, as written; step 4 heals a
    // partition made only later.
    assert!(
        matches!(&errors[1].kind, SuiteErrorKind::UnknownNode { step: 2, node, .. } if node == "h9"),
        "{found:#?}"
    );
    assert_eq!(found[1].0, 6, "{found:#?}");
    assert!(
        found[2].1.contains("step 4 (heal): no partition `cut`"),
        "{found:#?}"
    );
    assert!(
        matches!(&errors[3].kind, SuiteErrorKind::Syntax(m) if m.contains("step 5")),
        "{found:#?}"
    );
}

#[test]
fn values_a_probe_or_a_limit_would_refuse_are_found_by_check() {
    let errors = mistakes(
        r#"
[[scenario]]
name = "s"
timeout = "0s"
steps = [
  { do = "ping", from = "h1", to = "h2", timeout = "0s" },
  { do = "ping", from = "h1", to = "h2", count = 0 },
  { do = "ping", from = "h1", to = "h2", count = 70000 },
  { do = "tcp", from = "h1", to = "h2:0" },
  { do = "tcp", from = "h1", to = "0.0.0.0:80" },
  { do = "udp", from = "h1", to = "h2:53", timeout = "0s" },
  { do = "wait_port", from = "h1", to = "[2001:db8::2]:0" },
  { do = "reachable", from = "h1", to = "h2", timeout = "0ms" },
  { do = "unreachable", from = "h1", to = "0.0.0.0" },
  { do = "run", node = "h1", cmd = ["true"], timeout = "0s" },
  { do = "start", name = "p", node = "h1", cmd = ["cat"] },
  { do = "wait_output", name = "p", regex = "x", timeout = "0s" },
  { do = "stop", name = "p", timeout = "0s" },
  { do = "sleep", for = "0s" },
]
"#,
    );
    let found: Vec<(usize, usize, String)> = errors
        .iter()
        .map(|e| (e.line, e.column, e.kind.to_string()))
        .collect();
    let expected: [(usize, &str); 11] = [
        (4, "scenario `s`: `timeout` must be more than zero"),
        (6, "step 1 (ping): invalid ping option `timeout` = 0s"),
        (7, "step 2 (ping): invalid ping option `count` = 0"),
        (8, "step 3 (ping): invalid ping option `count` = 70000"),
        (9, "step 4 (tcp): tcp_connect: cannot probe 198.51.100.2:0"),
        (10, "step 5 (tcp): tcp_connect: cannot probe 0.0.0.0:80"),
        (
            11,
            "step 6 (udp): invalid udp_request option `timeout` = 0s",
        ),
        (
            12,
            "step 7 (wait_port): tcp_connect: cannot probe [2001:db8::2]:0",
        ),
        (
            13,
            "step 8 (reachable): invalid wait_reachable option `timeout` = 0s",
        ),
        (14, "step 9 (unreachable): ping: cannot probe 0.0.0.0"),
        (15, "step 10 (run): `timeout` must be more than zero"),
    ];
    assert_eq!(found.len(), expected.len() + 1, "{found:#?}");
    for ((line, _, text), (want_line, want)) in found.iter().zip(expected) {
        assert_eq!(*line, want_line, "{found:#?}");
        assert!(text.starts_with(want), "{found:#?}");
    }
    assert_eq!((found[0].0, found[0].1), (4, 11), "{found:#?}");
    let last = &found[expected.len()];
    assert_eq!(last.0, 17, "{found:#?}");
    assert!(
        last.2.starts_with("step 12 (wait_output): `timeout` must"),
        "{found:#?}"
    );
}

#[test]
#[should_panic(expected = "the limit must be more than zero")]
fn a_case_with_a_zero_timeout_is_refused() {
    let _ = netns_test::harness::Case::new("zero", |_| {}).timeout(std::time::Duration::ZERO);
}

#[test]
fn a_flap_with_a_zero_phase_is_found_by_check() {
    let errors = mistakes(
        r#"
[[scenario]]
name = "s"
steps = [
  { do = "flap", a = "h1", b = "h2", down = "0s", up = "10ms" },
  { do = "flap", a = "h1", b = "h2", down = "10ms", up = "0ms" },
  { do = "flap", a = "h1", b = "h2", down = "10ms", up = "10ms" },
]
"#,
    );
    let found = lines_and_kinds(&errors);
    assert_eq!(found.len(), 2, "{found:#?}");
    assert_eq!(found[0].0, 5, "{found:#?}");
    assert!(
        found[0]
            .1
            .starts_with("step 1 (flap): `down` must be more than zero"),
        "{found:#?}"
    );
    assert_eq!(found[1].0, 6, "{found:#?}");
    assert!(
        found[1]
            .1
            .starts_with("step 2 (flap): `up` must be more than zero"),
        "{found:#?}"
    );
}

#[test]
fn a_scenario_with_no_step_is_a_mistake_naming_it() {
    let errors = mistakes(
        r#"
[[scenario]]
name = "empty"
steps = []

[[scenario]]
name = "left_out"
ignore = "not written yet"

[[scenario]]
name = "fine"
steps = [{ do = "sleep", for = "1ms" }]
"#,
    );
    let found: Vec<(usize, String)> = errors.iter().map(|e| (e.line, e.to_string())).collect();
    assert_eq!(found.len(), 2, "{found:#?}");
    assert!(
        matches!(&errors[0].kind, SuiteErrorKind::NoSteps(n) if n == "empty"),
        "{found:#?}"
    );
    assert!(
        matches!(&errors[1].kind, SuiteErrorKind::NoSteps(n) if n == "left_out"),
        "{found:#?}"
    );
    assert_eq!((found[0].0, found[1].0), (2, 6), "{found:#?}");
    assert!(
        found[0].1.contains("f.toml:2:") && found[0].1.contains("scenario `empty` has no step"),
        "{found:#?}"
    );
}

#[test]
fn a_firewall_rule_with_no_state_or_two_destination_ports_is_a_mistake() {
    let cases = [
        (
            r#"{ chain = "input", action = "drop", state = [] }"#,
            "firewall of h2: rule 2: `state = []` matches nothing",
        ),
        (
            r#"{ chain = "input", action = "drop", proto = "tcp", dport = 22, dports = [80, 90] }"#,
            "firewall of h2: rule 2: `dport` and `dports` both given",
        ),
    ];
    for (rule, want) in cases {
        let errors = mistakes(&format!(
            "[[topology.firewall]]\nnode = \"h2\"\nrules = [\n  \
             {{ chain = \"input\", action = \"accept\", proto = \"tcp\", dport = 22 }},\n  \
             {rule},\n]\n"
        ));
        let found = lines_and_kinds(&errors);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(
            matches!(errors[0].kind, SuiteErrorKind::Topology(_)),
            "{found:#?}"
        );
        assert!(found[0].0 == 1 && found[0].1.contains(want), "{found:#?}");
    }
}

#[test]
fn a_path_step_takes_addresses_in_via_and_names_an_unknown_router() {
    let errors = mistakes(
        r#"
[[scenario]]
name = "s"
steps = [
  { do = "path", from = "h1", to = "h2", via = ["198.51.100.2", "2001:db8::1"] },
  { do = "path", from = "h1", to = "h2", via = ["r9"] },
]
"#,
    );
    assert_eq!(errors.len(), 1, "{errors:#?}");
    assert!(
        matches!(&errors[0].kind, SuiteErrorKind::UnknownNode { step: 2, node, .. } if node == "r9"),
        "{errors:#?}"
    );
}

#[test]
fn a_destination_node_with_no_address_of_its_own_is_found_by_check() {
    let dir = tempfile::tempdir().unwrap();
    let body = r#"
[[scenario]]
name = "s"
steps = [
  { do = "ping", from = "rB", to = "hA" },
  { do = "unreachable", from = "rA", to = "hB" },
  { do = "tcp", from = "rB", to = "hA:80", expect = "refused" },
  { do = "expect_packets", filter = { host = "hA" }, min = 0 },
]
"#;
    let file = write(dir.path(), "f.toml", &format!("{body}{ISLANDS}"));
    let errors = suite::check(&[&file], &LoadOptions::default());
    let found = lines_and_kinds(&errors);
    let why = "node `hA` has no address of its own to stand for it as a destination: \
               another node holds each of its addresses too (198.51.100.10 by hB)";
    assert_eq!(
        found,
        [
            (
                5,
                format!("step 1 (ping): `to`: {why}; give an address instead")
            ),
            (
                7,
                format!("step 3 (tcp): `to`: {why}; give an address instead")
            ),
        ],
        "{found:#?}"
    );
}

#[test]
fn a_connectivity_step_with_fewer_than_two_nodes_is_found_by_check() {
    let errors = mistakes(
        r#"
[[scenario]]
name = "s"
steps = [
  { do = "connectivity", nodes = [] },
  { do = "connectivity", nodes = ["h1"] },
  { do = "connectivity", nodes = ["h2", "h2"] },
  { do = "connectivity", nodes = ["h1", "h2"] },
  { do = "connectivity" },
]
"#,
    );
    let found = lines_and_kinds(&errors);
    let advice = "no pair to probe; name at least two nodes, or leave `nodes` out for every node";
    assert_eq!(
        found,
        [
            (
                5,
                format!("step 1 (connectivity): `nodes` is empty: {advice}")
            ),
            (
                6,
                format!("step 2 (connectivity): `nodes` names only `h1`: {advice}")
            ),
            (
                7,
                format!("step 3 (connectivity): `nodes` names only `h2`: {advice}")
            ),
        ],
        "{found:#?}"
    );
}

#[test]
fn a_capture_step_of_no_node_is_found_by_check() {
    let errors = mistakes(
        r#"
[[scenario]]
name = "s"
steps = [
  { do = "capture", nodes = ["h1"] },
  { do = "capture", nodes = [] },
  { do = "capture" },
]
"#,
    );
    let found = lines_and_kinds(&errors);
    assert_eq!(
        found,
        [(
            6,
            "step 2 (capture): `nodes` is empty: the step would capture nothing; name a \
             node, or leave `nodes` out for every node"
                .to_string()
        )],
        "{found:#?}"
    );
}

#[test]
fn a_partition_with_an_empty_side_is_found_by_check() {
    let errors = mistakes(
        r#"
[[scenario]]
name = "s"
steps = [
  { do = "partition", a = "h1", b = ["h2"] },
  { do = "heal" },
  { do = "partition", a = [], b = ["h2"] },
  { do = "partition", a = "h1", b = [] },
]
"#,
    );
    let found = lines_and_kinds(&errors);
    let text = |n: usize, side: &str| {
        format!(
            "step {n} (partition): `{side}` is empty: a partition needs at least one node on \
             each side"
        )
    };
    assert_eq!(found, [(7, text(3, "a")), (8, text(4, "b"))], "{found:#?}");
}

#[test]
fn a_bridge_with_no_member_is_a_mistake_at_its_members() {
    let scenario = "[[scenario]]\nname = \"s\"\nsteps = [{ do = \"sleep\", for = \"1ms\" }]\n";
    let cases = [
        // A table of its own: the mistake is at `members`.
        (
            format!(
                "[[topology.bridges]]\nswitch = \"sw\"\nforward_mld = true\nmembers = []\n\
                 {scenario}"
            ),
            4,
        ),
        // Written on one line, after a bridge with members.
        (
            format!(
                "[topology]\nbridges = [\n  {{ switch = \"lan\", members = \
                 [{{ node = \"h3\", iface = \"eth0\" }}] }},\n  \
                 {{ switch = \"sw\", members = [] }},\n]\n{scenario}"
            ),
            4,
        ),
    ];
    for (body, line) in cases {
        let errors = mistakes(&body);
        let found = lines_and_kinds(&errors);
        assert_eq!(found.len(), 1, "{body}\n{found:#?}");
        assert!(
            matches!(errors[0].kind, SuiteErrorKind::Topology(_)),
            "{found:#?}"
        );
        assert_eq!(found[0].0, line, "{body}\n{found:#?}");
        assert_eq!(
            found[0].1,
            "invalid topology: bridge `sw`: `members` is empty: the segment would join no \
             node; name at least one member",
            "{found:#?}"
        );
    }
}

#[test]
fn a_ping_asking_for_more_replies_than_requests_is_found_by_check() {
    let errors = mistakes(
        r#"
[[scenario]]
name = "s"
steps = [
  { do = "ping", from = "h1", to = "h2", min_received = 5 },
  { do = "ping", from = "h1", to = "h2", min_received = 3 },
  { do = "ping", from = "h1", to = "h2", count = 2, min_received = 3 },
  { do = "ping", from = "h1", to = "h2", count = 5, min_received = 5 },
]
"#,
    );
    let found = lines_and_kinds(&errors);
    assert_eq!(
        found,
        [
            (
                5,
                "step 1 (ping): `min_received = 5` is more than `count = 3` (the default)".into()
            ),
            (
                7,
                "step 3 (ping): `min_received = 3` is more than `count = 2`".to_string()
            ),
        ],
        "{found:#?}"
    );
}

/// The schema of one key of the generated suite schema: `def` is a type of
/// `$defs`, or `do = <verb>` for a step.
fn schema_of<'a>(schema: &'a serde_json::Value, def: &str, key: &str) -> &'a serde_json::Value {
    let defs = &schema["$defs"];
    let object = match def.strip_prefix("do = ") {
        Some(verb) => defs["Step"]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .find(|v| v["properties"]["do"]["const"] == verb)
            .unwrap_or_else(|| panic!("no step `{verb}` in the schema")),
        None => &defs[def],
    };
    &object["properties"][key]
}

/// Every list that `check` refuses empty (or, for a connectivity step's
/// `nodes`, shorter than two) is one the schema refuses so (`minItems`),
/// so that an editor flags it as `check` does.
#[test]
fn the_schema_refuses_the_short_lists_check_refuses() {
    let schema: serde_json::Value = serde_json::from_str(&suite::schema_json()).unwrap();
    let scenario = |steps: &str| format!("[[scenario]]\nname = \"s\"\nsteps = {steps}\n");
    let fine = r#"[{ do = "sleep", for = "1ms" }]"#;
    let cases = [
        ("ScenarioSpec", "steps", 1, scenario("[]")),
        (
            "do = start",
            "cmd",
            1,
            scenario(r#"[{ do = "start", name = "p", node = "h1", cmd = [] }]"#),
        ),
        (
            "do = run",
            "cmd",
            1,
            scenario(r#"[{ do = "run", node = "h1", cmd = [] }]"#),
        ),
        (
            "do = connectivity",
            "nodes",
            2,
            scenario(r#"[{ do = "connectivity", nodes = [] }]"#),
        ),
        (
            "do = connectivity",
            "nodes",
            2,
            scenario(r#"[{ do = "connectivity", nodes = ["h1"] }]"#),
        ),
        (
            "do = capture",
            "nodes",
            1,
            scenario(r#"[{ do = "capture", nodes = [] }]"#),
        ),
        (
            "RuleSpec",
            "state",
            1,
            format!(
                "[[topology.firewall]]\nnode = \"h2\"\n\
                 rules = [{{ chain = \"input\", action = \"drop\", state = [] }}]\n{}",
                scenario(fine)
            ),
        ),
        (
            "BridgeSpec",
            "members",
            1,
            format!(
                "[[topology.bridges]]\nswitch = \"sw\"\nmembers = []\n{}",
                scenario(fine)
            ),
        ),
    ];
    for (def, key, min, body) in cases {
        let errors = mistakes(&body);
        assert_eq!(errors.len(), 1, "{def}.{key}: {errors:#?}");
        let property = schema_of(&schema, def, key);
        assert_eq!(property["minItems"], min, "{def}.{key}: {property:#}");
    }
    // A scenario without `steps` is refused too: the key is required.
    let errors = mistakes("[[scenario]]\nname = \"s\"\n");
    assert!(
        matches!(&errors[..], [e] if matches!(e.kind, SuiteErrorKind::NoSteps(_))),
        "{errors:#?}"
    );
    let required = &schema["$defs"]["ScenarioSpec"]["required"];
    assert!(
        required.as_array().unwrap().contains(&"steps".into()),
        "{required}"
    );
    assert!(
        schema_of(&schema, "ScenarioSpec", "steps")
            .get("default")
            .is_none(),
        "a default of no steps contradicts minItems"
    );
}
