//! Writers: one per published format, each writing a typed [`Table`] to a file.

use super::table::Table;
