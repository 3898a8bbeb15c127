//! Vector databases: an in-memory engine with exact nearest-neighbour search, behind the Qdrant,
//! Pinecone and Chroma APIs.

pub mod engine;
