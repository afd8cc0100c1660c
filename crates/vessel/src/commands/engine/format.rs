//! docker's `--format`: Go-template-like text filled from JSON values.
//!
//! Listings (`ps`, `images`, `stats`) take docker's four forms: nothing or
//! `table` (the default columns), `table TEMPLATE` (a header, then columns
//! aligned as docker's tab writer does), `json` (one object per row, with
//! docker's field names), or a bare TEMPLATE printed once per row.
//! `inspect` and `events` fill a template from the whole API object.
//!
//! The templates are [`Template`]s: the part of Go's language these
//! commands are used with.

use anyhow::bail;
use serde_json::Value;

pub use super::template::Template;

/// What a listing's rows are: their fields, with docker's column titles,
/// and the default table.
pub struct Columns {
    /// What one row is, for error messages ("container", "image").
    pub what: &'static str,
    /// docker's default table, `table {{.A}}\t{{.B}}...`.
    pub default: &'static str,
    /// Each field of a row and its column title.
    pub titles: &'static [(&'static str, &'static str)],
}

/// The fields of `docker ps`.
pub const CONTAINERS: Columns = Columns {
    what: "container",
    default: "table {{.ID}}\t{{.Image}}\t{{.Command}}\t{{.RunningFor}}\t{{.Status}}\t{{.Ports}}\t{{.Names}}",
    titles: &[
        ("Command", "COMMAND"),
        ("CreatedAt", "CREATED AT"),
        ("ID", "CONTAINER ID"),
        ("Image", "IMAGE"),
        ("Labels", "LABELS"),
        ("LocalVolumes", "LOCAL VOLUMES"),
        ("Mounts", "MOUNTS"),
        ("Names", "NAMES"),
        ("Networks", "NETWORKS"),
        ("Ports", "PORTS"),
        ("RunningFor", "CREATED"),
        ("Size", "SIZE"),
        ("State", "STATE"),
        ("Status", "STATUS"),
    ],
};

/// The fields of `docker history`.
pub const HISTORY: Columns = Columns {
    what: "history",
    default: "table {{.ID}}\t{{.CreatedSince}}\t{{.CreatedBy}}\t{{.Size}}\t{{.Comment}}",
    titles: &[
        ("Comment", "COMMENT"),
        ("CreatedAt", "CREATED AT"),
        ("CreatedBy", "CREATED BY"),
        ("CreatedSince", "CREATED"),
        ("ID", "IMAGE"),
        ("Size", "SIZE"),
    ],
};

/// The fields of `docker images`.
pub const IMAGES: Columns = Columns {
    what: "image",
    default: "table {{.Repository}}\t{{.Tag}}\t{{.ID}}\t{{.CreatedSince}}\t{{.Size}}",
    titles: &[
        ("Containers", "CONTAINERS"),
        ("CreatedAt", "CREATED AT"),
        ("CreatedSince", "CREATED"),
        ("Digest", "DIGEST"),
        ("ID", "IMAGE ID"),
        ("Repository", "REPOSITORY"),
        ("SharedSize", "SHARED SIZE"),
        ("Size", "SIZE"),
        ("Tag", "TAG"),
        ("UniqueSize", "UNIQUE SIZE"),
        ("VirtualSize", "VIRTUAL SIZE"),
    ],
};

/// The fields of `docker stats`.
pub const STATS: Columns = Columns {
    what: "stats row",
    default: "table {{.ID}}\t{{.Name}}\t{{.CPUPerc}}\t{{.MemUsage}}\t{{.MemPerc}}\t{{.NetIO}}\t{{.BlockIO}}\t{{.PIDs}}",
    titles: &[
        ("BlockIO", "BLOCK I/O"),
        ("CPUPerc", "CPU %"),
        ("Container", "CONTAINER"),
        ("ID", "CONTAINER ID"),
        ("MemPerc", "MEM %"),
        ("MemUsage", "MEM USAGE / LIMIT"),
        ("Name", "NAME"),
        ("NetIO", "NET I/O"),
        ("PIDs", "PIDS"),
    ],
};

/// One row of a listing: its fields, docker's names with text values.
pub fn row<V: Into<String>>(fields: impl IntoIterator<Item = (&'static str, V)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .map(|(name, v)| (name.to_string(), Value::String(v.into())))
            .collect(),
    )
}

/// How a listing is printed, decided before any row is fetched.
pub enum Listing {
    Json,
    Table(Template),
    Lines(Template),
}

impl Listing {
    /// Reads a `--format` value for rows of `columns`: every field the
    /// template names must be one of theirs.
    pub fn parse(format: Option<&str>, columns: &Columns) -> anyhow::Result<Listing> {
        let format = format
            .map(str::trim)
            .filter(|f| !f.is_empty())
            .unwrap_or("table");
        if format == "json" {
            return Ok(Listing::Json);
        }
        let (table, text) = match format.strip_prefix("table") {
            Some(rest) if rest.trim().is_empty() => (true, columns.default["table".len()..].trim()),
            Some(rest) if rest.starts_with(char::is_whitespace) => (true, rest.trim()),
            _ => (false, format),
        };
        let template = Template::parse(text)?;
        let is_field = |f: &str| columns.titles.iter().any(|(name, _)| *name == f);
        if let Some(bad) = template.fields().into_iter().find(|f| !is_field(f)) {
            let known: Vec<&str> = columns.titles.iter().map(|(name, _)| *name).collect();
            bail!(
                "--format {format:?}: a {} has no field {bad:?} (it has {})",
                columns.what,
                known.join(", ")
            );
        }
        Ok(if table {
            Listing::Table(template)
        } else {
            Listing::Lines(template)
        })
    }

