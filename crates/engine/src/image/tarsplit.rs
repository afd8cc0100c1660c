//! A layer's tar, reproducible byte for byte from its unpacked tree.
//!
//! A layer is named by the digest of its uncompressed tar (its diff id),
//! and `save` and `push` must give back exactly those bytes, but the store
//! keeps a layer only unpacked. While a layer is unpacked its tar is split:
//! everything but the contents of regular files (headers, extended headers,
//! padding, the end blocks) is kept in the layer's skeleton, each file's
//! contents replaced by a reference to the file in the tree. Joining the
//! skeleton with the tree gives the tar again; its digest is checked
//! against the diff id as it is made.
//!
//! A skeleton is a magic line, then records: `R` and a little-endian u64
//! length and that many raw bytes; `F` and a u64 size, a u32 path length and
//! the path of the file in the tree whose contents go there.

use std::cell::RefCell;
use std::collections::VecDeque;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;
use std::rc::Rc;

use rustix::fs::{Mode, OFlags};
use sha2::{Digest, Sha256};

const MAGIC: &[u8] = b"vessel-tar-split 1\n";

/// What the unpacker tells the recorder: the file at `path` (relative to
/// the layer's root) holds the `len` bytes at `offset` in the tar.
#[derive(Debug)]
struct Content {
    offset: u64,
    len: u64,
    path: Vec<u8>,
}

#[derive(Debug)]
struct Split {
    out: BufWriter<File>,
    raw: Vec<u8>,
    contents: VecDeque<Content>,
    hasher: Sha256,
    pos: u64,
    error: Option<io::Error>,
}

/// A reader of an uncompressed layer tar that hashes every byte and writes
/// the layer's skeleton as the bytes go by.
#[derive(Debug)]
pub(super) struct Recorder<R> {
    inner: R,
    split: Rc<RefCell<Split>>,
}

/// The unpacker's handle on a [`Recorder`].
#[derive(Debug, Clone)]
pub(super) struct Contents(Rc<RefCell<Split>>);

impl Contents {
    /// The next `len` bytes from `offset` on are the contents of `path`.
    pub(super) fn file(&self, offset: u64, len: u64, path: &Path) {
        if len > 0 {
            let path = path.as_os_str().as_bytes().to_vec();
            self.0
                .borrow_mut()
                .contents
                .push_back(Content { offset, len, path });
        }
    }
}

impl<R: Read> Recorder<R> {
    /// Records `inner` into the skeleton file `out`.
    pub(super) fn new(inner: R, out: File) -> io::Result<(Self, Contents)> {
        let mut out = BufWriter::new(out);
        out.write_all(MAGIC)?;
        let split = Rc::new(RefCell::new(Split {
            out,
            raw: Vec::new(),
            contents: VecDeque::new(),
            hasher: Sha256::new(),
            pos: 0,
            error: None,
        }));
        let contents = Contents(split.clone());
        Ok((Recorder { inner, split }, contents))
    }

    /// Reads what is left (the archive's end blocks and padding), writes
    /// the skeleton out, and answers the digest of the whole tar.
    pub(super) fn finish(mut self) -> io::Result<String> {
        io::copy(&mut self, &mut io::sink())?;
        let mut s = self.split.borrow_mut();
        if let Some(e) = s.error.take() {
            return Err(e);
        }
        if !s.contents.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "the layer tar ended inside a file",
            ));
        }
        s.flush_raw()?;
        s.out.flush()?;
        s.out.get_ref().sync_all()?;
        let digest = std::mem::take(&mut s.hasher).finalize();
        Ok(format!("sha256:{}", super::hex(&digest)))
    }
}

impl Split {
    fn flush_raw(&mut self) -> io::Result<()> {
        if !self.raw.is_empty() {
            self.out.write_all(b"R")?;
            self.out.write_all(&(self.raw.len() as u64).to_le_bytes())?;
            self.out.write_all(&self.raw)?;
            self.raw.clear();
        }
        Ok(())
    }

