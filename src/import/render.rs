//! The render step of the importer: a `helm template` command run on the chart with values
//! files (`CMD… CHART --namespace NS -f values.yaml [--skip-schema-validation]`). It is a trait
//! so the discovery logic can be tested without Helm.

use std::path::Path;
use std::process::Command;

use serde_yaml::Value;

use super::error::ImportError;
use crate::disk::temp::TempDir;

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
        let tmp = TempDir::new("render").map_err(|e| ImportError::io(&TempDir::base(), e))?;
        Ok(HelmCommand { argv, tmp })
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
        let file = self.tmp.path().join(VALUES);
        let text = serde_yaml::to_string(values).map_err(|e| e.to_string())?;
        // Created anew for each render (exclusively, never through a link) in the private
        // folder, and removed once the command has read it.
        self.tmp
            .write_new(VALUES, text.as_bytes())
            .map_err(|e| format!("{}: {e}", file.display()))?;
        let out = self.run(chart, namespace, &file, skip_schema_validation);
        self.tmp
            .remove(VALUES)
            .map_err(|e| format!("{}: {e}", file.display()))?;
        out
    }
}

/// The values file a render reads, in the command's private temp folder.
const VALUES: &str = "values.yaml";

impl HelmCommand {
    fn run(
        &self,
        chart: &Path,
        namespace: &str,
        file: &Path,
        skip_schema_validation: bool,
    ) -> Result<String, String> {
        let mut cmd = Command::new(&self.argv[0]);
        cmd.args(&self.argv[1..])
            .arg(chart)
            .arg("--namespace")
            .arg(namespace)
            .arg("-f")
            .arg(file);
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    /// A stand-in for helm that prints the values file it was given, its content and its
    /// folder's mode.
    fn script(at: &Path) -> String {
        let path = at.join("helm");
        std::fs::write(
            &path,
            "#!/bin/sh\nwhile [ \"$1\" != -f ]; do shift; done\n\
             echo \"$2\"; cat \"$2\"; stat -c %a \"$(dirname \"$2\")\"\n",
        )
        .unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        path.display().to_string()
    }

    #[test]
    fn values_go_to_a_fresh_private_folder_never_through_a_planted_link() {
        let d = tempfile::tempdir().unwrap();
        // What another local user could plant where the old importer wrote: its folder name
        // for this process, holding a link to a file of the importing user's.
        let victim = d.path().join("victim");
        std::fs::write(&victim, "keep").unwrap();
        let pid = std::process::id();
        let planted = std::env::temp_dir().join(format!("deploygen-render-{pid}-0"));
        std::fs::create_dir_all(&planted).unwrap();
        let _ = symlink(&victim, planted.join("values.yaml"));

        let helm = HelmCommand::new(&script(d.path())).unwrap();
        let values: Value = serde_yaml::from_str("a: 1").unwrap();
        for _ in 0..2 {
            let out = helm.render(d.path(), "ns", &values, false).unwrap();
            let lines: Vec<&str> = out.lines().collect();
            let file = Path::new(lines[0]);
            assert_eq!(file, helm.tmp.path().join(VALUES));
            assert_eq!(lines[1..], ["a: 1", "700"]);
            assert!(!file.exists(), "removed once read");
        }
        assert!(helm.tmp.path() != planted);
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "keep");
        let _ = std::fs::remove_dir_all(&planted);
        let other = HelmCommand::new("true").unwrap();
        assert_ne!(other.tmp.path(), helm.tmp.path(), "never reused");
    }

    #[test]
    fn a_failed_render_gives_the_first_line_of_its_message_and_still_removes_the_values() {
        let d = tempfile::tempdir().unwrap();
        let path = d.path().join("fail");
        std::fs::write(&path, "#!/bin/sh\necho >&2\necho '  oops  ' >&2\nexit 1\n").unwrap();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        let helm = HelmCommand::new(path.to_str().unwrap()).unwrap();
        let e = helm.render(d.path(), "ns", &Value::Null, true).unwrap_err();
        assert_eq!(e, "oops");
        assert!(!helm.tmp.path().join(VALUES).exists());
        assert!(HelmCommand::new(" ").is_err());
    }
}
