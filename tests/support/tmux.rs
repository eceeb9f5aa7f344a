//! The real binary in a real terminal: started inside a tmux server of
//! its own, driven with send-keys, read with capture-pane.
//!
//! Every read of the screen waits for the screen to settle into the state
//! the test expects (see [`Tmux::wait_until`]): the console draws each
//! frame as a stream of changed cells, so a single capture can catch a
//! frame half drawn, or a dialog still appearing over the one before it.

use std::process::Command;

use super::waiting::wait_until;

pub struct Tmux {
    socket: String,
    /// The binary's HOME: no config or data of the person running the tests.
    _home: tempfile::TempDir,
}

impl Tmux {
    /// Runs `args` of the binary (after `prefix`, e.g. environment
    /// settings) in a new tmux server of its own, on a `width`x`height`
    /// terminal, in a clean environment (no MODCON_* variables, HOME and
    /// the config folder in a temporary folder), as the other tests run the
    /// binary. Fails when tmux is not installed (CI installs it: see
    /// .ci/run): the suite never skips a test silently.
    pub fn start(name: &str, prefix: &str, args: &str, width: u16, height: u16) -> Tmux {
        if Command::new("tmux").arg("-V").output().is_err() {
            panic!("{name}: tmux is not installed; the console's end-to-end tests need it");
        }
        let bin = env!("CARGO_BIN_EXE_modcon");
        let home = tempfile::tempdir().unwrap();
        let cleared: String = super::CLEARED_VARIABLES
            .iter()
            .map(|var| format!("-u {var} "))
            .collect();
        // A UTF-8 locale unless the test says otherwise: the console draws
        // ASCII only on other terminals. The shell stays a while after the
        // binary exits, so its exit status can be read off the screen.
        let command = format!(
            "env {cleared}HOME='{home}' XDG_CONFIG_HOME='{home}/.config' LANG=C.UTF-8 {prefix} \
             {bin} {args}; echo EXITED $?; sleep 600",
            home = home.path().display()
        );
        let tmux = Tmux {
            socket: format!("modcon-{name}-{}", std::process::id()),
            _home: home,
        };
        let (w, h) = (width.to_string(), height.to_string());
        tmux.run(&[
            "new-session",
            "-d",
            "-s",
            "console",
            "-x",
            &w,
            "-y",
            &h,
            &command,
        ]);
        tmux
    }

    /// The console as a moderator starts it (`--actor e2e`, the demo's
    /// clock) on a new demo database, which comes back with it.
    pub fn console_on_demo(
        name: &str,
        prefix: &str,
        width: u16,
        height: u16,
    ) -> (super::Demo, Tmux) {
        let demo = super::demo(5, 1);
        let args = format!(
            "--db {} --now '{}' --actor e2e",
            demo.db.display(),
            super::DEMO_NOW
        );
        let tmux = Tmux::start(name, prefix, &args, width, height);
        (demo, tmux)
    }

    pub fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    fn capture(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", "console"])
    }

    /// Waits until the screen is settled in a state where `expected` holds,
    /// and returns that screen: `expected` must hold on two captures in a
    /// row that show the same screen, so a frame still being drawn (or a
    /// state the console only passes through) is never taken for the state.
    /// Fails, with the last screen, only if the console never gets there.
    pub fn wait_until(&self, what: &str, expected: impl Fn(&str) -> bool) -> String {
        let mut last: Option<String> = None;
        wait_until(format!("the screen to show {what}"), || {
            let screen = self.capture();
            let settled = expected(&screen) && last.as_deref() == Some(screen.as_str());
            if settled {
                return Ok(screen);
            }
            last = Some(screen.clone());
            Err(screen)
        })
    }

    /// Waits until the screen shows every one of `shown` and none of
    /// `hidden` (see [`Tmux::wait_until`]).
    pub fn wait_for_screen(&self, shown: &[&str], hidden: &[&str]) -> String {
        self.wait_until(
            &format!("all of {shown:?} and none of {hidden:?}"),
            |screen| {
                shown.iter().all(|t| screen.contains(t))
                    && !hidden.iter().any(|t| screen.contains(t))
            },
        )
    }

    /// Waits until the screen shows every one of `texts` at once.
    pub fn wait_for_all(&self, texts: &[&str]) -> String {
        self.wait_for_screen(texts, &[])
    }

    /// Waits until the screen shows `text`.
    pub fn wait_for(&self, text: &str) -> String {
        self.wait_for_all(&[text])
    }

    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", "console"];
        args.extend_from_slice(keys);
        self.run(&args);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .arg("kill-server")
            .output();
    }
}