    /// The text of the listing: `rows` ([`row`]s) hold every field of
    /// `columns`.
    pub fn print(&self, columns: &Columns, rows: &[Value]) -> String {
        match self {
            Listing::Json => rows.iter().map(|r| format!("{r}\n")).collect(),
            Listing::Lines(t) => rows.iter().map(|r| format!("{}\n", t.render(r))).collect(),
            Listing::Table(t) => {
                let titles = row(columns.titles.iter().copied());
                let lines: Vec<String> = std::iter::once(&titles)
                    .chain(rows)
                    .map(|r| t.render(r))
                    .collect();
                align(&lines, 10)
            }
        }
    }
}

/// Aligns tab-separated cells the way docker's tab writer does (padding
/// 3, every column at least `min_width` wide including the padding); the
/// cell after a line's last tab is not padded.
pub fn align(lines: &[String], min_width: usize) -> String {
    let split: Vec<Vec<&str>> = lines
        .iter()
        .flat_map(|l| l.split('\n'))
        .map(|l| l.split('\t').collect())
        .collect();
    let mut widths: Vec<usize> = Vec::new();
    for cells in &split {
        for (i, c) in cells.iter().enumerate().take(cells.len() - 1) {
            let w = (c.chars().count() + 3).max(min_width);
            match widths.get_mut(i) {
                Some(x) => *x = (*x).max(w),
                None => widths.push(w),
            }
        }
    }
    let mut out = String::new();
    for cells in &split {
        let last = cells.len() - 1;
        for (i, c) in cells.iter().enumerate() {
            if i == last {
                out.push_str(c);
            } else {
                out.push_str(&format!("{c:<w$}", w = widths[i]));
            }
        }
        out.push('\n');
    }
    out
}

/// `s` cut to `max` characters, the last one an ellipsis, as docker cuts
/// long cells.
pub fn ellipsis(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_string();
    }
    s.chars().take(max - 1).chain(['…']).collect()
}

/// A Unix time as Go prints a `time.Time` in the local zone
/// (`2026-11-24 02:30:00 +0000 UTC`), as docker's `CreatedAt` columns do.
/// chrono knows no zone abbreviations; a zone other than UTC is named by
/// its offset.
pub fn go_time(secs: i64) -> String {
    use chrono::TimeZone;
    let Some(t) = chrono::Local.timestamp_opt(secs, 0).single() else {
        return String::new();
    };
    let zone = if t.offset().local_minus_utc() == 0 {
        "UTC".to_string()
    } else {
        t.format("%z").to_string()
    };
    format!("{} {zone}", t.format("%Y-%m-%d %H:%M:%S %z"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn listings_take_docker_forms() {
        let rows = [
            row([("ID", "abc"), ("Names", "web"), ("Image", "busybox")]),
            row([
                ("ID", "defdefdefdef"),
                ("Names", "db"),
                ("Image", "busybox"),
            ]),
        ];
        let cols = Columns {
            what: "container",
            default: "table {{.ID}}\t{{.Names}}",
            titles: &[
                ("ID", "CONTAINER ID"),
                ("Names", "NAMES"),
                ("Image", "IMAGE"),
            ],
        };
        let print = |f: Option<&str>| Listing::parse(f, &cols).unwrap().print(&cols, &rows);
        let table = "CONTAINER ID   NAMES\nabc            web\ndefdefdefdef   db\n";
        assert_eq!(print(None), table);
        assert_eq!(print(Some("table")), table);
        // Short columns still take ten characters, as docker's do.
        assert_eq!(
            print(Some("table {{.Names}}\\t{{.Image}}")),
            "NAMES     IMAGE\nweb       busybox\ndb        busybox\n"
        );
        assert_eq!(print(Some("{{.Names}}")), "web\ndb\n");
        let json = print(Some("json"));
        let first: Value = serde_json::from_str(json.lines().next().unwrap()).unwrap();
        assert_eq!(
            first,
            json!({"ID": "abc", "Names": "web", "Image": "busybox"})
        );

        let e = Listing::parse(Some("{{.Name}}"), &cols).err().unwrap();
        assert_eq!(
            e.to_string(),
            "--format \"{{.Name}}\": a container has no field \"Name\" (it has ID, Names, Image)"
        );
    }

    #[test]
    fn cells_are_cut_as_docker_cuts_them() {
        assert_eq!(ellipsis("sleep 3600", 20), "sleep 3600");
        assert_eq!(
            ellipsis("sh -c 'while true; do date; done'", 20),
            "sh -c 'while true; …"
        );
        assert_eq!(ellipsis("sh -c 'while true; …", 20).chars().count(), 20);
    }

    #[test]
    fn every_default_table_names_only_its_own_fields() {
        for cols in [&CONTAINERS, &IMAGES, &STATS] {
            assert!(matches!(Listing::parse(None, cols), Ok(Listing::Table(_))));
        }
    }
}
