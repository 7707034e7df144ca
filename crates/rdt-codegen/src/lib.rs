//! rdt-codegen
