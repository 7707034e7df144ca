//! USDT probe sites: a uprobe at the site, plus the semaphore (`ref_ctr_offset`) when the probe
//! has one, which the kernel increments in every traced process while the probe is attached —
//! that is what turns on a program's `PROVIDER_NAME_ENABLED()` code paths.

use super::uprobe::{self, Placement};
use super::Link;
use crate::error::RuntimeError;
use rdt_codegen::ProgramMeta;
use rdt_syntax::Diagnostic;
use std::os::fd::BorrowedFd;
use std::path::Path;

const REF_CTR_FORMAT: &str = "/sys/bus/event_source/devices/uprobe/format/ref_ctr_offset";

/// Whether this kernel can set USDT semaphores: `Ok(how)` or `Err(why not)`.
pub fn semaphores_available() -> Result<String, String> {
    if Path::new(REF_CTR_FORMAT).exists() {
        Ok("uprobe ref_ctr_offset".into())
    } else {
        Err("the uprobe PMU has no ref_ctr_offset (kernel < 4.20)".into())
    }
}

pub fn attach(
    prog_fd: BorrowedFd,
    meta: &ProgramMeta,
    path: &str,
    offset: u64,
    semaphore: u64,
    pid: Option<u32>,
) -> Result<Link, RuntimeError> {
    if semaphore != 0 && !Path::new(REF_CTR_FORMAT).exists() {
        return Err(RuntimeError::located(
            Diagnostic::error(meta.probe_span, "this kernel cannot set USDT semaphores")
                .with_label("the probe is guarded by a semaphore")
                .with_help(format!(
                    "the uprobe PMU has no `ref_ctr_offset` ({REF_CTR_FORMAT} is missing; it came \
                 in Linux 4.20), so the program would never take the probe's path"
                )),
        ));
    }
    uprobe::attach(
        prog_fd,
        meta,
        &Placement {
            path,
            offset,
            ret: false,
            ref_ctr_offset: semaphore,
            pid,
        },
    )
}
