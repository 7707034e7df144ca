//! Facts about the machine rdt runs on, read once per run: CPU counts from sysfs and the clocks
//! at start. The command line takes one [`Machine`] and hands it to every stage that needs it, so
//! `ncpus`, per-CPU map sizes, `elapsed` and `walltimestamp` all agree.

use std::io;

const POSSIBLE: &str = "/sys/devices/system/cpu/possible";
const ONLINE: &str = "/sys/devices/system/cpu/online";

/// The machine as rdt found it when it started.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Machine {
    /// CPUs the kernel may ever bring up: the number of slots in a per-CPU map value.
    pub possible_cpus: u32,
    /// CPUs online at start (bpftrace's `ncpus`).
    pub online_cpus: u32,
    /// `CLOCK_MONOTONIC` at start, the zero of `elapsed` (BPF's `ktime_get_ns` runs on it).
    pub mono_ns: u64,
    /// `CLOCK_REALTIME` at the same instant, so `walltimestamp` = nsecs + real_ns - mono_ns.
    pub real_ns: u64,
}

impl Default for Machine {
    /// One CPU and clocks at zero: what tests and tools that never run a program can use.
    fn default() -> Self {
        Machine {
            possible_cpus: 1,
            online_cpus: 1,
            mono_ns: 0,
            real_ns: 0,
        }
    }
}

impl Machine {
    /// Reads the CPU lists and both clocks now. A CPU list that cannot be read or parsed counts
    /// as one CPU (sysfs is always there on Linux; this keeps a broken /sys from being fatal).
    pub fn now() -> Machine {
        let possible_cpus = possible_cpus().unwrap_or(1);
        let online_cpus = online_cpu_ids().map_or(1, |ids| ids.len() as u32);
        let mono_ns = clock_ns(libc::CLOCK_MONOTONIC);
        let real_ns = clock_ns(libc::CLOCK_REALTIME);
        Machine {
            possible_cpus,
            online_cpus: online_cpus.clamp(1, possible_cpus.max(1)),
            mono_ns,
            real_ns,
        }
    }

    /// Nanoseconds to add to `CLOCK_MONOTONIC` to get the time since the epoch.
    pub fn realtime_offset_ns(&self) -> u64 {
        self.real_ns.saturating_sub(self.mono_ns)
    }
}

/// The number of possible CPUs (`/sys/devices/system/cpu/possible`).
pub fn possible_cpus() -> io::Result<u32> {
    let text = std::fs::read_to_string(POSSIBLE)?;
    count_cpus(&text).ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidData,
            format!("cannot parse possible CPUs {:?}", text.trim()),
        )
    })
}

/// The CPUs listed in `/sys/devices/system/cpu/online`, or `None` when it cannot be read.
pub fn online_cpu_ids() -> Option<Vec<u32>> {
    cpu_ids(&online_cpu_list()?)
}

/// `/sys/devices/system/cpu/online` as the kernel writes it (`0-1`), for reports.
pub fn online_cpu_list() -> Option<String> {
    std::fs::read_to_string(ONLINE)
        .ok()
        .map(|text| text.trim().to_string())
}

/// Counts the CPUs in a kernel CPU list such as `0-1` or `0,2-5`.
pub fn count_cpus(text: &str) -> Option<u32> {
    cpu_ids(text).and_then(|ids| u32::try_from(ids.len()).ok())
}

/// The CPU numbers of a sysfs CPU list such as `0-3,6`; `None` when malformed or empty.
pub fn cpu_ids(text: &str) -> Option<Vec<u32>> {
    let mut ids = Vec::new();
    for part in text.trim().split(',').filter(|p| !p.is_empty()) {
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (a.trim().parse::<u32>().ok()?, b.trim().parse::<u32>().ok()?),
            None => {
                let n = part.trim().parse::<u32>().ok()?;
                (n, n)
            }
        };
        // The kernel's NR_CPUS is at most 8192; a larger id is garbage, not a CPU to count.
        if last < first || last >= 1 << 16 {
            return None;
        }
        ids.extend(first..=last);
    }
    (!ids.is_empty()).then_some(ids)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    // SAFETY: clock_gettime writes the timespec it is given.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts.tv_sec as u64 * 1_000_000_000 + ts.tv_nsec as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_lists() {
        assert_eq!(count_cpus("0-1\n"), Some(2));
        assert_eq!(count_cpus("0"), Some(1));
        assert_eq!(count_cpus("0,2-5"), Some(5));
        assert_eq!(count_cpus("0-3,8-11\n"), Some(8));
        assert_eq!(cpu_ids("0,2-3"), Some(vec![0, 2, 3]));
        assert_eq!(count_cpus(""), None);
        assert_eq!(count_cpus("x"), None);
    }

    #[test]
    fn malformed_ranges_are_none_not_a_panic() {
        assert_eq!(count_cpus("3-1"), None);
        assert_eq!(count_cpus("0-"), None);
        assert_eq!(count_cpus("-1"), None);
        assert_eq!(count_cpus("0-1,4294967295-0"), None);
        assert_eq!(count_cpus("0-4294967295"), None);
    }

    #[test]
    fn this_machine() {
        let m = Machine::now();
        assert!(m.possible_cpus >= 1 && m.online_cpus >= 1);
        assert!(m.online_cpus <= m.possible_cpus);
        assert!(m.realtime_offset_ns() > 0);
    }
}
