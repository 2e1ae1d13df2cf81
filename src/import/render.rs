//! The render step of the importer: a `helm template` command run on the chart with values
//! files (`CMD… CHART --namespace NS -f values.yaml [--skip-schema-validation]`). It is a trait
//! so the discovery logic can be tested without Helm.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_yaml::Value;

use super::chart::TempDir;
use super::error::ImportError;

/// Renders a chart with values; Err holds the command's message (a render error).
pub trait Renderer {
    fn render(
        &self,
        chart: &Path,
        namespace: &str,
        values: &Value,
        skip_schema_validation: bool,
    ) -> Result<String, String>;
}

/// An external `helm template`-like command (`--helm "CMD ARGS"`, split on whitespace).
pub struct HelmCommand {
    pub argv: Vec<String>,
    tmp: TempDir,
}

impl HelmCommand {
    pub fn new(spec: &str) -> Result<HelmCommand, ImportError> {
        let argv: Vec<String> = spec.split_whitespace().map(str::to_string).collect();
        if argv.is_empty() {
            return Err(ImportError::Usage("--helm is empty".into()));
        }
        Ok(HelmCommand {
            argv,
            tmp: TempDir::new("render")?,
        })
    }
}

impl Renderer for HelmCommand {
    fn render(
        &self,
        chart: &Path,
        namespace: &str,
        values: &Value,
        skip_schema_validation: bool,
    ) -> Result<String, String> {
        let file: PathBuf = self.tmp.0.join("values.yaml");
        let text = serde_yaml::to_string(values).map_err(|e| e.to_string())?;
        std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..])
            .arg(chart)
            .arg("--namespace")
            .arg(namespace)
            .arg("-f")
            .arg(&file);
        if skip_schema_validation {
            cmd.arg("--skip-schema-validation");
        }
        let out = cmd
            .output()
            .map_err(|e| format!("cannot run `{}`: {e}", self.argv.join(" ")))?;
        if out.status.success() {
            String::from_utf8(out.stdout).map_err(|_| "the render is not UTF-8".to_string())
        } else {
            let err = String::from_utf8_lossy(&out.stderr);
            let first = err
                .lines()
                .find(|l| !l.trim().is_empty())
                .unwrap_or("failed without a message");
            Err(first.trim().to_string())
        }
    }
}
