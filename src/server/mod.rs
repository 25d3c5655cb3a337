//! The HTTP server: `pub fn app(state) -> axum::Router`, reading only the files that the
//! current generation's manifest lists.
