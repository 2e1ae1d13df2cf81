//! Layer 0, the base: words and small grammars every layer above uses (errors, text, names,
//! versions, image references, source locations, the generated-file header, hashing). It
//! imports nothing of deploygen's.

pub mod error;
pub mod generated;
pub mod gitignore;
pub mod gitindex;
pub mod image;
pub mod locate;
pub mod names;
pub mod par;
pub mod sha256;
pub mod suggest;
pub mod text;
pub mod version;
