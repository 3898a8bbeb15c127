//! Tests of the collapsers against captured-style wire bodies under `tests/wire/`.
