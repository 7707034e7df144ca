//! rdt-btf
