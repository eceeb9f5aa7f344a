//! The media root: where attachment files and their thumbnails live, and
//! the guard that keeps every file operation inside it.

use std::borrow::Cow;
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
    /// Rendition files removed from the image's own thumbnail folder.
    pub thumbnails: u64,
    /// Files that could not be removed (permissions, busy): relative path
    /// and the system's reason. They stay in the journal for a later run.
    pub failed: Vec<(String, String)>,
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

    /// Where an image's thumbnails live, relative to the root: see
    /// [`thumbnail_dir_of`].
    pub fn thumbnail_dir_of(image: &str) -> Option<String> {
        thumbnail_dir_of(image)
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

    /// Removes an attachment's original file and, with `thumbnails`, the
    /// rendition files directly inside its thumbnail folder (never a
    /// subfolder: an image named `forum/attachments.png` has the folder
    /// `CACHE/images/forum/attachments/`, where every other image's
    /// renditions live), then that folder when it is left empty. Refused
    /// paths are never touched; a missing file is not an error; a file that
    /// cannot be removed is listed in [`Removal::failed`] and the rest goes
    /// on. The caller decides whether a remaining row still needs either.
    ///
    /// `dirs` remembers the verdict on each folder for the length of one
    /// pass over the journal, so a folder is resolved once, not per file.
    pub fn remove_image(&self, image: &str, thumbnails: bool, dirs: &mut DirCache) -> Removal {
        let mut removal = Removal::default();
        match self.status_in(image, dirs) {
            FileStatus::Refused(reason) => {
                removal.refused = Some(reason);
                return removal;
            }
            FileStatus::Missing => removal.missing = true,
            FileStatus::Present(path) => match remove_file(&path) {
                Ok(()) => removal.removed = true,
                Err(e) if e.kind() == ErrorKind::NotFound => removal.missing = true,
                Err(e) => removal
                    .failed
                    .push((normalize(image).into_owned(), e.to_string())),
            },
        }
        if !thumbnails {
            return removal;
        }
        // No folder of its own (an image ending in `/`, `.` or `..`): nothing
        // there is this image's.
        let Some(thumbs) = thumbnail_dir_of(image) else {
            return removal;
        };
        let dir = match self.resolve_in(&thumbs, dirs) {
            Ok(dir) => dir,
            Err(reason) => {
                // Never touched; reported when something is there.
                if fs::symlink_metadata(self.real.join(&thumbs)).is_ok() {
                    removal.thumbnails_refused = Some((thumbs, reason));
                }
                return removal;
            }
        };
        let Ok(entries) = fs::read_dir(&dir) else {
            return removal;
        };
        for entry in entries.flatten() {
            // A subfolder belongs to other images; a symlink is removed as
            // the link itself, never what it points at.
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            if kind.is_dir() {
                continue;
            }
            match remove_file(&entry.path()) {
                Ok(()) => removal.thumbnails += 1,
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => removal.failed.push((
                    format!("{thumbs}/{}", entry.file_name().to_string_lossy()),
                    e.to_string(),
                )),
            }
        }
        // Only an empty folder goes: anything left is not ours to remove.
        let _ = fs::remove_dir(&dir);
        removal
    }

    /// Files under the attachment folder that no row names, and thumbnail
    /// files whose image no row names; both relative to the root. Row
    /// paths are compared normalised (`./a/b.png` is `a/b.png`).
    pub fn unreferenced(&self, images: &HashSet<String>) -> (Vec<String>, Vec<String>) {
        let names: HashSet<Cow<'_, str>> = images.iter().map(|i| normalize(i)).collect();
        let mut files = Vec::new();
        walk(&self.real.join(ATTACHMENT_DIR), &self.real, &mut files);
        files.retain(|f| !names.contains(f.as_str()));
        files.sort();
        let folders: HashSet<String> = images.iter().filter_map(|i| thumbnail_dir_of(i)).collect();
        let mut thumbs = Vec::new();
        walk(&self.real.join(THUMBNAIL_DIR), &self.real, &mut thumbs);
        thumbs.retain(|t| {
            Path::new(t)
                .parent()
                .map(|dir| !folders.contains(dir.to_string_lossy().as_ref()))
                .unwrap_or(true)
        });
        thumbs.sort();
        (files, thumbs)
    }

    /// The resolved media root, as purge and check report it.
    pub fn path(&self) -> &Path {
        &self.real
    }
}

