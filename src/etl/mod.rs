//! The ETL: readers turn source files into a [`table::RawTable`], the schema step types
//! and checks it into a [`table::Table`], transforms filter, derive and aggregate, and
//! writers put the published files into a generation.

pub mod read;
pub mod table;
pub mod write;
