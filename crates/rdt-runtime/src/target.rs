//! The traced process: a command started after the probes attach (`-c`), or a running one (`-p`).

use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::process::{Child, Command};

#[derive(Debug, Clone, Default)]
pub enum Target {
    #[default]
    None,
    /// `-c CMD`: the words of the command line.
    Command(Vec<String>),
    /// `-p PID`.
    Pid(u32),
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
            (Some('"'), '\\') | (None, '\\') => {
                if let Some(n) = chars.next() {
                    word.push(n);
                }
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
        if quote.is_some() || !word.is_empty() {
            in_word = true;
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

/// Starts the command with the signal mask rdt had before blocking its own signals.
pub fn spawn(words: &[String], mask: libc::sigset_t) -> io::Result<Child> {
    let mut cmd = Command::new(&words[0]);
    cmd.args(&words[1..]);
    // SAFETY: only async-signal-safe calls between fork and exec.
    unsafe {
        cmd.pre_exec(move || {
            if libc::sigprocmask(libc::SIG_SETMASK, &mask, std::ptr::null_mut()) != 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
    cmd.spawn()
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
        assert_eq!(split_command("cat /etc/hostname").unwrap(), vec!["cat", "/etc/hostname"]);
        assert_eq!(split_command("sh -c 'echo a  b'").unwrap(), vec!["sh", "-c", "echo a  b"]);
        assert_eq!(split_command(r#"echo "x y" z\ w ''"#).unwrap(), vec!["echo", "x y", "z w", ""]);
        assert!(split_command("echo 'oops").is_err());
        assert!(split_command("   ").is_err());
    }
}
