//! Test support, public so that other crates' tests (xtask) can use it too: a hand-assembled proxy-wasm
//! module and a real registry (Debian's `docker-registry`, CNCF distribution) on a free loopback port.

use std::io::{self, Read};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

pub use crate::wasm::ValType;

/// A core wasm module exporting `memory` (if asked) and functions with the given names and signatures.
/// Every function body returns zeros of its result types.
pub fn wasm_module(memory: bool, funcs: &[(&str, &[ValType], &[ValType])]) -> Vec<u8> {
    fn leb(mut v: u32, out: &mut Vec<u8>) {
        loop {
            let b = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(b);
                return;
            }
            out.push(b | 0x80);
        }
    }
    fn section(id: u8, body: Vec<u8>, out: &mut Vec<u8>) {
        out.push(id);
        leb(body.len() as u32, out);
        out.extend(body);
    }
    fn vt(t: ValType) -> u8 {
        match t {
            ValType::I32 => 0x7f,
            ValType::I64 => 0x7e,
            ValType::F32 => 0x7d,
            ValType::F64 => 0x7c,
            ValType::V128 => 0x7b,
            ValType::Ref => 0x6f,
        }
    }
    let mut m = b"\0asm\x01\0\0\0".to_vec();
    // One type per function keeps this simple (duplicates are legal).
    let mut types = Vec::new();
    leb(funcs.len() as u32, &mut types);
    for (_, params, results) in funcs {
        types.push(0x60);
        leb(params.len() as u32, &mut types);
        types.extend(params.iter().map(|t| vt(*t)));
        leb(results.len() as u32, &mut types);
        types.extend(results.iter().map(|t| vt(*t)));
    }
    section(1, types, &mut m);
    let mut fsec = Vec::new();
    leb(funcs.len() as u32, &mut fsec);
    for i in 0..funcs.len() {
        leb(i as u32, &mut fsec);
    }
    section(3, fsec, &mut m);
    if memory {
        section(5, vec![1, 0x00, 1], &mut m);
    }
    let mut ex = Vec::new();
    leb(funcs.len() as u32 + u32::from(memory), &mut ex);
    if memory {
        ex.push(6);
        ex.extend(b"memory");
        ex.extend([0x02, 0]);
    }
    for (i, (name, _, _)) in funcs.iter().enumerate() {
        leb(name.len() as u32, &mut ex);
        ex.extend(name.as_bytes());
        ex.push(0x00);
        leb(i as u32, &mut ex);
    }
    section(7, ex, &mut m);
    let mut code = Vec::new();
    leb(funcs.len() as u32, &mut code);
    for (_, _, results) in funcs {
        let mut body = vec![0u8]; // no locals
        for t in *results {
            match t {
                ValType::I32 => body.extend([0x41, 0]),
                ValType::I64 => body.extend([0x42, 0]),
                ValType::F32 => body.extend([0x43, 0, 0, 0, 0]),
                ValType::F64 => body.extend([0x44, 0, 0, 0, 0, 0, 0, 0, 0]),
                ValType::V128 | ValType::Ref => body.extend([0xd0, 0x6f]), // ref.null extern (v128 unused)
            }
        }
        body.push(0x0b);
        leb(body.len() as u32, &mut code);
        code.extend(body);
    }
    section(10, code, &mut m);
    m
}

/// The smallest module the layout gate accepts: exported memory, `proxy_abi_version_0_2_1: ()->()`,
/// `proxy_on_vm_start` and `proxy_on_configure: (i32,i32)->i32`.
pub fn minimal_plugin_wasm() -> Vec<u8> {
    use ValType::I32;
    wasm_module(
        true,
        &[
            ("proxy_abi_version_0_2_1", &[], &[]),
            ("proxy_on_vm_start", &[I32, I32], &[I32]),
            ("proxy_on_configure", &[I32, I32], &[I32]),
        ],
    )
}

/// A user and bcrypt hash (cost 4) for [`TestRegistry::start_with_basic_auth`]: the password is
/// [`TEST_PASSWORD`]. Test data only.
pub const TEST_USER: &str = "pwoci";
pub const TEST_PASSWORD: &str = "pwoci-test-secret";
const TEST_HTPASSWD: &str = "pwoci:$2b$04$B6JFI9Dkbld.qvXr10vW7uyurRBucsda5Ce7HV0VIU5Mp2c0L9yIK\n";