/// One spelling of a stored path: empty and `.` components dropped, so
/// `./forum/a.png`, `forum//a.png` and `forum/a.png` are one file. A
/// leading `/` and `..` components are kept (such paths are refused, and
/// must stay recognisable as what they are). Borrowed when the stored
/// spelling is already the normal one, as nearly every path is.
pub fn normalize(image: &str) -> Cow<'_, str> {
    // Normal: no `.` component, and no empty one but the start of an
    // absolute path (or the empty path itself).
    let normal = image.split('/').enumerate().all(|(i, part)| {
        part != "." && (!part.is_empty() || image.is_empty() || (i == 0 && image.len() > 1))
    });
    if normal {
        return Cow::Borrowed(image);
    }
    let parts: Vec<&str> = image
        .split('/')
        .filter(|part| !part.is_empty() && *part != ".")
        .collect();
    let joined = parts.join("/");
    Cow::Owned(if image.starts_with('/') {
        format!("/{joined}")
    } else {
        joined
    })
}

/// A file name without its extension, as the web app's Python does it
/// (`os.path.splitext`): the last dot starts the extension, except dots
/// that lead the name (`.png` and `..png` have none).
fn strip_extension(name: &str) -> &str {
    let leading = name.len() - name.trim_start_matches('.').len();
    match name[leading..].rfind('.') {
        Some(dot) => &name[..leading + dot],
        None => name,
    }
}

/// Where an image's thumbnail renditions live, relative to the root:
/// `CACHE/images/<image without extension>`, normalised. `None` when the
/// image has no folder of its own: see [`thumbnail_key`].
pub fn thumbnail_dir_of(image: &str) -> Option<String> {
    thumbnail_key(image).map(|key| format!("{THUMBNAIL_DIR}/{key}"))
}

/// An image's thumbnail folder below `CACHE/images/`: its normalised path
/// without the extension (`photo.png` and `photo.jpg` share one). `None`
/// when the image has no folder of its own: its last component is empty,
/// `.` or `..` (the folder would be a parent, where other images'
/// renditions live), or the path is absolute or climbs with `..`.
pub fn thumbnail_key(image: &str) -> Option<Cow<'_, str>> {
    let last = image.rsplit('/').next().unwrap_or(image);
    if matches!(last, "" | "." | "..") || image.starts_with('/') {
        return None;
    }
    let name = normalize(image);
    if name.split('/').any(|part| part == "..") {
        return None;
    }
    // The normal form ends with the same last component.
    let cut = last.len() - strip_extension(last).len();
    Some(match name {
        Cow::Borrowed(name) => Cow::Borrowed(&name[..name.len() - cut]),
        Cow::Owned(mut name) => {
            name.truncate(name.len() - cut);
            Cow::Owned(name)
        }
    })
}

/// `fs::remove_file`, except where a test makes the file one that cannot
/// be removed: root may remove any file its permissions protect, so tests
/// that run as root name such files with the `remove-file` failpoint.
fn remove_file(path: &Path) -> std::io::Result<()> {
    if super::failpoint::refuses_removal(path) {
        // EACCES, as the system reports it.
        return Err(std::io::Error::from_raw_os_error(13));
    }
    fs::remove_file(path)
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
            MediaRoot::thumbnail_dir_of("forum/attachments/2026/05/21/plant.v224.final.png")
                .as_deref(),
            Some("CACHE/images/forum/attachments/2026/05/21/plant.v224.final")
        );
    }

    #[test]
    fn thumbnail_folders_follow_pythons_splitext_and_are_never_a_parent() {
        for (image, folder) in [
            ("photo.png", Some("CACHE/images/photo")),
            (
                "forum/attachments.png",
                Some("CACHE/images/forum/attachments"),
            ),
            ("forum/.png", Some("CACHE/images/forum/.png")),
            ("forum/..png", Some("CACHE/images/forum/..png")),
            ("forum/.a.png", Some("CACHE/images/forum/.a")),
            ("forum/photo.", Some("CACHE/images/forum/photo")),
            ("forum/...", Some("CACHE/images/forum/...")),
            ("./forum//a.png", Some("CACHE/images/forum/a")),
            ("forum/.", None),
            ("forum/..", None),
            ("forum/", None),
            ("", None),
            ("/etc/passwd.png", None),
            ("../media-evil/x.png", None),
        ] {
            assert_eq!(thumbnail_dir_of(image).as_deref(), folder, "{image:?}");
        }
    }

    #[test]
    fn paths_normalise_to_one_spelling() {
        for (image, normal) in [
            ("forum/a.png", "forum/a.png"),
            ("./forum/a.png", "forum/a.png"),
            ("forum//a.png", "forum/a.png"),
            ("forum/./a.png", "forum/a.png"),
            ("forum/a.png/", "forum/a.png"),
            ("/etc/passwd", "/etc/passwd"),
            ("//etc//passwd", "/etc/passwd"),
            ("../x.png", "../x.png"),
            ("", ""),
        ] {
            assert_eq!(normalize(image), normal, "{image:?}");
        }
        assert!(matches!(normalize("forum/a.png"), Cow::Borrowed(_)));
    }
}
