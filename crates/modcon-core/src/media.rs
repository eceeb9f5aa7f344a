//! The media root: where attachment files and their thumbnails live, and
//! the guard that keeps every file operation inside it.

use std::borrow::Cow;
use std::collections::HashMap;

use foldhash::HashMapExt;
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
        // `.` and the like name the root itself.
        if normalize(relative).is_empty() {
            return Err("names a directory, not a file".into());
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
        self.take_image(image, thumbnails, dirs, true)
    }

    /// What [`MediaRoot::remove_image`] would remove, counted and nothing
    /// touched (a purge's dry run): the same paths judged the same way.
    pub fn count_image(&self, image: &str, thumbnails: bool, dirs: &mut DirCache) -> Removal {
        self.take_image(image, thumbnails, dirs, false)
    }

    /// Removes (or, unless `remove`, only counts) an image's files.
    fn take_image(
        &self,
        image: &str,
        thumbnails: bool,
        dirs: &mut DirCache,
        remove: bool,
    ) -> Removal {
        let remove_file = |path: &Path| if remove { remove_file(path) } else { Ok(()) };
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
        if remove {
            let _ = fs::remove_dir(&dir);
        }
        removal
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
    // absolute path (or the empty path itself). Byte by byte: `check`
    // meets this once per row.
    let b = image.as_bytes();
    let mut normal = true;
    let mut start = 0;
    for i in 0..=b.len() {
        if i < b.len() && b[i] != b'/' {
            continue;
        }
        let part = &b[start..i];
        let absolute_start = start == 0 && i == 0 && b.len() > 1;
        if part == b"." || (part.is_empty() && !absolute_start && !b.is_empty()) {
            normal = false;
            break;
        }
        start = i + 1;
    }
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
    match normalize(image) {
        Cow::Borrowed(name) => thumbnail_key_of(image, name).map(Cow::Borrowed),
        Cow::Owned(name) => thumbnail_key_of(image, &name).map(|key| Cow::Owned(key.to_string())),
    }
}

/// [`thumbnail_key`] of `image` from its normal form `name` (computed
/// once by the caller), borrowed from it.
fn thumbnail_key_of<'n>(image: &str, name: &'n str) -> Option<&'n str> {
    let last = last_slash(image).map_or(image, |slash| &image[slash + 1..]);
    if matches!(last, "" | "." | "..") || image.starts_with('/') || climbs(name) {
        return None;
    }
    let cut = last.len() - strip_extension(last).len();
    Some(&name[..name.len() - cut])
}

/// Where the last `/` is (a plain byte search: paths are ASCII-heavy and
/// checked a million times).
fn last_slash(path: &str) -> Option<usize> {
    path.bytes().rposition(|b| b == b'/')
}

/// A path with a `..` component (looked for only when it has `..` at all).
fn climbs(path: &str) -> bool {
    path.contains("..") && path.split('/').any(|part| part == "..")
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

/// What a folder entry is (symlinks not followed).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum EntryKind {
    File,
    Dir,
    Symlink,
}

/// One folder of the media root, read once. (Its maps, like the
/// listing's, hash with foldhash: a million lookups per check.)
#[derive(Debug)]
struct Folder {
    /// Each entry: what it is, and whether some row names it.
    entries: foldhash::HashMap<String, (EntryKind, bool)>,
    /// Below the attachment folder: walked whole, so its files count as
    /// unreferenced when no row names them.
    walked: bool,
}

/// A folder a row's path goes through: whether it resolves inside the
/// root, and what it holds (`None`: not there, or not readable).
#[derive(Debug)]
struct Place {
    verdict: Result<(), String>,
    folder: Option<Folder>,
}

/// The media root as `check` reads it: each folder read once (the
/// attachment and thumbnail folders whole, any other a row names when
/// first met), so a million rows cost a million lookups in memory, not a
/// million calls to the filesystem. It answers what [`MediaRoot::status`]
/// would for each path, and remembers which files and thumbnail folders
/// some row uses.
pub struct Listing<'a> {
    root: &'a MediaRoot,
    /// By folder, relative to the root (`""` is the root itself).
    places: foldhash::HashMap<String, Place>,
    /// The thumbnail folders (below `CACHE/images/`), each with the files
    /// directly in it and whether some row's image maps to it.
    thumbnails: foldhash::HashMap<String, (Vec<String>, bool)>,
}

