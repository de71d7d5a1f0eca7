// embed_migrations! does not notice a new migration folder on incremental builds.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
