//! The tars of the archive API: a path written as Docker's daemon writes
//! it (its entries named after the path asked for), and a tar extracted
//! into a directory.

use std::io::{self, Read, Write};
use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Component, Path, PathBuf};

use tar::{Builder, EntryType, Header, HeaderMode};

/// The kernel's filesystems a running container has at `/proc`, `/sys`
/// and `/dev`: their contents are not the container's files.
const SPECIAL: [&str; 3] = ["/proc", "/sys", "/dev"];

/// Writes `path` (not followed if a symlink) as a tar to `out`, its
/// entries named `name` and `name/...`.
pub fn write(path: &Path, name: &str, out: impl Write) -> io::Result<()> {
    let path: PathBuf = path
        .components()
        .filter(|c| *c != Component::CurDir)
        .collect();
    let mut builder = Builder::new(out);
    builder.follow_symlinks(false);
    let prefix = match name {
        "/" => String::new(),
        n => n.to_string(),
    };
    add(&mut builder, &path, &prefix)?;
    builder.into_inner()?.flush()
}

fn add<W: Write>(builder: &mut Builder<W>, path: &Path, name: &str) -> io::Result<()> {
    let meta = std::fs::symlink_metadata(path)?;
    let ft = meta.file_type();
    if !name.is_empty() {
        let mut header = Header::new_gnu();
        header.set_metadata_in_mode(&meta, HeaderMode::Complete);
        if ft.is_file() {
            builder.append_data(&mut header, name, std::fs::File::open(path)?)?;
        } else if ft.is_symlink() {
            builder.append_link(&mut header, name, std::fs::read_link(path)?)?;
        } else if ft.is_dir() {
            header.set_size(0);
            builder.append_data(&mut header, format!("{name}/"), io::empty())?;
        } else if ft.is_block_device() || ft.is_char_device() {
            header.set_entry_type(match ft.is_block_device() {
                true => EntryType::Block,
                false => EntryType::Char,
            });
            header.set_device_major(libc::major(meta.rdev()))?;
            header.set_device_minor(libc::minor(meta.rdev()))?;
            header.set_size(0);
            builder.append_data(&mut header, name, io::empty())?;
        } else if ft.is_fifo() {
            header.set_entry_type(EntryType::Fifo);
            header.set_size(0);
            builder.append_data(&mut header, name, io::empty())?;
        }
        // A socket is not archived, as Docker's.
    }
    if !ft.is_dir() || special_mount(path, &meta) {
        return Ok(());
    }
    let mut children: Vec<_> = std::fs::read_dir(path)?.collect::<io::Result<_>>()?;
    children.sort_by_key(|e| e.file_name());
    for child in children {
        let child_name = child.file_name();
        let child_name = child_name.to_string_lossy();
        let named = match name {
            "" => child_name.to_string(),
            n => format!("{n}/{child_name}"),
        };
        add(builder, &child.path(), &named)?;
    }
    Ok(())
}

/// Whether `path` is one of a running container's kernel filesystems.
fn special_mount(path: &Path, meta: &std::fs::Metadata) -> bool {
    SPECIAL.iter().any(|s| path == Path::new(s))
        && std::fs::metadata("/").is_ok_and(|root| root.dev() != meta.dev())
}

/// Extracts the tar `input` into `dir`: owners from the tar with
/// `copy_uid_gid` (else root's), modes and times kept, nothing written
/// outside `dir`; with `no_overwrite_dir_non_dir`, a directory is never
/// replaced by something else, nor the reverse.
pub fn extract(
    input: impl Read,
    dir: &Path,
    no_overwrite_dir_non_dir: bool,
    copy_uid_gid: bool,
) -> io::Result<()> {
    let mut archive = tar::Archive::new(input);
    archive.set_preserve_permissions(true);
    archive.set_preserve_mtime(true);
    archive.set_unpack_xattrs(true);
    archive.set_overwrite(true);
    archive.set_preserve_ownerships(copy_uid_gid);
    for entry in archive.entries()? {
        let mut entry = entry?;
        if no_overwrite_dir_non_dir {
            // Without a trailing `/`, which would not look past a file.
            let target = dir.join(entry.path()?.components().collect::<PathBuf>());
            let is_dir = entry.header().entry_type().is_dir();
            if let Ok(existing) = std::fs::symlink_metadata(&target) {
                let why = match (existing.is_dir(), is_dir) {
                    (true, false) => {
                        Some("cannot overwrite directory {0:?} with non-directory {1:?}")
                    }
                    (false, true) => {
                        Some("cannot overwrite non-directory {0:?} with directory {1:?}")
                    }
                    _ => None,
                };
                if let Some(why) = why {
                    let message = why
                        .replace("{0:?}", &format!("{:?}", target.display().to_string()))
                        .replace(
                            "{1:?}",
                            &format!("{:?}", entry.path()?.display().to_string()),
                        );
                    return Err(io::Error::new(io::ErrorKind::InvalidInput, message));
                }
            }
        }
        entry.unpack_in(dir)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_directory_goes_out_under_the_name_asked_for_and_back_in() {
        let src = tempfile::tempdir().unwrap();
        let d = src.path().join("real");
        std::fs::create_dir_all(d.join("sub")).unwrap();
        std::fs::write(d.join("sub/f"), "data").unwrap();
        std::os::unix::fs::symlink("sub/f", d.join("link")).unwrap();
        let mut tar = Vec::new();
        write(&d, "asked", &mut tar).unwrap();
        let names: Vec<String> = tar::Archive::new(&tar[..])
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert_eq!(names, ["asked/", "asked/link", "asked/sub/", "asked/sub/f"]);
        let dst = tempfile::tempdir().unwrap();
        extract(&tar[..], dst.path(), false, false).unwrap();
        assert_eq!(
            std::fs::read_to_string(dst.path().join("asked/sub/f")).unwrap(),
            "data"
        );
        assert_eq!(
            std::fs::read_link(dst.path().join("asked/link")).unwrap(),
            Path::new("sub/f")
        );
        // A file where the tar has a directory: refused when asked.
        std::fs::remove_dir_all(dst.path().join("asked/sub")).unwrap();
        std::fs::write(dst.path().join("asked/sub"), "").unwrap();
        let e = extract(&tar[..], dst.path(), true, false).unwrap_err();
        assert!(
            e.to_string().contains("cannot overwrite non-directory"),
            "{e}"
        );
    }
}