    /// Takes bytes read at the current position into the skeleton.
    fn take(&mut self, mut bytes: &[u8]) -> io::Result<()> {
        self.hasher.update(bytes);
        while !bytes.is_empty() {
            let Some((offset, len)) = self.contents.front().map(|c| (c.offset, c.len)) else {
                self.raw.extend_from_slice(bytes);
                self.pos += bytes.len() as u64;
                return Ok(());
            };
            if self.pos < offset {
                let n = ((offset - self.pos) as usize).min(bytes.len());
                self.raw.extend_from_slice(&bytes[..n]);
                self.pos += n as u64;
                bytes = &bytes[n..];
                continue;
            }
            if self.pos == offset {
                self.flush_raw()?;
                let path = &self.contents[0].path;
                self.out.write_all(b"F")?;
                self.out.write_all(&len.to_le_bytes())?;
                self.out.write_all(&(path.len() as u32).to_le_bytes())?;
                self.out.write_all(path)?;
            }
            let end = offset + len;
            let n = ((end - self.pos) as usize).min(bytes.len());
            self.pos += n as u64;
            bytes = &bytes[n..];
            if self.pos == end {
                self.contents.pop_front();
            }
        }
        Ok(())
    }
}

impl<R: Read> Read for Recorder<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let mut s = self.split.borrow_mut();
        if let Err(e) = s.take(&buf[..n]) {
            // Reported by `finish`: the tar reader may not pass it on.
            let text = e.to_string();
            s.error.get_or_insert(e);
            return Err(io::Error::other(text));
        }
        Ok(n)
    }
}

/// Writes the tar of the layer whose skeleton is `skeleton` and whose tree
/// is `tree` to `out`, and answers its digest. File contents are read
/// inside the tree only (never through a link out of it).
pub(super) fn join(skeleton: &Path, tree: &Path, out: &mut impl Write) -> io::Result<String> {
    let root = File::open(tree)?;
    let mut r = BufReader::new(File::open(skeleton)?);
    let mut magic = vec![0u8; MAGIC.len()];
    r.read_exact(&mut magic)?;
    if magic != MAGIC {
        return Err(bad("its skeleton is not Vessel's"));
    }
    let mut hasher = Sha256::new();
    let mut out = HashingWriter {
        out,
        hasher: &mut hasher,
    };
    let mut tag = [0u8; 1];
    loop {
        match r.read_exact(&mut tag) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => break,
            Err(e) => return Err(e),
        }
        let len = read_u64(&mut r)?;
        match tag[0] {
            b'R' => {
                let copied = io::copy(&mut (&mut r).take(len), &mut out)?;
                if copied != len {
                    return Err(bad("its skeleton is cut short"));
                }
            }
            b'F' => {
                let mut n = [0u8; 4];
                r.read_exact(&mut n)?;
                let mut path = vec![0u8; u32::from_le_bytes(n) as usize];
                r.read_exact(&mut path)?;
                let path = Path::new(std::ffi::OsStr::from_bytes(&path));
                let fd = vessel_runtime::in_root::openat2(
                    &root,
                    path,
                    OFlags::RDONLY | OFlags::NOFOLLOW | OFlags::CLOEXEC,
                    Mode::empty(),
                )
                .map_err(io::Error::from)?;
                let file = File::from(fd);
                let copied = io::copy(&mut (&file).take(len), &mut out)?;
                if copied != len || file.metadata()?.len() != len {
                    return Err(bad(&format!(
                        "{} is no longer as it was unpacked",
                        path.display()
                    )));
                }
            }
            _ => return Err(bad("its skeleton is damaged")),
        }
    }
    Ok(format!("sha256:{}", super::hex(&hasher.finalize())))
}

/// The size of the tar [`join`] makes, read from the skeleton alone.
pub(super) fn size(skeleton: &Path) -> io::Result<u64> {
    let mut r = BufReader::new(File::open(skeleton)?);
    let mut magic = vec![0u8; MAGIC.len()];
    r.read_exact(&mut magic)?;
    if magic != MAGIC {
        return Err(bad("its skeleton is not Vessel's"));
    }
    let mut total = 0u64;
    let mut tag = [0u8; 1];
    loop {
        match r.read_exact(&mut tag) {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(total),
            Err(e) => return Err(e),
        }
        let len = read_u64(&mut r)?;
        total += len;
        let skip = match tag[0] {
            b'R' => len,
            b'F' => {
                let mut n = [0u8; 4];
                r.read_exact(&mut n)?;
                u64::from(u32::from_le_bytes(n))
            }
            _ => return Err(bad("its skeleton is damaged")),
        };
        io::copy(&mut (&mut r).take(skip), &mut io::sink())?;
    }
}

fn read_u64(r: &mut impl Read) -> io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

fn bad(why: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidData,
        format!("the layer's tar: {why}"),
    )
}

struct HashingWriter<'a, W> {
    out: &'a mut W,
    hasher: &'a mut Sha256,
}

impl<W: Write> Write for HashingWriter<'_, W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.out.write(buf)?;
        self.hasher.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}
