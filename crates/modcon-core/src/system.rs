//! Facts about the process from the operating system: whose account runs
//! it and on which host. The audit log and the purge lock record them.

/// The account name of the process's (real) user id, from the system's
/// user database (`getpwuid_r`, so safe beside the console's threads).
/// `None` when the id has no entry (a container started with a bare uid).
#[cfg(unix)]
pub fn os_account() -> Option<String> {
    let uid = nix::unistd::getuid();
    match nix::unistd::User::from_uid(uid) {
        Ok(Some(user)) if !user.name.is_empty() => Some(user.name),
        _ => None,
    }
}

#[cfg(not(unix))]
pub fn os_account() -> Option<String> {
    std::env::var("USERNAME").ok().filter(|n| !n.is_empty())
}

/// The account that runs the process, for the audit log: its name, or
/// `uid N` when the user id has no name.
pub fn os_account_or_uid() -> Option<String> {
    os_account().or_else(|| os_uid().map(|uid| format!("uid {uid}")))
}

/// The process's real user id, to name an account that has no name.
#[cfg(unix)]
pub fn os_uid() -> Option<u32> {
    Some(nix::unistd::getuid().as_raw())
}

#[cfg(not(unix))]
pub fn os_uid() -> Option<u32> {
    None
}

/// The machine's host name, or `unknown-host` when the system has none.
pub fn host_name() -> String {
    #[cfg(unix)]
    let name = nix::unistd::gethostname()
        .ok()
        .and_then(|n| n.into_string().ok());
    #[cfg(not(unix))]
    let name = std::env::var("COMPUTERNAME").ok();
    name.filter(|n| !n.is_empty())
        .unwrap_or_else(|| "unknown-host".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn the_account_is_the_one_id_names_for_our_uid() {
        // `id -un` asks the same user database by another road.
        let id = std::process::Command::new("id")
            .arg("-un")
            .output()
            .unwrap();
        let expected = String::from_utf8(id.stdout).unwrap().trim().to_string();
        assert_eq!(os_account().as_deref(), Some(expected.as_str()));
        assert!(!host_name().is_empty());
    }
}
