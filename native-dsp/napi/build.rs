// The N-API symbols are provided by the host process (node or Electron) at load time, so the
// linker must accept them undefined. `-z nodelete` keeps the library mapped after a worker
// thread's environment is torn down, so finalizers of other environments never jump into
// unmapped code.
fn main() {
    let target_os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    match target_os.as_str() {
        "macos" => {
            println!("cargo:rustc-cdylib-link-arg=-undefined");
            println!("cargo:rustc-cdylib-link-arg=dynamic_lookup");
        }
        "linux" | "freebsd" => {
            println!("cargo:rustc-cdylib-link-arg=-Wl,-z,nodelete");
        }
        _ => {}
    }
}