/// A running `docker-registry serve` on 127.0.0.1 with its own storage directory; stopped (by its process
/// handle) and removed on drop.
pub struct TestRegistry {
    child: Child,
    dir: PathBuf,
    host: String,
}

impl TestRegistry {
    /// The registry binary: `$PWOCI_TEST_REGISTRY_BIN`, else `docker-registry` on `PATH`.
    pub fn binary() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("PWOCI_TEST_REGISTRY_BIN") {
            return Some(PathBuf::from(p));
        }
        let path = std::env::var_os("PATH")?;
        std::env::split_paths(&path)
            .map(|d| d.join("docker-registry"))
            .find(|p| p.is_file())
    }

    /// Starts an anonymous registry. `Ok(None)` (after printing why) only when the binary is absent.
    pub fn start() -> io::Result<Option<TestRegistry>> {
        Self::start_inner(false)
    }

    /// Starts a registry that demands HTTP basic auth for [`TEST_USER`] / [`TEST_PASSWORD`].
    pub fn start_with_basic_auth() -> io::Result<Option<TestRegistry>> {
        Self::start_inner(true)
    }

    fn start_inner(auth: bool) -> io::Result<Option<TestRegistry>> {
        let Some(bin) = Self::binary() else {
            eprintln!(
                "SKIP: `docker-registry` is not installed (apt-get install docker-registry, or set \
                 PWOCI_TEST_REGISTRY_BIN); registry tests not run"
            );
            return Ok(None);
        };
        static N: AtomicU32 = AtomicU32::new(0);
        let dir = std::env::temp_dir().join(format!(
            "pwoci-registry-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("storage"))?;
        let mut last_err = None;
        for _attempt in 0..3 {
            let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
            let host = format!("127.0.0.1:{port}");
            let mut config = format!(
                "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\n  delete:\n    enabled: true\nhttp:\n  addr: {host}\n",
                dir.join("storage").display()
            );
            if auth {
                std::fs::write(dir.join("htpasswd"), TEST_HTPASSWD)?;
                config.push_str(&format!(
                    "auth:\n  htpasswd:\n    realm: pwoci-test\n    path: {}\n",
                    dir.join("htpasswd").display()
                ));
            }
            std::fs::write(dir.join("config.yml"), config)?;
            let log = std::fs::File::create(dir.join("registry.log"))?;
            let child = Command::new(&bin)
                .arg("serve")
                .arg(dir.join("config.yml"))
                .stdin(Stdio::null())
                .stdout(log.try_clone()?)
                .stderr(log)
                .spawn()?;
            let mut reg = TestRegistry {
                child,
                dir: dir.clone(),
                host: host.clone(),
            };
            match reg.wait_ready() {
                Ok(()) => return Ok(Some(reg)),
                Err(e) => {
                    last_err = Some(io::Error::other(format!(
                        "{e}; registry log:\n{}",
                        reg.log()
                    )));
                    let _ = reg.child.kill();
                    let _ = reg.child.wait();
                    std::mem::forget(reg); // keep the directory for the next attempt
                }
            }
        }
        let _ = std::fs::remove_dir_all(&dir);
        Err(last_err.unwrap_or_else(|| io::Error::other("registry did not start")))
    }

    fn wait_ready(&mut self) -> io::Result<()> {
        let deadline = Instant::now() + Duration::from_secs(15);
        loop {
            if let Some(status) = self.child.try_wait()? {
                return Err(io::Error::other(format!(
                    "docker-registry exited early with {status}"
                )));
            }
            if TcpStream::connect(&self.host).is_ok() {
                return Ok(());
            }
            if Instant::now() > deadline {
                return Err(io::Error::other(format!(
                    "docker-registry did not listen on {} within 15 s",
                    self.host
                )));
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    /// `127.0.0.1:PORT`.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The registry's storage directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// What the registry logged so far.
    pub fn log(&self) -> String {
        let mut s = String::new();
        if let Ok(mut f) = std::fs::File::open(self.dir.join("registry.log")) {
            let _ = f.read_to_string(&mut s);
        }
        s
    }
}

impl Drop for TestRegistry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
