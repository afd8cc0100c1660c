//! A real registry on loopback for the image tests (Debian's
//! `docker-registry`, the distribution project's registry 2.8), and test
//! images made with `umoci` and pushed with `skopeo`.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

pub struct Registry {
    pub dir: tempfile::TempDir,
    child: Child,
    /// `127.0.0.1:PORT`
    pub addr: String,
    /// `http`, or `https` for one with a self-signed certificate.
    scheme: &'static str,
}

impl Registry {
    /// Starts a registry on a free port of 127.0.0.1, its storage in a
    /// temporary directory.
    pub fn start() -> Self {
        Self::start_with(tempfile::tempdir().unwrap(), "")
    }

    /// A registry that takes `user` with `password` only (basic auth,
    /// htpasswd).
    pub fn with_login(user: &str, password: &str) -> Self {
        let hash = Command::new("python3")
            .args(["-W", "ignore", "-c", "import crypt,sys; print(crypt.crypt(sys.argv[1], crypt.mksalt(crypt.METHOD_BLOWFISH)))", password])
            .output()
            .unwrap();
        assert!(hash.status.success(), "{hash:?}");
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("htpasswd");
        std::fs::write(
            &file,
            format!("{user}:{}", String::from_utf8_lossy(&hash.stdout)),
        )
        .unwrap();
        let auth = format!(
            "auth:\n  htpasswd:\n    realm: vessel-test\n    path: {}\n",
            file.display()
        );
        Self::start_with(dir, &auth)
    }

    /// A registry that answers TLS only, with a self-signed certificate.
    pub fn with_tls() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let (cert, key) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        let out = Command::new("openssl")
            .args([
                "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            ])
            .args([
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ])
            .arg("-keyout")
            .arg(&key)
            .arg("-out")
            .arg(&cert)
            .output()
            .unwrap();
        assert!(out.status.success(), "openssl: {out:?}");
        let tls = format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            cert.display(),
            key.display()
        );
        let mut r = Self::start_with(dir, &tls);
        r.scheme = "https";
        r
    }

    /// A registry whose configuration, storage (and whatever `extra`
    /// names, made there by the caller) are in `dir`, gone with it.
    fn start_with(dir: tempfile::TempDir, extra: &str) -> Self {
        let port = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap().port()
        };
        let addr = format!("127.0.0.1:{port}");
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {addr}\n{extra}",
                dir.path().join("data").display()
            ),
        )
        .unwrap();
        let log = std::fs::File::create(dir.path().join("registry.log")).unwrap();
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(&config)
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("docker-registry is installed (apt-get install docker-registry)");
        let r = Registry {
            dir,
            child,
            addr,
            scheme: "http",
        };
        for _ in 0..400 {
            let up = std::net::TcpStream::connect(&r.addr).is_ok();
            if up && (r.get("/v2/").is_some() || !extra.is_empty()) {
                return r;
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        panic!("the registry did not come up");
    }

    /// The body of `GET path`, when it answers 2xx.
    pub fn get(&self, path: &str) -> Option<Vec<u8>> {
        let out = Command::new("curl")
            .args(["-sfk", "-H"])
            .arg(format!("Accept: {}", ACCEPT))
            .arg(format!("{}://{}{path}", self.scheme, self.addr))
            .output()
            .unwrap();
        out.status.success().then_some(out.stdout)
    }

    /// A manifest or index as JSON.
    pub fn manifest(&self, repo: &str, reference: &str) -> serde_json::Value {
        let bytes = self
            .get(&format!("/v2/{repo}/manifests/{reference}"))
            .unwrap_or_else(|| panic!("no manifest {repo}:{reference}"));
        serde_json::from_slice(&bytes).unwrap()
    }

    /// The digest of the manifest `repo:reference` as served.
    pub fn manifest_digest(&self, repo: &str, reference: &str) -> String {
        let bytes = self
            .get(&format!("/v2/{repo}/manifests/{reference}"))
            .unwrap();
        sha256(&bytes)
    }

    /// Puts a manifest or index.
    pub fn put_manifest(&self, repo: &str, reference: &str, media_type: &str, body: &[u8]) {
        let file = self.dir.path().join("put.json");
        std::fs::write(&file, body).unwrap();
        let out = Command::new("curl")
            .args(["-sfk", "-X", "PUT", "-H"])
            .arg(format!("Content-Type: {media_type}"))
            .arg("--data-binary")
            .arg(format!("@{}", file.display()))
            .arg(format!(
                "http://{}/v2/{repo}/manifests/{reference}",
                self.addr
            ))
            .output()
            .unwrap();
        assert!(out.status.success(), "PUT manifest: {out:?}");
    }

    /// Where the registry keeps blob `digest`'s bytes.
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.dir
            .path()
            .join("data/docker/registry/v2/blobs/sha256")
            .join(&hex[..2])
            .join(hex)
            .join("data")
    }

    /// Pushes the OCI layout image `layout:tag` as `repo:tag`, with
    /// skopeo's extra arguments (`--format v2s2`, compression...).
    pub fn push(&self, layout: &Path, tag: &str, repo: &str, extra: &[&str]) {
        let out = Command::new("skopeo")
            .args(["copy", "--dest-tls-verify=false"])
            .args(extra)
            .arg(format!("oci:{}:{tag}", layout.display()))
            .arg(format!("docker://{}/{repo}:{tag}", self.addr))
            .output()
            .unwrap();
        assert!(out.status.success(), "skopeo copy: {out:?}");
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

const ACCEPT: &str = "application/vnd.oci.image.index.v1+json, application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.docker.distribution.manifest.list.v2+json";

pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    let d = sha2::Sha256::digest(bytes);
    format!(
        "sha256:{}",
        d.iter().map(|b| format!("{b:02x}")).collect::<String>()
    )
}

