//! Reads `catalog/catalog.toml` and `datasets/*/dataset.toml`, strictly.
