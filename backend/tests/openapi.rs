//! The committed openapi.yaml is the contract: it must equal what the code generates.

#[test]
fn committed_openapi_yaml_matches_the_code() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../openapi.yaml");
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    let generated = portaria::openapi::yaml();
    if committed != generated {
        if std::env::var("UPDATE_OPENAPI").is_ok() {
            std::fs::write(&path, &generated).unwrap();
            return;
        }
        panic!("openapi.yaml differs from `portaria openapi`: run `make openapi` and commit the result");
    }
}
