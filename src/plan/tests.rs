//! Unit tests for plan loading and validation.
