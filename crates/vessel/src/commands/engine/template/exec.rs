//! Filling a parsed template from a value: blocks, pipelines and
//! operands.

use serde_json::Value;

use super::funcs::call;
use super::parse::{Command, Node, Operand, Pipeline};
use super::value::{go_print, truthy};

/// Fills `out` from `nodes`, with `.` at `dot` and `$` at `root`.
pub(super) fn render(nodes: &[Node], dot: &Value, root: &Value, out: &mut String) {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Print(p) => match eval(p, dot, root) {
                Some(Value::Null) | None => out.push_str("<no value>"),
                Some(v) => go_print(&v, out),
            },
            Node::If(branches, otherwise) => {
                let taken = branches
                    .iter()
                    .find(|(cond, _)| truthy(eval(cond, dot, root).as_ref()));
                match taken {
                    Some((_, body)) => render(body, dot, root, out),
                    None => render(otherwise, dot, root, out),
                }
            }
            Node::Range(over, body, otherwise) => {
                let items: Vec<Value> = match eval(over, dot, root) {
                    Some(Value::Array(a)) => a,
                    Some(Value::Object(m)) => {
                        let mut keys: Vec<&String> = m.keys().collect();
                        keys.sort();
                        keys.into_iter().map(|k| m[k].clone()).collect()
                    }
                    _ => Vec::new(),
                };
                if items.is_empty() {
                    render(otherwise, dot, root, out);
                }
                for item in &items {
                    render(body, item, root, out);
                }
            }
            Node::With(over, body, otherwise) => match eval(over, dot, root) {
                Some(v) if truthy(Some(&v)) => render(body, &v, root, out),
                _ => render(otherwise, dot, root, out),
            },
        }
    }
}

/// A pipeline's value; none for a key that is missing.
fn eval(pipeline: &Pipeline, dot: &Value, root: &Value) -> Option<Value> {
    let mut last: Option<Option<Value>> = None;
    for command in pipeline {
        let value = match command {
            Command::Operand(o) => operand(o, dot, root),
            Command::Call(name, args) => {
                let mut values: Vec<Option<Value>> =
                    args.iter().map(|a| operand(a, dot, root)).collect();
                values.extend(last.take());
                call(name, &values)
            }
        };
        last = Some(value);
    }
    last.flatten()
}

fn operand(o: &Operand, dot: &Value, root: &Value) -> Option<Value> {
    let walk = |from: &Value, path: &[String]| {
        path.iter().try_fold(from, |cur, key| cur.get(key)).cloned()
    };
    match o {
        Operand::Dot(path) => walk(dot, path),
        Operand::Root(path) => walk(root, path),
        Operand::Literal(v) => Some(v.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{container, r};

    #[test]
    fn blocks_and_pipelines() {
        let v = container();
        assert_eq!(r("{{if .Running}}up{{else}}down{{end}}", &v), "up");
        assert_eq!(
            r("{{if .Code}}bad{{else if .Running}}fine{{end}}", &v),
            "fine"
        );
        assert_eq!(r("{{range .Mounts}}{{.Source}},{{end}}", &v), "/a,/b,");
        assert_eq!(r("{{range .Nothing}}x{{else}}none{{end}}", &v), "none");
        assert_eq!(r("{{range .Labels}}{{.}} {{end}}", &v), "web front ");
        assert_eq!(r("{{with .Labels}}{{.app}}{{end}}", &v), "web");
        assert_eq!(r("{{.Name | lower | printf \"%q\"}}", &v), "\"/web\"");
    }
}