/// An OCI image layout built layer by layer with umoci.
pub struct Layout {
    pub path: PathBuf,
    pub tag: String,
}

impl Layout {
    /// A new empty image `tag` in a new layout under `dir`.
    pub fn new(dir: &Path, tag: &str) -> Self {
        let path = dir.join(format!("oci-{tag}"));
        umoci(&["init", "--layout", path.to_str().unwrap()]);
        let l = Layout {
            path,
            tag: tag.to_string(),
        };
        umoci(&["new", "--image", &l.image()]);
        l
    }

    pub fn image(&self) -> String {
        format!("{}:{}", self.path.display(), self.tag)
    }

    /// Appends the uncompressed layer `tar`.
    pub fn add_layer(&self, tar: &[u8]) {
        let file = self.path.with_extension("layer.tar");
        std::fs::write(&file, tar).unwrap();
        umoci(&[
            "raw",
            "add-layer",
            "--image",
            &self.image(),
            file.to_str().unwrap(),
        ]);
        std::fs::remove_file(file).unwrap();
    }

    /// `umoci config` with these arguments (`--config.cmd=sh`...).
    pub fn config(&self, args: &[&str]) {
        let image = self.image();
        let mut all = vec!["config", "--image", image.as_str()];
        all.extend_from_slice(args);
        umoci(&all);
    }
}

fn umoci(args: &[&str]) {
    let out = Command::new("umoci")
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("umoci is installed (apt-get install umoci)");
    assert!(out.status.success(), "umoci {args:?}: {out:?}");
}

/// A layer tar of `(path, contents)` files (directories end in `/`,
/// links are `-> target`), written as raw names so whiteouts go in as is.
pub fn layer(entries: &[(&str, &str)]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for (path, data) in entries {
        let mut h = header();
        h.set_mtime(1_700_000_000);
        if path.ends_with('/') {
            h.set_entry_type(tar::EntryType::Directory);
            h.set_mode(0o755);
            h.set_size(0);
            b.append_data(&mut h, path, std::io::empty()).unwrap();
        } else if let Some(target) = data.strip_prefix("-> ") {
            h.set_entry_type(tar::EntryType::Symlink);
            h.set_mode(0o777);
            h.set_size(0);
            b.append_link(&mut h, path, target).unwrap();
        } else {
            h.set_entry_type(tar::EntryType::Regular);
            h.set_mode(0o755);
            h.set_size(data.len() as u64);
            b.append_data(&mut h, path, data.as_bytes()).unwrap();
        }
    }
    b.into_inner().unwrap()
}

