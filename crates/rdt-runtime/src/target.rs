//! The traced process: a command (`-c`) or a running process (`-p`).
//!
//! A `-c` command is forked before the script is compiled, so its pid is known to the script
//! (`cpid`, D's `$target`), and held before `exec` until every probe is attached: nothing it
//! does is missed.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

#[derive(Debug)]
pub enum Target {
    None,
    /// `-c CMD`, forked and waiting.
    Command(PausedChild),
    /// `-p PID`.
    Pid(u32),
}

impl Target {
    /// The pid the script sees as `cpid` / `$target`.
    pub fn pid(&self) -> Option<u32> {
        match self {
            Target::None => None,
            Target::Command(c) => Some(c.pid),
            Target::Pid(p) => Some(*p),
        }
    }
}

/// A forked child blocked on a pipe before `exec`.
#[derive(Debug)]
pub struct PausedChild {
    pub pid: u32,
    release: Option<OwnedFd>,
    reaped: bool,
}

/// That `program` names an executable file, directly or through `$PATH` (as execvp looks).
fn check_runnable(program: &str) -> io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let is_executable = |p: &std::path::Path| {
        std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
    };
    if program.contains('/') {
        let path = std::path::Path::new(program);
        if !path.exists() {
            return Err(io::Error::new(io::ErrorKind::NotFound, "no such file"));
        }
        if !is_executable(path) {
            return Err(io::Error::new(
                io::ErrorKind::PermissionDenied,
                "not an executable file",
            ));
        }
        return Ok(());
    }
    let path = std::env::var_os("PATH").unwrap_or_else(|| "/usr/bin:/bin".into());
    if std::env::split_paths(&path).any(|dir| is_executable(&dir.join(program))) {
        return Ok(());
    }
    Err(io::Error::new(
        io::ErrorKind::NotFound,
        "no such program in $PATH",
    ))
}

impl PausedChild {
    /// Forks; the child waits for [`PausedChild::release`], then execs `words` (PATH-resolved).
    pub fn spawn(words: &[String]) -> io::Result<PausedChild> {
        let args: Vec<CString> = words
            .iter()
            .map(|w| {
                CString::new(w.as_bytes())
                    .map_err(|_| io::Error::new(io::ErrorKind::InvalidInput, "NUL in the command"))
            })
            .collect::<io::Result<_>>()?;
        if args.is_empty() {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                "the command is empty",
            ));
        }
        // Found before forking: a failed exec in the child could only say so on its stderr.
        check_runnable(&words[0])?;
        let mut argv: Vec<*const libc::c_char> = args.iter().map(|a| a.as_ptr()).collect();
        argv.push(std::ptr::null());
        let failed = CString::new(format!("rdt: cannot run `{}`\n", words[0])).unwrap_or_default();
        let mut fds = [0; 2];
        // SAFETY: pipe2 fills two fds.
        if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
            return Err(io::Error::last_os_error());
        }
        let (read_end, write_end) =
            unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
        // SAFETY: the child only calls async-signal-safe functions (close, read, execvp, write, _exit).
        let pid = unsafe { libc::fork() };
        if pid < 0 {
            return Err(io::Error::last_os_error());
        }
        if pid == 0 {
            unsafe {
                libc::close(write_end.as_raw_fd());
                let mut byte = 0u8;
                let n = libc::read(read_end.as_raw_fd(), (&mut byte as *mut u8).cast(), 1);
                if n != 1 {
                    libc::_exit(1);
                }
                libc::execvp(argv[0], argv.as_ptr());
                libc::write(2, failed.as_ptr().cast(), failed.as_bytes().len());
                libc::_exit(127);
            }
        }
        drop(read_end);
        Ok(PausedChild {
            pid: pid as u32,
            release: Some(write_end),
            reaped: false,
        })
    }

    /// Lets the child exec.
    pub fn release(&mut self) {
        if let Some(fd) = self.release.take() {
            // SAFETY: writing one byte to our pipe.
            unsafe { libc::write(fd.as_raw_fd(), [1u8].as_ptr().cast(), 1) };
        }
    }

    /// True once the child has exited (and reaps it).
    pub fn exited(&mut self) -> bool {
        if self.reaped {
            return true;
        }
        let mut status = 0;
        // SAFETY: waitpid on our own child.
        let r = unsafe { libc::waitpid(self.pid as libc::pid_t, &mut status, libc::WNOHANG) };
        self.reaped = r == self.pid as libc::pid_t || r < 0;
        self.reaped
    }

    /// Asks a still-running child to stop and reaps it.
    pub fn finish(&mut self) {
        if !self.exited() {
            // SAFETY: signalling and reaping our own child.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGTERM);
                libc::waitpid(self.pid as libc::pid_t, std::ptr::null_mut(), 0);
            }
            self.reaped = true;
        }
    }
}

impl Drop for PausedChild {
    fn drop(&mut self) {
        if self.release.is_some() {
            // Never released (rdt failed before attaching): the child must not run untraced.
            self.release.take();
            unsafe { libc::kill(self.pid as libc::pid_t, libc::SIGKILL) };
        }
        self.finish();
    }
}

/// Splits a `-c` command line into words the way a shell would for simple commands: whitespace
/// separates, single and double quotes group, backslash escapes.
pub fn split_command(line: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut chars = line.chars();
    let mut quote: Option<char> = None;
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('"') | None, '\\') => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
                in_word = true;
            }
            (Some(_), c) => word.push(c),
            (None, '\'' | '"') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err("unterminated quote in the command".to_string());
    }
    if in_word {
        words.push(word);
    }
    if words.is_empty() {
        return Err("the command is empty".to_string());
    }
    Ok(words)
}

/// A pidfd that becomes readable when the process exits.
pub fn pidfd(pid: u32) -> io::Result<OwnedFd> {
    // SAFETY: pidfd_open returns a new fd or -1.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid as libc::pid_t, 0) };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(unsafe { OwnedFd::from_raw_fd(fd as i32) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_like_a_shell() {
        assert_eq!(
            split_command("cat /etc/hostname").unwrap(),
            vec!["cat", "/etc/hostname"]
        );
        assert_eq!(
            split_command("sh -c 'echo a  b'").unwrap(),
            vec!["sh", "-c", "echo a  b"]
        );
        assert_eq!(
            split_command(r#"echo "x y" z\ w ''"#).unwrap(),
            vec!["echo", "x y", "z w", ""]
        );
        assert!(split_command("echo 'oops").is_err());
        assert!(split_command("   ").is_err());
    }

    #[test]
    fn a_paused_child_runs_only_when_released() {
        let mut child = PausedChild::spawn(&["true".to_string()]).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(!child.exited(), "the child ran before it was released");
        child.release();
        for _ in 0..200 {
            if child.exited() {
                return;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        panic!("the released child did not exit");
    }
}
