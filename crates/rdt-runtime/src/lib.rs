//! rdt-runtime
