//! `vessel runtime list`.

use std::path::Path;

pub fn list(root: &Path) -> anyhow::Result<()> {
    println!(
        "{:<24} {:<8} {:<10} {:<32} BUNDLE",
        "ID", "PID", "STATUS", "CREATED"
    );
    let Ok(entries) = std::fs::read_dir(root) else {
        return Ok(());
    };
    let mut ids: Vec<String> = entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        // Hidden: deleted containers' state on its way out.
        .filter(|id| !id.starts_with('.'))
        .collect();
    ids.sort();
    for id in ids {
        if let Ok(s) = super::state::read(root, &id) {
            println!(
                "{:<24} {:<8} {:<10} {:<32} {}",
                s.id,
                s.pid,
                s.status.to_string(),
                s.created,
                s.bundle
            );
        }
    }
    Ok(())
}
