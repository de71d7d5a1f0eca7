//! `portaria serve`: configuration, database, migrations, then the HTTP server.

use crate::config::Config;
use crate::state::AppState;
use crate::{app, db};
use actix_web::{middleware, App, HttpServer};

pub async fn serve(config: Config) -> Result<(), String> {
    let pool = db::connect(&config.database_url, config.database_pool_size)?;
    let applied = {
        let mut conn = pool.get().map_err(|e| format!("database pool: {e}"))?;
        db::migrate(&mut conn)?
    };
    if !applied.is_empty() {
        log::info!("applied migrations: {}", applied.join(", "));
    }
    let bind = config.bind.clone();
    let cors_origins = config.cors_origins.clone();
    if config.dev {
        log::warn!("dev mode (PORTARIA_ENV=dev): development secrets in use; never run this in production");
    }
    let state = AppState::new(config, pool);
    let server = HttpServer::new(move || {
        App::new()
            .wrap(middleware::Logger::new(r#"%a "%r" %s %b %Dms"#).exclude("/healthz"))
            .wrap(app::cors(&cors_origins))
            .configure(app::configure(state.clone()))
    })
    .bind(&bind)
    .map_err(|e| format!("cannot listen on {bind}: {e}: set PORTARIA_BIND to a free host:port"))?;
    println!("Portaria listening on http://{bind}");
    server.run().await.map_err(|e| format!("server: {e}"))
}