fn header() -> tar::Header {
    let mut h = tar::Header::new_gnu();
    h.set_uid(0);
    h.set_gid(0);
    h
}

/// A layer holding the host's static busybox as /bin/busybox and /bin/sh.
pub fn busybox_layer() -> Vec<u8> {
    let bb = std::fs::read("/bin/busybox").expect("busybox-static is installed");
    let mut b = tar::Builder::new(Vec::new());
    for dir in ["bin/", "etc/", "tmp/"] {
        let mut h = header();
        h.set_entry_type(tar::EntryType::Directory);
        h.set_mode(0o755);
        h.set_mtime(1_700_000_000);
        h.set_size(0);
        b.append_data(&mut h, dir, std::io::empty()).unwrap();
    }
    let mut h = header();
    h.set_mode(0o755);
    h.set_mtime(1_700_000_000);
    h.set_size(bb.len() as u64);
    b.append_data(&mut h, "bin/busybox", &bb[..]).unwrap();
    for name in ["sh", "ls", "cat", "echo", "sleep", "true"] {
        let mut h = header();
        h.set_entry_type(tar::EntryType::Symlink);
        h.set_mode(0o777);
        h.set_mtime(1_700_000_000);
        h.set_size(0);
        b.append_link(&mut h, format!("bin/{name}"), "busybox")
            .unwrap();
    }
    b.into_inner().unwrap()
}

/// A TCP proxy in front of a registry that can cut every answer short:
/// with `cut` set, a connection is closed once `limit` bytes of answers
/// have gone through it.
pub struct Proxy {
    pub addr: String,
    pub cut: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

impl Proxy {
    pub fn start(to: &str, limit: usize) -> Self {
        Self::start_paced(to, limit, Duration::ZERO)
    }

    /// A proxy that also waits `pause` after each 16 KiB of answers.
    pub fn start_paced(to: &str, limit: usize, pause: Duration) -> Self {
        use std::io::{Read, Write};
        use std::sync::atomic::Ordering;
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = listener.local_addr().unwrap().to_string();
        let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (to, cutting) = (to.to_string(), cut.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = std::net::TcpStream::connect(&to) else {
                    continue;
                };
                let (mut c_in, mut s_out) =
                    (client.try_clone().unwrap(), server.try_clone().unwrap());
                std::thread::spawn(move || {
                    let _ = std::io::copy(&mut c_in, &mut s_out);
                    let _ = s_out.shutdown(std::net::Shutdown::Write);
                });
                let cutting = cutting.clone();
                let (mut s_in, mut c_out) = (server, client);
                std::thread::spawn(move || {
                    let mut buf = [0u8; 16 * 1024];
                    let mut sent = 0;
                    loop {
                        let n = match s_in.read(&mut buf) {
                            Ok(0) | Err(_) => break,
                            Ok(n) => n,
                        };
                        if cutting.load(Ordering::SeqCst) && sent + n > limit {
                            let _ = c_out.write_all(&buf[..limit.saturating_sub(sent)]);
                            break;
                        }
                        std::thread::sleep(pause);
                        if c_out.write_all(&buf[..n]).is_err() {
                            break;
                        }
                        sent += n;
                    }
                    let _ = c_out.shutdown(std::net::Shutdown::Both);
                    let _ = s_in.shutdown(std::net::Shutdown::Both);
                });
            }
        });
        Proxy { addr, cut }
    }
}

/// A layer of one file, `/random`, of `len` bytes no compressor can
/// shrink.
pub fn random_layer(len: usize) -> Vec<u8> {
    let noise = random_bytes(len);
    let mut b = tar::Builder::new(Vec::new());
    let mut h = header();
    h.set_size(noise.len() as u64);
    h.set_mode(0o644);
    b.append_data(&mut h, "random", &noise[..]).unwrap();
    b.into_inner().unwrap()
}

/// `len` bytes no compressor can shrink.
pub fn random_bytes(len: usize) -> Vec<u8> {
    let mut f = std::fs::File::open("/dev/urandom").unwrap();
    let mut out = vec![0u8; len];
    std::io::Read::read_exact(&mut f, &mut out).unwrap();
    out
}
