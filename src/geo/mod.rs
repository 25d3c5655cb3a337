//! CRS registry and transformations to WGS84, geometry validation and repair, extents.
