// Shared by build.rs (through #[path]) and the renderer, so the build-time parse check and the
// run-time renderer read templates with the same delimiters.
//
// Helm and helmfile templates use `{{ }}`; our templates produce them. Tripled delimiters (as
// cargo-dist does for GitHub YAML) let every `{{ .Values.x }}` pass through untouched.

pub const BLOCK: (&str, &str) = ("{{%", "%}}");
pub const VARIABLE: (&str, &str) = ("{{{", "}}}");
pub const COMMENT: (&str, &str) = ("{{#", "#}}");

pub fn syntax_config() -> minijinja::syntax::SyntaxConfig {
    minijinja::syntax::SyntaxConfig::builder()
        .block_delimiters(BLOCK.0, BLOCK.1)
        .variable_delimiters(VARIABLE.0, VARIABLE.1)
        .comment_delimiters(COMMENT.0, COMMENT.1)
        .build()
        // Cannot fail: the delimiters are constants, distinct and non-empty (build.rs would
        // already have failed the build with the same call).
        .expect("the delimiters above are distinct and non-empty")
}
