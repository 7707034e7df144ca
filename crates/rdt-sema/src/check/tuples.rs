//! Tuples as map values (`@x = (1, "a")`, `@y[k] = (comm, -3)`), as bpftrace stores them: the
//! fields laid out as in a tuple key, printed `(1, a)` (a JSON array in `-f json`).

use crate::ktypes::KernelType;
use crate::Type;

/// Whether a value of type `ty` can be stored in a map: anything but a tuple, or a tuple whose
/// fields are numbers, strings and other such tuples (what a map key may hold, and enums).
pub(super) fn storable_tuple(ty: &Type) -> bool {
    match ty {
        Type::Tuple(fields) => fields.iter().all(|f| match f {
            Type::Tuple(_) => storable_tuple(f),
            Type::Kernel(KernelType::Enum { .. }) => true,
            other => other.is_scalar() || other.prints_as_text(),
        }),
        _ => true,
    }
}
