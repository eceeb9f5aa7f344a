//! The media root: where attachment files and their thumbnails live, and
//! the guard that keeps every file operation inside it.

use std::collections::{HashMap, HashSet};
use std::fs;
use std::io::ErrorKind;
use std::path::{Component, Path, PathBuf};

use anyhow::{Context, Result, bail};

/// Where the web app uploads attachments, relative to the media root.
pub const ATTACHMENT_DIR: &str = "forum/attachments";
/// Where thumbnail renditions live: `CACHE/images/<image without extension>/`.
pub const THUMBNAIL_DIR: &str = "CACHE/images";

/// A media root, resolved once (symlinks followed) so every path inside it
/// is compared against the real location, component by component.
#[derive(Debug, Clone)]
pub struct MediaRoot {
    real: PathBuf,
}

/// Folders already judged during one scan. Never kept between operations:
/// a purge judges every path afresh, just before touching it.
#[derive(Debug, Default)]
pub struct DirCache(HashMap<PathBuf, Result<(), String>>);

/// What became of one file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FileStatus {
    /// Inside the root and present.
    Present(PathBuf),
    /// Inside the root, not on disk.
    Missing,
    /// Leaves the root (absolute, `..`, a symlink leading out) or is
    /// otherwise not a plain path: never touched.
    Refused(String),
}

/// The result of removing an attachment's file and its thumbnails.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removal {
    pub removed: bool,
    pub missing: bool,
    pub refused: Option<String>,
    pub thumbnails: u64,
    /// The thumbnail folder (relative to the root) and why it was not
    /// touched, when it is there but leads outside the root.
    pub thumbnails_refused: Option<(String, String)>,
}

impl MediaRoot {
    pub fn open(path: &Path) -> Result<MediaRoot> {
        let meta = fs::metadata(path)
            .with_context(|| format!("media root {} not found", path.display()))?;
        if !meta.is_dir() {
            bail!("media root {} is not a directory", path.display());
        }
        let real = fs::canonicalize(path)
            .with_context(|| format!("cannot resolve media root {}", path.display()))?;
        Ok(MediaRoot { real })
    }

    /// Resolves a path stored in the database to a path inside the root,
    /// or says why it is refused. Only plain relative components are
    /// accepted, and the deepest existing part must resolve inside the root.
    pub fn resolve(&self, relative: &str) -> Result<PathBuf, String> {
        self.resolve_in(relative, &mut DirCache::default())
    }

    /// [`resolve`](Self::resolve), remembering the verdict on each folder
    /// for the length of one scan (`check` looks at every row's file).
    pub fn resolve_in(&self, relative: &str, cache: &mut DirCache) -> Result<PathBuf, String> {
        if relative.is_empty() {
            return Err("empty path".into());
        }
        if relative.contains('\0') {
            return Err("path contains a NUL byte".into());
        }
        let rel = Path::new(relative);
        for component in rel.components() {
            match component {
                Component::Normal(_) | Component::CurDir => {}
                Component::ParentDir => return Err("'..' would leave the media root".into()),
                Component::RootDir | Component::Prefix(_) => {
                    return Err("absolute path, outside the media root".into());
                }
            }
        }
        let joined = self.real.join(rel);
        if let Some(parent) = joined.parent() {
            let verdict = match cache.0.get(parent) {
                Some(v) => v.clone(),
                None => {
                    let v = self.inside(parent);
                    cache.0.insert(parent.to_path_buf(), v.clone());
                    v
                }
            };
            verdict?;
        }
        // The folder is inside; the name itself may still be a symlink out.
        if fs::symlink_metadata(&joined).is_ok_and(|m| m.file_type().is_symlink()) {
            self.inside(&joined)?;
        }
        Ok(joined)
    }

    /// Whether `path`'s deepest existing part resolves inside the root.
    fn inside(&self, path: &Path) -> Result<(), String> {
        let mut existing = path;
        while fs::symlink_metadata(existing).is_err() {
            match existing.parent() {
                Some(parent) => existing = parent,
                None => return Err("no part of the path exists".into()),
            }
        }
        let real = fs::canonicalize(existing)
            .map_err(|_| "a symlink on the path leads nowhere".to_string())?;
        if !real.starts_with(&self.real) {
            return Err("a symlink on the path leads outside the media root".into());
        }
        Ok(())
    }

    /// Where an image's thumbnails live, relative to the root.
    pub fn thumbnail_dir_of(image: &str) -> String {
        let path = Path::new(image);
        let stem = match (path.parent(), path.file_stem()) {
            (Some(parent), Some(stem)) => parent.join(stem),
            _ => PathBuf::from(image),
        };
        format!("{THUMBNAIL_DIR}/{}", stem.to_string_lossy())
    }

