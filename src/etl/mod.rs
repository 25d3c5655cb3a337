//! The ETL: readers turn source files into a [`table::RawTable`], the schema step types
//! and checks it, the geometry step makes WGS84 geometries, transforms filter, derive and
//! aggregate, and writers put the published files into a generation.
//! [`pipeline::process`] runs the steps for one recipe.

pub mod geometry;
pub mod pipeline;
pub mod read;
pub mod schema;
pub mod table;
pub mod transform;
pub mod values;
pub mod write;
