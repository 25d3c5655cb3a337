pub mod ckan;
