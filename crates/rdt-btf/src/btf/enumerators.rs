//! Finding an enumerator by its name (`PIDTYPE_SID`, `SKB_DROP_REASON_NOT_SPECIFIED`), for
//! scripts that use the kernel's enum constants as bpftrace allows.

use super::{Btf, Kind, TypeId};

impl Btf {
    /// The enum type holding the enumerator `name`, and its value; this blob's base first.
    /// A full scan of the enums, done only for identifiers nothing else defines.
    pub fn find_enumerator(&self, name: &str) -> Option<(TypeId, i64)> {
        if let Some(hit) = self.base.and_then(|b| b.find_enumerator(name)) {
            return Some(hit);
        }
        let last = self.last_id().ok()?;
        (self.first_id..=last).find_map(|id| {
            let t = self.ty(id).ok()?;
            if !matches!(t.kind, Kind::Enum | Kind::Enum64) {
                return None;
            }
            let values = t.enum_values(self).ok()?;
            let v = values.iter().find(|v| v.name == name)?;
            Some((id, v.value))
        })
    }
}