impl<'a> Listing<'a> {
    /// Reads the attachment and thumbnail folders whole. `folders_read`
    /// is called as they are read (a count, for progress).
    pub fn read(root: &'a MediaRoot, folders_read: &mut dyn FnMut(u64)) -> Listing<'a> {
        let mut listing = Listing {
            root,
            places: foldhash::HashMap::new(),
            thumbnails: foldhash::HashMap::new(),
        };
        let mut count = 0;
        listing.walk(ATTACHMENT_DIR.to_string(), &mut count, folders_read);
        listing.walk_thumbnails(String::new(), &mut count, folders_read);
        listing
    }

    fn walk(&mut self, rel: String, count: &mut u64, folders_read: &mut dyn FnMut(u64)) {
        let Some(folder) = self.read_folder(&rel, true) else {
            return;
        };
        tick(count, folders_read);
        let subfolders: Vec<String> = folder
            .entries
            .iter()
            .filter(|(_, (kind, _))| *kind == EntryKind::Dir)
            .map(|(name, _)| format!("{rel}/{name}"))
            .collect();
        // Reached without following a symlink, so inside the root.
        self.places.insert(
            rel,
            Place {
                verdict: Ok(()),
                folder: Some(folder),
            },
        );
        for sub in subfolders {
            self.walk(sub, count, folders_read);
        }
    }

    /// Every folder below `CACHE/images/`, by its key (the folder relative
    /// to `CACHE/images/`), with the files directly in it.
    fn walk_thumbnails(&mut self, key: String, count: &mut u64, folders_read: &mut dyn FnMut(u64)) {
        let rel = if key.is_empty() {
            THUMBNAIL_DIR.to_string()
        } else {
            format!("{THUMBNAIL_DIR}/{key}")
        };
        let Some(folder) = self.read_folder(&rel, true) else {
            return;
        };
        tick(count, folders_read);
        let mut files = Vec::new();
        let mut subfolders = Vec::new();
        for (name, (kind, _)) in folder.entries {
            let sub = if key.is_empty() {
                name
            } else {
                format!("{key}/{name}")
            };
            if kind == EntryKind::Dir {
                subfolders.push(sub);
            } else {
                files.push(sub);
            }
        }
        self.thumbnails.insert(key, (files, false));
        for sub in subfolders {
            self.walk_thumbnails(sub, count, folders_read);
        }
    }

    fn read_folder(&self, rel: &str, walked: bool) -> Option<Folder> {
        let entries = fs::read_dir(self.root.real.join(rel)).ok()?;
        let mut folder = Folder {
            entries: foldhash::HashMap::new(),
            walked,
        };
        for entry in entries.flatten() {
            let Ok(kind) = entry.file_type() else {
                continue;
            };
            let kind = if kind.is_symlink() {
                EntryKind::Symlink
            } else if kind.is_dir() {
                EntryKind::Dir
            } else {
                EntryKind::File
            };
            folder.entries.insert(
                entry.file_name().to_string_lossy().into_owned(),
                (kind, false),
            );
        }
        Some(folder)
    }

    /// What [`MediaRoot::status`] says of a stored path, from the folders
    /// read; the file is remembered as used by a row, and so is the image's
    /// thumbnail folder.
    pub fn status(&mut self, image: &str) -> FileStatus {
        let name = normalize(image);
        if let Some(key) = thumbnail_key_of(image, &name)
            && let Some((_, used)) = self.thumbnails.get_mut(key)
        {
            *used = true;
        }
        if image.is_empty() {
            return FileStatus::Refused("empty path".into());
        }
        if image.contains('\0') {
            return FileStatus::Refused("path contains a NUL byte".into());
        }
        if name.starts_with('/') {
            return FileStatus::Refused("absolute path, outside the media root".into());
        }
        if climbs(&name) {
            return FileStatus::Refused("'..' would leave the media root".into());
        }
        if name.is_empty() {
            return FileStatus::Refused("names a directory, not a file".into());
        }
        let (parent, file) = match last_slash(&name) {
            Some(slash) => (&name[..slash], &name[slash + 1..]),
            None => ("", name.as_ref()),
        };
        if !self.places.contains_key(parent) {
            let verdict = self.root.inside(&self.root.real.join(parent));
            let folder = match verdict {
                Ok(()) => self.read_folder(parent, false),
                Err(_) => None,
            };
            self.places
                .insert(parent.to_string(), Place { verdict, folder });
        }
        let Some(place) = self.places.get_mut(parent) else {
            return FileStatus::Missing;
        };
        if let Err(reason) = &place.verdict {
            return FileStatus::Refused(reason.clone());
        }
        let Some((kind, used)) = place.folder.as_mut().and_then(|f| f.entries.get_mut(file)) else {
            return FileStatus::Missing;
        };
        *used = true;
        let path = self.root.real.join(name.as_ref());
        match kind {
            EntryKind::File => FileStatus::Present(path),
            EntryKind::Dir => FileStatus::Refused("names a directory, not a file".into()),
            // The name itself may lead out.
            EntryKind::Symlink => match self.root.inside(&path) {
                Ok(()) => FileStatus::Present(path),
                Err(reason) => FileStatus::Refused(reason),
            },
        }
    }

    /// Files under the attachment folder that no row names, and thumbnail
    /// files in folders no row's image maps to; both relative to the root,
    /// sorted. Meaningful once every row's path went through [`status`].
    ///
    /// [`status`]: Listing::status
    pub fn unreferenced(&self) -> (Vec<String>, Vec<String>) {
        let mut files = Vec::new();
        for (rel, place) in &self.places {
            let Some(folder) = place.folder.as_ref().filter(|f| f.walked) else {
                continue;
            };
            for (name, (kind, used)) in &folder.entries {
                if *kind != EntryKind::Dir && !*used {
                    files.push(format!("{rel}/{name}"));
                }
            }
        }
        let mut thumbs: Vec<String> = self
            .thumbnails
            .values()
            .filter(|(_, used)| !used)
            .flat_map(|(files, _)| files.iter().map(|f| format!("{THUMBNAIL_DIR}/{f}")))
            .collect();
        files.sort_unstable();
        thumbs.sort_unstable();
        (files, thumbs)
    }
}

fn tick(count: &mut u64, folders_read: &mut dyn FnMut(u64)) {
    *count += 1;
    if count.is_multiple_of(256) {
        folders_read(*count);
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
    fn a_listing_answers_for_every_path_as_status_does() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("media");
        let outside = dir.path().join("outside");
        fs::create_dir_all(root.join("forum/attachments/2026/01")).unwrap();
        fs::create_dir_all(root.join("avatars")).unwrap();
        fs::create_dir_all(root.join("CACHE/images/forum/attachments/2026/01/a")).unwrap();
        fs::create_dir_all(&outside).unwrap();
        for file in [
            "forum/attachments/2026/01/a.png",
            "forum/attachments/2026/01/b.png",
            "avatars/me.png",
            "CACHE/images/forum/attachments/2026/01/a/thumb.jpg",
        ] {
            fs::write(root.join(file), b"x").unwrap();
        }
        fs::write(outside.join("secret.png"), b"x").unwrap();
        fs::create_dir_all(root.join("forum/attachments/2026/01/folder.png")).unwrap();
        let link =
            |target: &Path, at: &str| std::os::unix::fs::symlink(target, root.join(at)).unwrap();
        link(&outside, "forum/attachments/out");
        link(
            &outside.join("secret.png"),
            "forum/attachments/2026/01/out.png",
        );
        link(
            &root.join("avatars/me.png"),
            "forum/attachments/2026/01/in.png",
        );
        link(
            &dir.path().join("nowhere.png"),
            "forum/attachments/2026/01/dangling.png",
        );
        let media = MediaRoot::open(&root).unwrap();
        let paths = [
            "forum/attachments/2026/01/a.png",
            "./forum/attachments/2026/01/a.png",
            "forum//attachments/2026/01/b.png",
            "forum/attachments/2026/01/none.png",
            "forum/attachments/2026/02/none.png",
            "forum/attachments/2026/01/folder.png",
            "forum/attachments/2026/01/",
            "forum/attachments/out/secret.png",
            "forum/attachments/2026/01/out.png",
            "forum/attachments/2026/01/in.png",
            "forum/attachments/2026/01/dangling.png",
            "avatars/me.png",
            "avatars/none.png",
            "elsewhere/x/y.png",
            "../outside/secret.png",
            "forum/../../outside/secret.png",
            "/etc/passwd",
            "",
            ".",
            "nul\0.png",
        ];
        let mut listing = Listing::read(&media, &mut |_| {});
        for path in paths {
            assert_eq!(listing.status(path), media.status(path), "{path:?}");
        }
        let (files, thumbs) = listing.unreferenced();
        // A symlink no row names counts as a file; folders and the files
        // rows name (a dangling link included) do not.
        assert_eq!(files, ["forum/attachments/out"]);
        assert!(
            thumbs.is_empty(),
            "a.png's thumbnail folder is used: {thumbs:?}"
        );
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
