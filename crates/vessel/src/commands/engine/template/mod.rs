//! The part of Go's text/template that docker's `--format` is used with,
//! over JSON values.
//!
//! Actions: `{{PIPELINE}}`, `{{if P}}…{{else if P}}…{{else}}…{{end}}`,
//! `{{range P}}…{{else}}…{{end}}` (lists in order, maps by sorted key),
//! `{{with P}}…{{else}}…{{end}}`, and the `{{-`/`-}}` trim markers. A
//! pipeline is commands joined by `|`, each result passed as the next
//! command's last argument. Operands: `.`, `.A.B`, `$` and `$.A`,
//! `"strings"`, numbers, `true`/`false`. Functions: `json`, `index`, `len`,
//! `join`, `split`, `upper`, `lower`, `title`, `printf` (`%s %v %d %q %%`),
//! `print`, `println`, `eq`, `ne`, `lt`, `le`, `gt`, `ge`, `not`, `and`,
//! `or`. Values print as Go prints them (`[a b]`, `map[k:v]`); a missing
//! key prints `<no value>`. Everything else is refused when the template
//! is parsed, before anything is printed.
//!
//! The text is cut into tokens (`lex`) and read into a tree (`parse`),
//! which is filled from a value (`exec`) with the built-in functions
//! (`funcs`); values print and test true as Go's do (`value`).

mod exec;
mod funcs;
mod lex;
mod parse;
mod value;

use anyhow::anyhow;
use serde_json::Value;

use lex::tokenize;
use parse::{parse_nodes, Command, Node, Operand, Pipeline};

/// A parsed template.
#[derive(Debug, Clone, PartialEq)]
pub struct Template {
    nodes: Vec<Node>,
}

impl Template {
    /// Parses `format`. docker turns the two-character sequences `\t` and
    /// `\n` into a tab and a newline first, so that they can be typed in a
    /// shell; so does this.
    pub fn parse(format: &str) -> anyhow::Result<Template> {
        let text = format.replace("\\t", "\t").replace("\\n", "\n");
        let fail = |why: String| anyhow!("--format {format:?}: {why}");
        let tokens = tokenize(&text).map_err(fail)?;
        let mut tokens = tokens.into_iter().peekable();
        let (nodes, end) = parse_nodes(&mut tokens).map_err(fail)?;
        if let Some(end) = end {
            return Err(fail(format!(
                "`{{{{{end}}}}}` without an `if`, `range` or `with`"
            )));
        }
        Ok(Template { nodes })
    }

    /// Fills the template from `v`.
    pub fn render(&self, v: &Value) -> String {
        let mut out = String::new();
        exec::render(&self.nodes, v, v, &mut out);
        out
    }

    /// The first key of every path from the top value the template reads
    /// (for checking them against a listing's fields).
    pub fn fields(&self) -> Vec<String> {
        let mut found = Vec::new();
        collect_fields(&self.nodes, &mut found);
        found
    }
}

/// The first keys read from the top value: paths from `.` outside the
/// blocks that move it (range, with), and every `$` path.
fn collect_fields(nodes: &[Node], found: &mut Vec<String>) {
    collect(nodes, true, found);
}

fn collect(nodes: &[Node], dot_is_top: bool, found: &mut Vec<String>) {
    let pipeline = |p: &Pipeline, found: &mut Vec<String>| {
        for command in p {
            let operands = match command {
                Command::Operand(o) => std::slice::from_ref(o),
                Command::Call(_, args) => args.as_slice(),
            };
            for o in operands {
                match o {
                    Operand::Dot(path) if dot_is_top => found.extend(path.first().cloned()),
                    Operand::Root(path) => found.extend(path.first().cloned()),
                    _ => {}
                }
            }
        }
    };
    for node in nodes {
        match node {
            Node::Text(_) => {}
            Node::Print(p) => pipeline(p, found),
            Node::If(branches, otherwise) => {
                for (cond, body) in branches {
                    pipeline(cond, found);
                    collect(body, dot_is_top, found);
                }
                collect(otherwise, dot_is_top, found);
            }
            // Inside, `.` is something else; `$` still is the top value.
            Node::Range(over, body, otherwise) | Node::With(over, body, otherwise) => {
                pipeline(over, found);
                collect(body, false, found);
                collect(otherwise, dot_is_top, found);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    /// `t` filled from `v`.
    pub(super) fn r(t: &str, v: &Value) -> String {
        Template::parse(t).unwrap().render(v)
    }

    /// The value the block and function tests fill templates from.
    pub(super) fn container() -> Value {
        json!({"Running": true, "Code": 0, "Cmd": ["sleep", "60"],
            "Labels": {"app": "web", "tier": "front"}, "Mounts": [{"Source": "/a"}, {"Source": "/b"}],
            "Name": "/web"})
    }

    #[test]
    fn fields_are_the_first_keys_read_from_the_top() {
        assert_eq!(
            Template::parse("{{range .Mounts}}{{.Source}}{{$.Id}}{{end}}{{$.Name}}")
                .unwrap()
                .fields(),
            ["Mounts", "Id", "Name"]
        );
    }
}
