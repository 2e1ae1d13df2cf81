//! Reading an upstream chart as `helm pull` leaves it (a folder, or a `.tgz`): Chart.yaml facts,
//! and every values key the chart has (values.yaml, values.schema.json properties, `.Values.a.b`
//! paths its templates read).
//!
//! A chart is read once, through the disk layer: a folder by a bounded walk that refuses links
//! (`disk::walk`: a link could lead out of the chart or round in a loop), an archive unpacked
//! in memory within caps (`disk::archive`: a tar bomb stops at the cap). What was read is
//! written into a private temp folder (`disk::temp`), and that copy is what `helm template`
//! renders: Helm sees exactly the files deploygen checked, never a link it would follow.

use std::collections::{BTreeMap, BTreeSet};
use std::io;
use std::path::{Path, PathBuf};

use serde_yaml::Value;

use super::error::ImportError;
use crate::base::sha256;
use crate::disk::dir::Dir;
use crate::disk::temp::TempDir;
use crate::disk::{archive, walk};

/// A chart as read: its files, and the private copy Helm renders (removed on drop).
pub struct ChartDir {
    /// The private copy `helm template` renders.
    pub root: PathBuf,
    /// Where the chart was read from, for messages (`x.tgz/<chart>` inside an archive).
    pub label: PathBuf,
    /// Every file, by `/`-separated path relative to the chart's folder.
    pub files: BTreeMap<String, Vec<u8>>,
    /// The archive's digest (`sha256:<hex>`) when the chart came as a `.tgz`: the catalog
    /// records it, and `vendor` places only an archive with that digest.
    pub digest: Option<String>,
    _tmp: TempDir,
}

fn refused(path: &Path, message: impl ToString) -> ImportError {
    ImportError::Chart {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

/// Reads a chart folder or a `.tgz` (bounded, no links) and writes the private copy.
pub fn open(path: &Path) -> Result<ChartDir, ImportError> {
    let (label, files, digest) = match Dir::open(path) {
        Ok(dir) => {
            let files = walk::read_tree(&dir, &walk::FOLDER).map_err(|e| refused(path, e))?;
            (path.to_path_buf(), files, None)
        }
        Err(e) if e.kind() == io::ErrorKind::NotADirectory => archive_files(path)?,
        Err(e) => return Err(ImportError::io(path, e)),
    };
    if !files.contains_key("Chart.yaml") {
        return Err(refused(path, "holds no Chart.yaml (is it a chart folder?)"));
    }
    let tmp = TempDir::new("chart").map_err(|e| ImportError::io(&TempDir::base(), e))?;
    for (rel, bytes) in &files {
        tmp.write_new(rel, bytes)
            .map_err(|e| ImportError::io(&tmp.path().join(rel), e))?;
    }
    Ok(ChartDir {
        root: tmp.path().to_path_buf(),
        label,
        files,
        digest,
        _tmp: tmp,
    })
}

type Read = (PathBuf, BTreeMap<String, Vec<u8>>, Option<String>);

/// The files of the one chart in a `.tgz` (`helm package` puts it in a folder named after
/// it), with the archive's digest.
fn archive_files(path: &Path) -> Result<Read, ImportError> {
    let (parent, name) = crate::disk::dir::folder_and_name(path)
        .ok_or_else(|| refused(path, "is not a file name deploygen can open"))?;
    let bytes = Dir::open(parent)
        .and_then(|d| d.read(name, archive::LIMITS.compressed))
        .map_err(|e| ImportError::io(path, e))?;
    let all = archive::unpack(&bytes, &archive::LIMITS).map_err(|e| refused(path, e))?;
    let tops: BTreeSet<&str> = all
        .keys()
        .filter_map(|k| k.strip_suffix("/Chart.yaml"))
        .filter(|top| !top.contains('/'))
        .collect();
    let [top] = tops.into_iter().collect::<Vec<_>>()[..] else {
        return Err(refused(
            path,
            "the archive holds no single <chart>/Chart.yaml",
        ));
    };
    let prefix = format!("{top}/");
    let files = all
        .iter()
        .filter_map(|(k, v)| Some((k.strip_prefix(&prefix)?.to_string(), v.clone())))
        .collect();
    Ok((path.join(top), files, Some(sha256::digest(&bytes))))
}

/// What Chart.yaml says.
#[derive(Debug, Clone, Default)]
pub struct ChartFacts {
    pub name: String,
    pub version: String,
    pub app_version: Option<String>,
    pub kube_version: Option<String>,
    /// `name version (repository)` of each dependency.
    pub dependencies: Vec<String>,
}

/// A file of the chart as text; `None` when the chart has no such file.
fn text<'a>(chart: &'a ChartDir, rel: &str) -> Result<Option<&'a str>, ImportError> {
    let Some(bytes) = chart.files.get(rel) else {
        return Ok(None);
    };
    std::str::from_utf8(bytes)
        .map(Some)
        .map_err(|_| refused(&chart.label.join(rel), "is not UTF-8"))
}

