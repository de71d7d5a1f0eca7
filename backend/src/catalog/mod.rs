//! The catalog: courses (name, access duration or lifetime, access URL, on sale or not) and product
//! mappings — (source, external product id, optional offer/plan code) → one or more courses.
//!
//! A webhook's product resolves through the mappings: the mapping of its offer, else the product-wide
//! one (no offer code), else the course created automatically for the product the first time it was
//! seen (`product_courses`, which records every product seen; those without a mapping are listed as
//! "sem mapeamento"). A mapped product grants every course of its mapping, each with its own duration
//! (ingest::process). A changed duration applies to grants made from then on. An inactive course is
//! still granted by the products mapped to it (the customer paid for it); the flag is shown in the
//! catalog.

pub mod domain;
pub mod handlers;
pub mod queries;
pub mod views;
