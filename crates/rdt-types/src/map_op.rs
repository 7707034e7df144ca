//! Operations on a whole map that user space performs when it reads their record.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapOp {
    Clear,
    Zero,
    /// Print the map now; `top` keeps the largest N entries, `div` divides values.
    Print {
        top: u64,
        div: u64,
    },
    /// D `trunc(@a, n)`: keep the top `n` entries, or the bottom `-n` when `n` is negative (all
    /// are removed without `n`).
    Trunc {
        keep: Option<i64>,
    },
    /// D `normalize(@a, n)`: later prints divide values by `n`; `denormalize` undoes it.
    Normalize {
        factor: u64,
    },
}