fn read_yaml(chart: &ChartDir, rel: &str) -> Result<Option<Value>, ImportError> {
    let path = chart.label.join(rel);
    let Some(text) = text(chart, rel)? else {
        return Ok(None);
    };
    // The YAML door's pre-scan first (depth, tags, one document: the YAML library is
    // quadratic in nesting), then the library; an empty values.yaml is allowed (null).
    let label = path.display().to_string();
    let (text, scan) =
        crate::model::input::precheck_as(&label, text.as_bytes(), &crate::model::kind::CHART_FILE)
            .map_err(|e| ImportError::Chart {
                path: path.clone(),
                message: e.to_string(),
            })?;
    serde_yaml::from_str(text)
        .map(Some)
        .map_err(|e| ImportError::Chart {
            path,
            message: crate::model::yaml::problem(&label, text, &scan, &e).message,
        })
}

pub fn facts(chart: &ChartDir) -> Result<ChartFacts, ImportError> {
    let path = chart.label.join("Chart.yaml");
    let v = read_yaml(chart, "Chart.yaml")?.unwrap_or_default();
    let s = |k: &str| {
        v.get(k).and_then(|x| match x {
            Value::String(s) => Some(s.trim().to_string()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
    };
    let name = s("name").ok_or_else(|| ImportError::Chart {
        path: path.clone(),
        message: "has no `name`".into(),
    })?;
    let version = s("version").ok_or_else(|| ImportError::Chart {
        path: path.clone(),
        message: "has no `version`".into(),
    })?;
    let dependencies = v
        .get("dependencies")
        .and_then(Value::as_sequence)
        .into_iter()
        .flatten()
        .map(|d| {
            let f = |k: &str| d.get(k).and_then(Value::as_str).unwrap_or("?").to_string();
            format!("{} {} ({})", f("name"), f("version"), f("repository"))
        })
        .collect();
    Ok(ChartFacts {
        name,
        version,
        app_version: s("appVersion"),
        kube_version: s("kubeVersion"),
        dependencies,
    })
}

/// The chart's default values (values.yaml; empty when absent).
pub fn default_values(chart: &ChartDir) -> Result<Value, ImportError> {
    match read_yaml(chart, "values.yaml")? {
        None | Some(Value::Null) => Ok(Value::Mapping(Default::default())),
        Some(v) => Ok(v),
    }
}

/// Every key path of a values tree (intermediate maps too), with leaves' values.
pub fn value_keys(v: &Value, prefix: &str, out: &mut Vec<(String, Option<Value>)>) {
    let Some(m) = v.as_mapping() else { return };
    for (k, child) in m {
        let Some(k) = key_str(k) else { continue };
        let path = join(prefix, &k);
        if child.is_mapping() && !child.as_mapping().is_some_and(|m| m.is_empty()) {
            out.push((path.clone(), None));
            value_keys(child, &path, out);
        } else {
            out.push((path, Some(child.clone())));
        }
    }
}

fn key_str(k: &Value) -> Option<String> {
    match k {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn join(prefix: &str, k: &str) -> String {
    if prefix.is_empty() {
        k.to_string()
    } else {
        format!("{prefix}.{k}")
    }
}

/// Property paths of values.schema.json (through `properties`, not `$ref`s).
pub fn schema_keys(chart: &ChartDir) -> Result<BTreeSet<String>, ImportError> {
    let mut out = BTreeSet::new();
    let Some(text) = text(chart, "values.schema.json")? else {
        return Ok(out);
    };
    let json: serde_json::Value = serde_json::from_str(text).map_err(|e| ImportError::Chart {
        path: chart.label.join("values.schema.json"),
        message: format!("is not JSON: {e}"),
    })?;
    let defs = json
        .get("$defs")
        .or_else(|| json.get("definitions"))
        .cloned()
        .unwrap_or_default();
    schema_walk(&json, "", &defs, &mut out, 0);
    Ok(out)
}

fn schema_walk(
    node: &serde_json::Value,
    prefix: &str,
    defs: &serde_json::Value,
    out: &mut BTreeSet<String>,
    depth: usize,
) {
    if depth > 24 {
        return;
    }
    // Follow local `$ref`s (`#/$defs/x`), as cert-manager's schema is built from them.
    if let Some(r) = node.get("$ref").and_then(serde_json::Value::as_str) {
        let name = r.rsplit('/').next().unwrap_or("");
        if let Some(target) = defs.get(name) {
            schema_walk(target, prefix, defs, out, depth + 1);
        }
    }
    for combinator in ["allOf", "anyOf", "oneOf"] {
        for sub in node
            .get(combinator)
            .and_then(serde_json::Value::as_array)
            .into_iter()
            .flatten()
        {
            schema_walk(sub, prefix, defs, out, depth + 1);
        }
    }
    if let Some(props) = node
        .get("properties")
        .and_then(serde_json::Value::as_object)
    {
        for (k, child) in props {
            let path = join(prefix, k);
            out.insert(path.clone());
            schema_walk(child, &path, defs, out, depth + 1);
        }
    }
}

/// `.Values.a.b.c` paths the templates read (every prefix counts as a key too).
pub fn template_keys(chart: &ChartDir) -> Result<BTreeSet<String>, ImportError> {
    let mut out = BTreeSet::new();
    let templates = chart
        .files
        .iter()
        .filter(|(rel, _)| rel.starts_with("templates/"));
    for (_, bytes) in templates {
        // A file that is not text (an image a chart ships) reads no values.
        let Ok(text) = std::str::from_utf8(bytes) else {
            continue;
        };
        let mut rest = text;
        while let Some(i) = rest.find(".Values.") {
            rest = &rest[i + ".Values.".len()..];
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-'))
                .unwrap_or(rest.len());
            let path = rest[..end].trim_end_matches('.');
            let mut acc = String::new();
            for seg in path.split('.').filter(|s| !s.is_empty()) {
                acc = join(&acc, seg);
                out.insert(acc.clone());
            }
        }
    }
    Ok(out)
}

/// Sets `path` (dotted) in a values tree, creating maps on the way.
pub fn set_path(root: &mut Value, path: &str, value: Value) {
    let mut node = root;
    let parts: Vec<&str> = path.split('.').collect();
    for (i, part) in parts.iter().enumerate() {
        if !node.is_mapping() {
            *node = Value::Mapping(Default::default());
        }
        let Some(m) = node.as_mapping_mut() else {
            return;
        };
        let key = Value::String((*part).to_string());
        if i + 1 == parts.len() {
            m.insert(key, value);
            return;
        }
        node = m
            .entry(key)
            .or_insert_with(|| Value::Mapping(Default::default()));
    }
}
/// `s` with the old version written as the new one (with and without a leading v).
pub(crate) fn subst(s: &str, old: &str, new: &str) -> String {
    let bare = |v: &str| v.strip_prefix('v').unwrap_or(v).to_string();
    let out = s.replace(old, new);
    if bare(old) != old {
        out
    } else {
        out.replace(&format!("v{}", bare(old)), &format!("v{}", bare(new)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::os::unix::fs::{symlink, PermissionsExt};

    fn write(at: &Path, rel: &str, bytes: &[u8]) {
        let p = at.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, bytes).unwrap();
    }

    /// A small chart folder: Chart.yaml, values.yaml, a template in a subfolder.
    fn folder(at: &Path) {
        write(
            at,
            "Chart.yaml",
            b"apiVersion: v2\nname: c\nversion: 1.0.0\n",
        );
        write(at, "values.yaml", b"image: {tag: x}\n");
        write(
            at,
            "templates/sub/d.yaml",
            b"image: {{ .Values.image.tag }}\n",
        );
    }

    /// A gzip tar of `(path, bytes)` files.
    fn tgz(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut b = tar::Builder::new(Vec::new());
        for (path, bytes) in files {
            let mut h = tar::Header::new_gnu();
            h.set_size(bytes.len() as u64);
            h.set_mode(0o644);
            b.append_data(&mut h, path, *bytes).unwrap();
        }
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&b.into_inner().unwrap()).unwrap();
        e.finish().unwrap()
    }

    fn refusal(path: &Path) -> String {
        match open(path) {
            Err(ImportError::Chart { path: at, message }) => {
                assert_eq!(at, path);
                message
            }
            Err(e) => panic!("{e}"),
            Ok(_) => panic!("{} opened", path.display()),
        }
    }

    #[test]
    fn a_folder_is_read_whole_and_helm_gets_a_private_copy_of_exactly_that() {
        let d = tempfile::tempdir().unwrap();
        folder(d.path());
        let c = open(d.path()).unwrap();
        assert_eq!(c.label, d.path());
        assert_eq!(c.digest, None);
        assert_ne!(c.root, d.path());
        let mode = std::fs::metadata(&c.root).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o700);
        let names: Vec<&str> = c.files.keys().map(String::as_str).collect();
        assert_eq!(names, ["Chart.yaml", "templates/sub/d.yaml", "values.yaml"]);
        for (rel, bytes) in &c.files {
            assert_eq!(&std::fs::read(c.root.join(rel)).unwrap(), bytes, "{rel}");
        }
        let root = c.root.clone();
        drop(c);
        assert!(!root.exists(), "the copy goes with the chart");
    }

    #[test]
    fn an_archive_is_unpacked_in_memory_its_chart_folder_only_with_its_digest() {
        let d = tempfile::tempdir().unwrap();
        let bytes = tgz(&[
            ("c/Chart.yaml", b"name: c\nversion: 1.0.0\n"),
            ("c/templates/t.yaml", b"{{ .Values.a.b }}"),
            ("README.md", b"beside the chart"),
        ]);
        let at = d.path().join("c-1.0.0.tgz");
        std::fs::write(&at, &bytes).unwrap();
        let c = open(&at).unwrap();
        assert_eq!(c.label, at.join("c"));
        assert_eq!(c.digest, Some(format!("sha256:{}", sha256::hex(&bytes))));
        let names: Vec<&str> = c.files.keys().map(String::as_str).collect();
        assert_eq!(names, ["Chart.yaml", "templates/t.yaml"]);
        assert!(c.root.join("templates/t.yaml").is_file());
        assert!(!c.root.join("README.md").exists());
        assert_eq!(facts(&c).unwrap().name, "c");
        assert_eq!(
            template_keys(&c).unwrap().into_iter().collect::<Vec<_>>(),
            ["a", "a.b"]
        );
    }

    #[test]
    fn an_archive_with_no_single_chart_folder_is_refused() {
        let d = tempfile::tempdir().unwrap();
        let at = d.path().join("x.tgz");
        for files in [
            vec![
                ("a/Chart.yaml", &b"name: a"[..]),
                ("b/Chart.yaml", b"name: b"),
            ],
            vec![("Chart.yaml", b"name: flat")],
            vec![("a/b/Chart.yaml", b"name: deep")],
        ] {
            std::fs::write(&at, tgz(&files)).unwrap();
            assert_eq!(
                refusal(&at),
                "the archive holds no single <chart>/Chart.yaml",
                "{files:?}"
            );
        }
    }

    #[test]
    fn a_link_loop_in_templates_is_refused_at_once_by_name() {
        let d = tempfile::tempdir().unwrap();
        folder(d.path());
        symlink("..", d.path().join("templates/loop")).unwrap();
        let m = refusal(d.path());
        assert!(m.starts_with("`templates/loop` is a symbolic link"), "{m}");
    }

    #[test]
    fn a_link_out_of_the_chart_is_refused_and_never_read() {
        let d = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        write(outside.path(), "id_rsa", b"PRIVATE KEY");
        folder(d.path());
        symlink(
            outside.path().join("id_rsa"),
            d.path().join("templates/key.yaml"),
        )
        .unwrap();
        let m = refusal(d.path());
        assert!(m.contains("`templates/key.yaml` is a symbolic link"), "{m}");
        assert!(!m.contains("PRIVATE"), "{m}");
    }

    #[test]
    fn a_tar_bomb_is_refused_at_the_unpacked_cap() {
        let d = tempfile::tempdir().unwrap();
        let at = d.path().join("bomb.tgz");
        // Five 14 MiB files of zeros: 70 MiB unpacked, each under the one-entry cap.
        let zeros = vec![0u8; 14 << 20];
        let names: Vec<String> = (0..5).map(|i| format!("c/z{i}")).collect();
        let mut files: Vec<(&str, &[u8])> = vec![("c/Chart.yaml", b"name: c")];
        files.extend(names.iter().map(|n| (n.as_str(), zeros.as_slice())));
        std::fs::write(&at, tgz(&files)).unwrap();
        assert_eq!(
            refusal(&at),
            archive::ArchiveError::Unpacked(archive::LIMITS.unpacked).to_string()
        );
    }

    #[test]
    fn a_folder_without_chart_yaml_a_pipe_a_link_and_a_missing_path_are_refused() {
        let d = tempfile::tempdir().unwrap();
        write(d.path(), "values.yaml", b"a: 1");
        assert_eq!(
            refusal(d.path()),
            "holds no Chart.yaml (is it a chart folder?)"
        );
        let fifo = d.path().join("pipe.tgz");
        let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid C string.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
        let e = open(&fifo).err().unwrap().to_string();
        assert!(e.contains("not a regular file"), "{e}");
        let real = d.path().join("real.tgz");
        std::fs::write(&real, tgz(&[("c/Chart.yaml", b"name: c")])).unwrap();
        symlink(&real, d.path().join("link.tgz")).unwrap();
        let e = open(&d.path().join("link.tgz")).err().unwrap().to_string();
        assert!(e.contains("symbolic link"), "{e}");
        assert!(matches!(
            open(&d.path().join("missing")),
            Err(ImportError::Io { .. })
        ));
        // A path the user names may go through links, but one that loops is an error of
        // its own (not taken for an archive).
        symlink("self", d.path().join("self")).unwrap();
        match open(&d.path().join("self")) {
            Err(ImportError::Io { source, .. }) => {
                assert_eq!(source.raw_os_error(), Some(libc::ELOOP), "{source}")
            }
            other => panic!("{:?}", other.err()),
        }
    }

    #[test]
    fn schema_keys_are_read_from_the_charts_values_schema_json() {
        let d = tempfile::tempdir().unwrap();
        folder(d.path());
        write(
            d.path(),
            "values.schema.json",
            br##"{"properties": {"a": {"$ref": "#/$defs/A"}, "b": {"allOf": [{"properties": {"c": {}}}]}},
                "$defs": {"A": {"properties": {"x": {}}}}}"##,
        );
        let c = open(d.path()).unwrap();
        let keys: Vec<String> = schema_keys(&c).unwrap().into_iter().collect();
        assert_eq!(keys, ["a", "a.x", "b", "b.c"]);
        write(d.path(), "values.schema.json", b"{");
        let c = open(d.path()).unwrap();
        match schema_keys(&c) {
            Err(ImportError::Chart { path, message }) => {
                assert_eq!(path, d.path().join("values.schema.json"));
                assert!(message.starts_with("is not JSON: "), "{message}");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn text_that_is_not_utf8_is_named_or_skipped_in_templates() {
        let d = tempfile::tempdir().unwrap();
        folder(d.path());
        write(d.path(), "templates/logo.png", b"\xff\xfe .Values.no");
        write(d.path(), "files/x.txt", b".Values.not.a.template");
        let c = open(d.path()).unwrap();
        let keys: Vec<String> = template_keys(&c).unwrap().into_iter().collect();
        assert_eq!(keys, ["image", "image.tag"]);
        write(d.path(), "values.yaml", b"\xff");
        let c = open(d.path()).unwrap();
        match default_values(&c) {
            Err(ImportError::Chart { path, message }) => {
                assert_eq!(path, d.path().join("values.yaml"));
                assert_eq!(message, "is not UTF-8");
            }
            other => panic!("{other:?}"),
        }
        std::fs::remove_file(d.path().join("values.yaml")).unwrap();
        let c = open(d.path()).unwrap();
        assert_eq!(
            default_values(&c).unwrap(),
            Value::Mapping(Default::default())
        );
        assert!(schema_keys(&c).unwrap().is_empty());
    }
}
