//! Serves the built single-page app: static files, and `index.html` for any other non-API path
//! so that deep links and reloads work with the history API.

use crate::error::ErrorCode;
use actix_files::{Files, NamedFile};
use actix_web::dev::{fn_service, ServiceRequest, ServiceResponse};
use actix_web::web;
use std::path::{Path, PathBuf};

pub fn configure(dir: PathBuf) -> impl FnOnce(&mut web::ServiceConfig) {
    move |cfg| {
        if !dir.join("index.html").is_file() {
            log::warn!(
                "no frontend build at {} (index.html missing): run `make frontend` or set FRONTEND_DIR",
                dir.display()
            );
            return;
        }
        let index = dir.join("index.html");
        cfg.service(Files::new("/", &dir).index_file("index.html").default_handler(fn_service(
            move |req: ServiceRequest| {
                let index = index.clone();
                async move {
                    let (req, _) = req.into_parts();
                    if looks_like_asset(req.path()) {
                        let res = crate::error::ApiError::not_found(ErrorCode::NotFound, "No such file.");
                        return Ok(ServiceResponse::from_err(res, req));
                    }
                    let file = NamedFile::open(&index)?;
                    let res = file.into_response(&req);
                    Ok(ServiceResponse::new(req, res))
                }
            },
        )));
    }
}

/// Paths with a file extension are assets: a missing one is a 404, not the app shell.
fn looks_like_asset(path: &str) -> bool {
    Path::new(path).extension().is_some()
}

#[cfg(test)]
mod tests {
    #[test]
    fn assets_versus_routes() {
        assert!(super::looks_like_asset("/assets/app.js"));
        assert!(!super::looks_like_asset("/clientes/42"));
        assert!(!super::looks_like_asset("/"));
    }
}