    pub fn status(&self, image: &str) -> FileStatus {
        self.status_in(image, &mut DirCache::default())
    }

    pub fn status_in(&self, image: &str, cache: &mut DirCache) -> FileStatus {
        match self.resolve_in(image, cache) {
            Err(reason) => FileStatus::Refused(reason),
            Ok(path) => match fs::symlink_metadata(&path) {
                Ok(meta) if meta.is_dir() => {
                    FileStatus::Refused("names a directory, not a file".into())
                }
                Ok(_) => FileStatus::Present(path),
                Err(_) => FileStatus::Missing,
            },
        }
    }

    /// Removes an attachment's original file and its thumbnail folder.
    /// Refused paths are never touched; a missing file is not an error.
    pub fn remove_image(&self, image: &str) -> Result<Removal> {
        let mut removal = Removal::default();
        match self.status(image) {
            FileStatus::Refused(reason) => {
                removal.refused = Some(reason);
                return Ok(removal);
            }
            FileStatus::Missing => removal.missing = true,
            FileStatus::Present(path) => match fs::remove_file(&path) {
                Ok(()) => removal.removed = true,
                Err(e) if e.kind() == ErrorKind::NotFound => removal.missing = true,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove {}", path.display()));
                }
            },
        }
        let thumbs = Self::thumbnail_dir_of(image);
        let dir = match self.resolve(&thumbs) {
            Ok(dir) => Some(dir),
            Err(reason) => {
                // Never touched; reported when something is there.
                if fs::symlink_metadata(self.real.join(&thumbs)).is_ok() {
                    removal.thumbnails_refused = Some((thumbs.clone(), reason));
                }
                None
            }
        };
        if let Some(dir) = dir
            && let Ok(meta) = fs::symlink_metadata(&dir)
            && meta.is_dir()
        {
            removal.thumbnails = count_files(&dir);
            match fs::remove_dir_all(&dir) {
                Ok(()) => {}
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot remove {}", dir.display()));
                }
            }
        }
        Ok(removal)
    }

    /// Files under the attachment folder that no row names, and thumbnail
    /// files whose image no row names; both relative to the root.
    pub fn unreferenced(&self, images: &HashSet<String>) -> (Vec<String>, Vec<String>) {
        let mut files = Vec::new();
        walk(&self.real.join(ATTACHMENT_DIR), &self.real, &mut files);
        files.retain(|f| !images.contains(f));
        files.sort();
        let stems: HashSet<String> = images.iter().map(|i| Self::thumbnail_dir_of(i)).collect();
        let mut thumbs = Vec::new();
        walk(&self.real.join(THUMBNAIL_DIR), &self.real, &mut thumbs);
        thumbs.retain(|t| {
            Path::new(t)
                .parent()
                .map(|dir| !stems.contains(dir.to_string_lossy().as_ref()))
                .unwrap_or(true)
        });
        thumbs.sort();
        (files, thumbs)
    }
}

fn count_files(dir: &Path) -> u64 {
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found.len() as u64
}

/// Every file below `dir` (symlinks not followed), relative to `base`.
fn walk(dir: &Path, base: &Path, out: &mut Vec<String>) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            walk(&path, base, out);
        } else if let Ok(rel) = path.strip_prefix(base) {
            out.push(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_paths_that_leave_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("media");
        let evil = dir.path().join("media-evil");
        fs::create_dir_all(root.join("forum/attachments")).unwrap();
        fs::create_dir_all(&evil).unwrap();
        fs::write(evil.join("x.png"), b"x").unwrap();
        std::os::unix::fs::symlink(&evil, root.join("forum/attachments/link")).unwrap();
        let media = MediaRoot::open(&root).unwrap();
        for bad in [
            "../media-evil/x.png",
            "../../etc/passwd",
            "/etc/passwd",
            "forum/../../media-evil/x.png",
            "forum/attachments/link/x.png",
            "",
        ] {
            assert!(
                matches!(media.status(bad), FileStatus::Refused(_)),
                "{bad:?}"
            );
        }
        assert_eq!(
            media.status("forum/attachments/none.png"),
            FileStatus::Missing
        );
        fs::write(root.join("forum/attachments/ok.png"), b"x").unwrap();
        assert!(matches!(
            media.status("forum/attachments/ok.png"),
            FileStatus::Present(_)
        ));
    }

    #[test]
    fn thumbnail_folder_drops_only_the_last_extension() {
        assert_eq!(
            MediaRoot::thumbnail_dir_of("forum/attachments/2026/05/21/plant.v224.final.png"),
            "CACHE/images/forum/attachments/2026/05/21/plant.v224.final"
        );
    }
}
