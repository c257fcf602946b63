//! Hands the release build the site it embeds (see `src/site/embedded.rs`): cargo-leptos builds
//! `target/site` and writes `hash.txt` next to the server binary before compiling the server, so
//! this build script makes the compilation re-run whenever either changes, and copies `hash.txt`
//! where the source can include it (an empty file when there is none).

use std::{env, fs, path::PathBuf};

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let copy = out.join("site-hashes.txt");
    // Debug builds serve the site from disk and embed nothing: they need not rebuild when it changes.
    if env::var("PROFILE").as_deref() != Ok("release") {
        fs::write(&copy, "").expect("OUT_DIR is writable");
        return;
    }
    // OUT_DIR is <target>/<profile>/build/server-<hash>/out; the binary goes in <target>/<profile>.
    let hashes = out.ancestors().nth(3).map(|dir| dir.join("hash.txt")).expect("OUT_DIR is under the target dir");
    let site = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("cargo sets it")).join("../target/site");
    println!("cargo:rerun-if-changed={}", hashes.display());
    println!("cargo:rerun-if-changed={}", site.display());
    fs::write(&copy, fs::read_to_string(&hashes).unwrap_or_default()).expect("OUT_DIR is writable");
}
