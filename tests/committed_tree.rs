//! The tree committed next to the generator is exactly what the generator renders from the
//! committed matrix (the typos/cargo-dist pattern: generated output is checked in and
//! verified). If this fails, run `cargo run -- render` and commit the result.

mod common;

use common::{repo_root, MATRIX};

#[test]
fn committed_tree_is_current() {
    let tree = deploygen::render("matrix.yaml", MATRIX.as_bytes()).unwrap();
    let root = repo_root();
    let diff = deploygen::disk::diff(&root, &tree).unwrap();
    assert!(
        diff.is_empty(),
        "the committed tree is stale; run `cargo run -- render`:\n{diff}"
    );
}

#[test]
fn committed_schema_matches_the_matrix_types() {
    let on_disk = std::fs::read_to_string(repo_root().join("matrix.schema.json")).unwrap();
    assert_eq!(on_disk, deploygen::model::matrix::json_schema());
    assert!(MATRIX.starts_with("# yaml-language-server: $schema=./matrix.schema.json\n"));
}
