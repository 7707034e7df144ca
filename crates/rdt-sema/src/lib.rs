//! rdt-sema
