//! Unit tests for status derivation.
