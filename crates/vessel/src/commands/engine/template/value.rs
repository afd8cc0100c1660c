//! Values as Go's templates see them: how they print and when they
//! are true.

use serde_json::Value;

/// `v` as [`go_print`] prints it.
pub(super) fn plain(v: &Value) -> String {
    let mut s = String::new();
    go_print(v, &mut s);
    s
}

/// Go's truth: false, 0, "", empty lists and maps, and nothing are false.
pub(super) fn truthy(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
    }
}

/// `v` as Go's templates print a value decoded from JSON: strings bare,
/// lists as `[a b]`, objects as `map[k:v]` (keys sorted), null as
/// `<nil>`.
pub(super) fn go_print(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Null => out.push_str("<nil>"),
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                go_print(item, out);
            }
            out.push(']');
        }
        Value::Object(map) => {
            out.push_str("map[");
            let mut keys: Vec<&String> = map.keys().collect();
            keys.sort();
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(' ');
                }
                out.push_str(k);
                out.push(':');
                go_print(&map[k], out);
            }
            out.push(']');
        }
        other => out.push_str(&other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::r;
    use serde_json::json;

    #[test]
    fn paths_print_as_go_prints_them() {
        let v = json!({"State": {"ExitCode": 3, "Status": "exited"}, "Name": "/x",
            "Cmd": ["sleep", "60"], "Labels": {"b": "2", "a": "1"}, "Env": [], "Nil": null});
        assert_eq!(r("{{.State.ExitCode}}", &v), "3");
        assert_eq!(r("s={{ .State.Status }}\\t{{.Name}}", &v), "s=exited\t/x");
        assert_eq!(
            r("{{json .State}}", &v),
            r#"{"ExitCode":3,"Status":"exited"}"#
        );
        assert_eq!(
            r("{{.Nope}} {{.State.Nope.Deeper}}", &v),
            "<no value> <no value>"
        );
        assert_eq!(
            r("{{.Cmd}} {{.Labels}} {{.Env}} {{.Nil}}", &v),
            "[sleep 60] map[a:1 b:2] [] <no value>"
        );
        assert_eq!(r("{{json .}}", &v), v.to_string());
    }
}
