//! The running kernel's BTF: vmlinux, and modules' split BTF loaded the first time a lookup
//! misses in vmlinux. Each blob is read once per process and lives until it exits.

use super::{Btf, BtfError, NameKind, TypeId};
use std::collections::HashMap;
use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, OnceLock};

/// Where the kernel publishes its BTF.
pub fn kernel_btf_dir() -> PathBuf {
    PathBuf::from("/sys/kernel/btf")
}

fn read(path: &Path) -> Result<Vec<u8>, BtfError> {
    std::fs::read(path).map_err(|e| BtfError::Io {
        path: path.display().to_string(),
        message: e.to_string(),
    })
}

/// vmlinux's BTF, read on first use.
pub fn vmlinux() -> Result<&'static Btf, BtfError> {
    static VMLINUX: OnceLock<Result<&'static Btf, BtfError>> = OnceLock::new();
    VMLINUX
        .get_or_init(|| {
            let path = kernel_btf_dir().join("vmlinux");
            let data = super::bytes::map_or_read(&path).map_err(|e| BtfError::Io {
                path: path.display().to_string(),
                message: e.to_string(),
            })?;
            Ok(&*Box::leak(Box::new(Btf::parse_bytes(data, None)?)))
        })
        .clone()
}

/// The names of the modules that publish BTF.
pub fn module_names() -> Vec<String> {
    let Ok(dir) = std::fs::read_dir(kernel_btf_dir()) else {
        return Vec::new();
    };
    let mut names: Vec<String> = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n != "vmlinux")
        .collect();
    names.sort();
    names
}

/// A module's split BTF, read on first use.
pub fn module(name: &str) -> Result<&'static Btf, BtfError> {
    static MODULES: OnceLock<Mutex<HashMap<String, &'static Btf>>> = OnceLock::new();
    let cache = MODULES.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|m| m.get(name).copied()) {
        return Ok(hit);
    }
    let base = vmlinux()?;
    let data = read(&kernel_btf_dir().join(name))?;
    let btf: &'static Btf = Box::leak(Box::new(Btf::parse_split(data, base)?));
    if let Ok(mut m) = cache.lock() {
        m.insert(name.to_string(), btf);
    }
    Ok(btf)
}

/// A type of the running kernel: the blob it lives in and its id there. Two refs are equal when
/// they name the same type of the same blob.
#[derive(Clone, Copy)]
pub struct TypeRef {
    pub btf: &'static Btf,
    pub id: TypeId,
}

impl TypeRef {
    /// Finds a named type in vmlinux, then in each module's BTF.
    pub fn find(kind: NameKind, name: &str) -> Result<Option<TypeRef>, BtfError> {
        let vmlinux = vmlinux()?;
        if let Some(id) = vmlinux.find(kind, name) {
            return Ok(Some(TypeRef { btf: vmlinux, id }));
        }
        for m in module_names() {
            let Ok(btf) = module(&m) else { continue };
            if let Some(id) = btf.find(kind, name) {
                if id >= btf.first_id() {
                    return Ok(Some(TypeRef { btf, id }));
                }
            }
        }
        Ok(None)
    }

    /// Another type of the same blob.
    pub fn with_id(self, id: TypeId) -> TypeRef {
        TypeRef { btf: self.btf, id }
    }

    pub fn name(&self) -> String {
        self.btf.type_name(self.id)
    }
}

impl PartialEq for TypeRef {
    fn eq(&self, other: &TypeRef) -> bool {
        std::ptr::eq(self.btf, other.btf) && self.id == other.id
    }
}

impl Eq for TypeRef {}

impl Hash for TypeRef {
    fn hash<H: Hasher>(&self, state: &mut H) {
        (self.btf as *const Btf as usize).hash(state);
        self.id.hash(state);
    }
}

impl std::fmt::Debug for TypeRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TypeRef({}, `{}`)", self.id, self.name())
    }
}
