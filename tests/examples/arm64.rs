//! `make test-arm64`: what Lambda runs is what was tested. The arm64 `bootstrap` of each function, as
//! `make build` zipped it, runs under `qemu-aarch64-static` (with Debian's arm64 libraries for its
//! dynamic loader) and the runtime emulator of tests/support, under the roles the Terraform gives the
//! functions on the moto that enforces IAM, and answers the HTTP API and SQS events of
//! `deployment::exercise`: a fetch and its retry, the status and the document, the sweep, readiness, a
//! scheduled sync and a forced one.

use std::path::{Path, PathBuf};
use std::process::Command;

use e2e::deployment::{Functions, Setup, deploy_with, exercise, exercise_setup};

const FUNCTIONS: [&str; 2] = ["api-lambda", "worker-lambda"];
/// Extracts a zip keeping each entry's Unix mode (`python3 -m zipfile -e` drops them).
const UNZIP: &str = "import os, sys, zipfile
z = zipfile.ZipFile(sys.argv[1])
for i in z.infolist():
    path = z.extract(i, sys.argv[2])
    mode = i.external_attr >> 16
    if mode:
        os.chmod(path, mode & 0o7777)
";
/// ELF's `e_machine` for AArch64.
const EM_AARCH64: u16 = 183;

/// Each function's `bootstrap`, unpacked from its zip into `into`; its size.
fn unpack(lambda: &Path, into: &Path) -> Vec<(String, u64)> {
    let arch = std::fs::read_to_string(lambda.join("ARCH")).unwrap_or_default();
    assert_eq!(
        arch.trim(),
        "arm64",
        "target/lambda holds a {arch:?} build: run make build"
    );
    FUNCTIONS
        .iter()
        .map(|name| {
            let dir = into.join(name);
            std::fs::create_dir_all(&dir).unwrap();
            let zip = lambda.join(name).join("bootstrap.zip");
            // As Lambda unpacks it: with the file modes the zip records.
            let status = Command::new("python3")
                .arg("-c")
                .arg(UNZIP)
                .arg(&zip)
                .arg(&dir)
                .status()
                .unwrap();
            assert!(status.success(), "unzip {}", zip.display());
            let bootstrap = dir.join("bootstrap");
            let bytes = std::fs::read(&bootstrap).unwrap();
            assert!(
                bytes.starts_with(b"\x7fELF"),
                "{} is no ELF",
                bootstrap.display()
            );
            let machine = u16::from_le_bytes([bytes[18], bytes[19]]);
            assert_eq!(
                machine,
                EM_AARCH64,
                "{} is not an arm64 binary",
                bootstrap.display()
            );
            #[cfg(unix)]
            {
                use std::os::unix::fs::PermissionsExt;
                let mode = std::fs::metadata(&bootstrap).unwrap().permissions().mode();
                assert!(
                    mode & 0o111 != 0,
                    "{}: Lambda needs it executable",
                    bootstrap.display()
                );
            }
            (name.to_string(), bytes.len() as u64)
        })
        .collect()
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let into = root.join("target/lambda-arm64-test");
    let sizes = unpack(&root.join("target/lambda"), &into);
    let d = deploy_with(Setup {
        functions: Functions::Arm64(into),
        ..exercise_setup()
    })
    .await;
    let started = std::time::Instant::now();
    exercise(&d).await;
    for (name, bytes) in sizes {
        println!("test-arm64: {name}/bootstrap (aarch64, {bytes} bytes) answered its events");
    }
    println!(
        "test-arm64: the exercise under qemu took {:.1} s",
        started.elapsed().as_secs_f64()
    );
    println!("1 passed, 0 failed");
}
