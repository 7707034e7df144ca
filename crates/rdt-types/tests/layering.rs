//! The pipeline's layering, checked: a crate depends only on crates earlier in the pipeline, so
//! no stage reaches back (the runtime into the checker, say). Shared vocabulary belongs in
//! rdt-types instead.

use std::path::Path;

/// The workspace's crates, each allowed to depend only on the ones before it.
const PIPELINE: [&str; 8] = [
    "rdt-syntax",
    "rdt-btf",
    "rdt-elf",
    "rdt-types",
    "rdt-sema",
    "rdt-codegen",
    "rdt-runtime",
    "rdt",
];

/// The rdt crates named in a manifest's dependency tables (normal, dev and build).
fn rdt_dependencies(manifest: &str) -> Vec<String> {
    let mut in_deps = false;
    let mut deps = Vec::new();
    for line in manifest.lines().map(str::trim) {
        if line.starts_with('[') {
            in_deps = line.ends_with("dependencies]");
            continue;
        }
        let name = line
            .split(|c: char| c == '.' || c == '=' || c.is_whitespace())
            .next()
            .unwrap_or("");
        if in_deps && PIPELINE.contains(&name) {
            deps.push(name.to_string());
        }
    }
    deps
}

#[test]
fn no_crate_depends_on_a_later_stage() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    for (stage, name) in PIPELINE.iter().enumerate() {
        let path = crates.join(name).join("Cargo.toml");
        let manifest = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("reading {}: {e}", path.display()));
        for dep in rdt_dependencies(&manifest) {
            let dep_stage = PIPELINE
                .iter()
                .position(|p| *p == dep)
                .unwrap_or(usize::MAX);
            assert!(
                dep_stage < stage,
                "{name} depends on {dep}, which is not earlier in the pipeline {PIPELINE:?}"
            );
        }
    }
}

#[test]
fn every_workspace_crate_has_a_place_in_the_pipeline() {
    let crates = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut found = 0;
    for entry in std::fs::read_dir(&crates).expect("the workspace's crates directory") {
        let entry = entry.expect("a crates directory entry");
        if !entry.path().join("Cargo.toml").is_file() {
            continue;
        }
        let name = entry.file_name().to_string_lossy().into_owned();
        assert!(
            PIPELINE.contains(&name.as_str()),
            "crates/{name} is missing from PIPELINE in {}",
            file!()
        );
        found += 1;
    }
    assert_eq!(found, PIPELINE.len());
}

#[test]
fn the_runtime_does_not_depend_on_the_checker() {
    let manifest = include_str!("../../rdt-runtime/Cargo.toml");
    let deps = rdt_dependencies(manifest);
    assert!(deps.contains(&"rdt-types".to_string()), "{deps:?}");
    assert!(!deps.contains(&"rdt-sema".to_string()), "{deps:?}");
}
