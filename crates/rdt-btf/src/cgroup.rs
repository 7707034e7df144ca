//! cgroup v2 facts: the id `cgroupid("/sys/fs/cgroup/…")` compiles to, and where cgroup2 is
//! mounted.

const CGROUP2_SUPER_MAGIC: i64 = 0x6367_7270;

/// Where cgroup2 is mounted, from `/proc/self/mountinfo`.
pub fn cgroup2_mount() -> Option<String> {
    let info = std::fs::read_to_string("/proc/self/mountinfo").ok()?;
    info.lines().find_map(|line| {
        let (left, right) = line.split_once(" - ")?;
        (right.split_whitespace().next()? == "cgroup2")
            .then(|| left.split_whitespace().nth(4).map(str::to_string))?
    })
}

/// The id of a cgroup: the inode number of its directory on a cgroup2 file system.
pub fn cgroup_inode(path: &str) -> Result<u64, String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).map_err(|e| e.to_string())?;
    if !meta.is_dir() {
        return Err("not a directory".into());
    }
    let c_path = std::ffi::CString::new(path).map_err(|e| e.to_string())?;
    // SAFETY: statfs fills the struct it is given from a NUL-terminated path.
    let mut fs: libc::statfs = unsafe { std::mem::zeroed() };
    if unsafe { libc::statfs(c_path.as_ptr(), &mut fs) } != 0 {
        return Err(std::io::Error::last_os_error().to_string());
    }
    if fs.f_type as i64 != CGROUP2_SUPER_MAGIC {
        return Err("not on a cgroup2 file system".into());
    }
    Ok(meta.ino())
}
