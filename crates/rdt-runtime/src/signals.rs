//! SIGINT, SIGTERM and SIGCHLD delivered through a signalfd, so the event loop can poll them with
//! the ring buffer instead of racing a handler.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};

pub struct SignalFd {
    fd: OwnedFd,
    old_mask: libc::sigset_t,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Signal {
    Stop,
    Child,
    Other,
}

impl SignalFd {
    pub fn new() -> io::Result<SignalFd> {
        // SAFETY: plain libc calls on locally owned sigset_t values.
        unsafe {
            let mut mask: libc::sigset_t = std::mem::zeroed();
            let mut old_mask: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut mask);
            for s in [libc::SIGINT, libc::SIGTERM, libc::SIGCHLD] {
                libc::sigaddset(&mut mask, s);
            }
            if libc::sigprocmask(libc::SIG_BLOCK, &mask, &mut old_mask) != 0 {
                return Err(io::Error::last_os_error());
            }
            let fd = libc::signalfd(-1, &mask, libc::SFD_CLOEXEC | libc::SFD_NONBLOCK);
            if fd < 0 {
                return Err(io::Error::last_os_error());
            }
            Ok(SignalFd {
                fd: OwnedFd::from_raw_fd(fd),
                old_mask,
            })
        }
    }

    /// Reads every pending signal.
    pub fn read(&self) -> Vec<Signal> {
        let mut out = Vec::new();
        loop {
            // SAFETY: signalfd_siginfo is plain data; read writes at most its size.
            let mut info: libc::signalfd_siginfo = unsafe { std::mem::zeroed() };
            let size = std::mem::size_of::<libc::signalfd_siginfo>();
            let n = unsafe {
                libc::read(
                    self.fd.as_raw_fd(),
                    (&mut info as *mut libc::signalfd_siginfo).cast(),
                    size,
                )
            };
            if n != size as isize {
                break;
            }
            out.push(match info.ssi_signo as i32 {
                libc::SIGINT | libc::SIGTERM => Signal::Stop,
                libc::SIGCHLD => Signal::Child,
                _ => Signal::Other,
            });
        }
        out
    }

    pub fn raw_fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }
}

impl Drop for SignalFd {
    fn drop(&mut self) {
        // SAFETY: restores the mask saved in new().
        unsafe {
            libc::sigprocmask(libc::SIG_SETMASK, &self.old_mask, std::ptr::null_mut());
        }
    }
}
